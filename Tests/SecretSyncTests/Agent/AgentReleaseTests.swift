import JSONValue
import KubeAPI
import KubeEmulator
import Testing

@testable import SecretSync
import TestSupport

/// An agent given names that another release's objects carry (a second release installed with
/// the fixed names, or copied flags): it takes over neither that release's keys nor its signers.
@Suite(.serialized) struct AgentReleaseTests {
    func marked(_ name: String, release: String, data: JSON = [:]) -> JSON {
        [
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": [
                "name": .string(name), "namespace": "default",
                "labels": [
                    "app.kubernetes.io/instance": .string(release), "app.kubernetes.io/managed-by": "Helm",
                ],
                "annotations": [
                    "meta.helm.sh/release-name": .string(release),
                    "meta.helm.sh/release-namespace": "default",
                ],
            ],
            "data": data,
        ]
    }

    @Test func anotherReleasesPublicKeysAreNeverTakenOver() async throws {
        try await withStarted(try await AgentHarness.start()) { harness in
            // The public keys under this agent's names belong to the release beluga-ai-canary.
            let published = marked(
                harness.names.publicKeyConfigMap, release: "beluga-ai-canary",
                data: ["current": "0123456789abcdef"])
            try await harness.fixture.emulator.put(published)
            let running = harness.startAgent()
            try await eventually("the agent says whose keys they are") {
                harness.log.text.contains("belongs to release beluga-ai-canary, not beluga-ai")
            }
            await running.stop()
            #expect(try await harness.object("secrets", harness.names.sealingKeySecret) == nil)
            let after = try await harness.object("configmaps", harness.names.publicKeyConfigMap)
            #expect(after?["data"] == published["data"])
            let records = await running.sink.records()
            #expect(!records.contains { $0.event == .sealingKeyCreated })
        }
    }

    @Test func anotherReleasesSignersAreNotRead() async throws {
        try await withStarted(try await AgentHarness.start()) { harness in
            try await harness.fixture.emulator.put(marked(harness.names.signers, release: "beluga-ai-canary"))
            // Required signatures cannot be checked without the release's own signers: it stops.
            let running = harness.startAgent(signatures: .required)
            try await eventually("the agent refuses the other release's signers") {
                harness.log.text.contains(
                    "ConfigMap \(harness.names.signers) belongs to release beluga-ai-canary, not beluga-ai")
            }
            await running.stop()
        }
    }
}

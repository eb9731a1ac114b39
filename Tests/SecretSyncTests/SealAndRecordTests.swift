import Foundation
import JSONValue
import KubeAPI
import KubeEmulator
import Sealing
import Testing

@testable import SecretSync
import TestSupport

/// The workstation's seal-and-record workflow, in process against the emulator: one version and
/// one time for the envelope and its record, and the report written to a captured sink.
struct SealAndRecordTests {
    func workspace(_ fixture: EmulatorFixture) throws -> Workspace {
        let client = try KubeClient(
            options: ClientConfiguration.Options(kubeconfig: fixture.kubeconfigPath, environment: [:]))
        return Workspace(
            client: client, namespace: "default", names: ObjectNames(), server: fixture.emulator.url)
    }

    @Test func theEnvelopeAndItsRecordShareOneVersionAndOneTime() async throws {
        try await withEmulator { fixture in
            let workspace = try workspace(fixture)
            let agentKey = SealingKeyPair.generate()
            let signer = SigningKeyPair.generate()
            let output = CapturedOutput()
            let workflow = SealAndRecord(workspace: workspace, key: "openai-api-key", output: output)

            let first = try await workflow.run(
                SecureBytes(Array("first".utf8)), to: agentKey.publicKey, by: "alice", signer: nil,
                mustExist: false, dryRun: false, waiting: false)
            let second = try await workflow.run(
                SecureBytes(Array("second".utf8)), to: agentKey.publicKey, by: "alice", signer: signer,
                mustExist: true, dryRun: false, waiting: true)
            #expect(first.recorded.version == 1)
            #expect(second.recorded.version == 2)

            let object = try #require(
                try await fixture.emulator.object(
                    "configmaps", namespace: "default", name: "beluga-ai-secrets-sealed"))
            let store = try SealedStore(configMap: object)
            let text = try #require(store.envelopes["openai-api-key"])
            let binding = try SecretBinding(
                namespace: "default", secret: "beluga-ai-secrets", key: "openai-api-key")
            let payload = try Envelope.parse(text).open(with: agentKey, expecting: binding)
            let record = try #require(store.versions["openai-api-key"])
            #expect(payload.version == record.version)
            #expect(payload.sealedAt == record.sealedAt)
            #expect(record.sealedAt == second.recorded.sealedAt)
            #expect(record.fingerprint == second.recorded.fingerprint)

            let lines = output.text.split(separator: "\n").map(String.init)
            #expect(lines.count == 2)
            #expect(lines[0].hasPrefix("openai-api-key: version 1 sealed to kid \(agentKey.keyID)"))
            #expect(lines[0].hasSuffix("the agent will apply it"))
            #expect(lines[1].contains("version 2") && lines[1].contains("signed by \(signer.signerID)"))
            #expect(lines[1].hasSuffix("waiting for the agent"))
            #expect(!output.text.contains("first") && !output.text.contains("second"))
        }
    }

    @Test func rotatingAKeyTheStoreDoesNotHoldIsRefusedAndWritesNothing() async throws {
        try await withEmulator { fixture in
            let output = CapturedOutput()
            let workflow = SealAndRecord(workspace: try workspace(fixture), key: "missing", output: output)
            await #expect(throws: ChangeError.self) {
                _ = try await workflow.run(
                    SecureBytes(Array("v".utf8)), to: SealingKeyPair.generate().publicKey, by: "alice",
                    signer: nil, mustExist: true, dryRun: false, waiting: false)
            }
            #expect(output.text.isEmpty)
            #expect(
                try await fixture.emulator.object(
                    "configmaps", namespace: "default", name: "beluga-ai-secrets-sealed")
                    == nil)
        }
    }
}

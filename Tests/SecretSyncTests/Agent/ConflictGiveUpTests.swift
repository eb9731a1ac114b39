import Foundation
import JSONValue
import KubeAPI
import KubeEmulator
import Metrics
import MetricsTestKit
import Sealing
import Testing

@testable import SecretSync
import TestSupport

/// Writes of the agent whose conflicts outlast its retries: never a silent give-up, but a Warning
/// Event on the object, a metric, and the namespace tried again until the write succeeds.
@Suite(.serialized) struct ConflictGiveUpTests {
    /// The process's metrics, recorded in memory (the test process bootstraps no other backend).
    static let metrics: TestMetrics = {
        let metrics = TestMetrics()
        MetricsSystem.bootstrap(metrics)
        return metrics
    }()

    func persisted(_ kind: String) -> Int64 {
        Self.metrics.counters(
            label: "beluga_secrets_conflicts_persisted_total",
            dimensions: [("namespace", "default"), ("kind", kind)]
        ).reduce(0) { $0 + $1.totalValue }
    }

    /// Answers the next `count` updates of ConfigMap `name` with 409 Conflict: more than one
    /// round of the agent's retries (8 attempts) can absorb.
    func conflicts(_ harness: AgentHarness, configMap name: String, count: Int = 20) {
        harness.fixture.emulator.faults.update {
            $0.errors = [
                FaultPlan.ErrorFault(
                    code: 409, count: count,
                    match: FaultPlan.Match(verbs: ["update"], resources: ["configmaps"], names: [name]))
            ]
        }
    }

    func expectConflictEvent(_ harness: AgentHarness, about name: String) async throws {
        try await eventually("a ConflictPersisted Event names ConfigMap \(name)") {
            try await harness.events(reason: "ConflictPersisted").contains {
                $0[path: "involvedObject", "name"]?.stringValue == name
                    && $0["type"]?.stringValue == "Warning"
            }
        }
    }

    @Test func publishingThePublicKeysOutlastsConflictsAndIsReported() async throws {
        _ = Self.metrics
        try await withStarted(try await AgentHarness.start()) { harness in
            let running = harness.startAgent()
            _ = try await harness.publicKey()
            try await harness.waitForFirstCheck()
            let name = harness.names.publicKeyConfigMap
            let published = try #require(try await harness.object("configmaps", name))
            let before = persisted("ConfigMap")

            // A hand edit of the published keys, which the agent writes back; its writes conflict.
            conflicts(harness, configMap: name)
            var edited = published
            edited["data"] = ["sealing.pub": "edited by hand"]
            try await harness.fixture.emulator.put(edited)

            try await expectConflictEvent(harness, about: name)
            #expect(persisted("ConfigMap") > before)
            try await eventually("the agent writes its public keys back once the conflicts end") {
                try await harness.object("configmaps", name)?["data"] == published["data"]
            }
            await running.stop()
        }
    }

    @Test func reSealingOutlastsConflictsAndIsReported() async throws {
        _ = Self.metrics
        try await withStarted(try await AgentHarness.start()) { harness in
            let running = harness.startAgent()
            let first = try await harness.publicKey()
            try await harness.store(key: "k", envelope: harness.seal("value", key: "k", to: first))
            try await eventually("applied") { try await harness.secretValue("k") == "value" }
            let before = persisted("ConfigMap")

            // The re-seal replaces the sealed store; its writes conflict.
            conflicts(harness, configMap: harness.names.sealedStore)
            let outcome = try await SealingKeyRotation.request(
                client: harness.client, namespace: "default", configMap: harness.names.publicKeyConfigMap,
                timeout: .seconds(60))

            try await expectConflictEvent(harness, about: harness.names.sealedStore)
            #expect(persisted("ConfigMap") > before)
            try await eventually("the stored envelope is re-sealed to the new key once the conflicts end") {
                let text = try await harness.store().envelopes["k"]
                return text.flatMap { try? Envelope.parse($0) }?.keyID.hex == outcome.current.kid
            }
            #expect(try await harness.secretValue("k") == "value")
            await running.stop()
        }
    }
}

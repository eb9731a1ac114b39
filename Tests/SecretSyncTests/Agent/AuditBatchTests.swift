import JSONValue
import KubeAPI
import KubeEmulator
import Sealing
import Testing

@testable import SecretSync
import TestSupport

/// Many changes in one reconcile go out as several audit batches, each stored with the audit
/// head before it is printed. A batch that cannot be stored must not lose its records.
@Suite(.serialized) struct AuditBatchTests {
    /// 100 keys in one write of the sealed store make two batches (64 lines at most each); the
    /// status object's second write fails once. Every key still gets its one `secret.created`
    /// record: the keys of the failed batch keep their old status, so the retry records them.
    @Test func aFailedLaterBatchLosesNoRecord() async throws {
        try await withStarted(try await AgentHarness.start()) { harness in
            let running = harness.startAgent()
            let key = try await harness.publicKey()
            try await harness.waitForFirstCheck()
            let count = AuditHead.maximumLines + 36
            var markers = LeakMarkers()
            var envelopes: [String: String] = [:]
            var expected: [String: String] = [:]
            for index in 0..<count {
                let name = "api-key-\(index)"
                let value = markers.make("bulk-\(index)")
                expected[name] = value
                envelopes[name] = try harness.seal(value, key: name, to: key)
            }
            // The first write of the status after this point goes through (the first batch);
            // the second (the next batch) is answered with a 500, which the agent does not repeat
            // by itself (a write is not retried blindly): the namespace is reconciled again.
            harness.fixture.emulator.faults.update {
                $0.errors = [
                    FaultPlan.ErrorFault(
                        code: 500, count: 1, skip: 1,
                        match: FaultPlan.Match(
                            verbs: ["update"], resources: ["configmaps"], names: [harness.names.status]))
                ]
            }
            try await harness.storeAll(envelopes)

            try await eventually("every key has its created record") {
                Set(await running.sink.records().filter { $0.event == .secretCreated }.map(\.key))
                    == Set(expected.keys)
            }
            #expect(harness.fixture.emulator.faults.plan.errors.first?.count == 0, "the fault fired")
            let created = await running.sink.records().filter { $0.event == .secretCreated }
            #expect(created.count == count, "one record per key, none twice")
            for (name, value) in expected {
                #expect(try await harness.secretValue(name) == value)
            }
            let status = try await harness.status()
            #expect(expected.keys.allSatisfy { status.keys[$0]?.state == .applied })
            await running.stop()
        }
    }
}

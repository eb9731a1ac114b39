import Foundation
import JSONValue
import KubeEmulator
import Testing
import TestSupport

extension ReliabilityTests {
    /// An API server that fails a fifth of all requests (429, 500, 503) and drops every watch
    /// after a few seconds, while keys rotate one after the other.
    @Suite struct Faults {
        /// 20% of requests fail, a third each with 429, 500 and 503 (errors are tried in order,
        /// so each share is of the requests the ones before let through).
        static func faultPlan() -> FaultPlan {
            let each = 0.2 / 3
            return FaultPlan(
                errors: [
                    FaultPlan.ErrorFault(code: 429, share: each, retryAfterSeconds: 0),
                    FaultPlan.ErrorFault(code: 500, share: each / (1 - each)),
                    FaultPlan.ErrorFault(code: 503, share: each / (1 - 2 * each), retryAfterSeconds: 0),
                ],
                dropWatchAfterSeconds: 3)
        }

        @Test func rotationsUnderFailingRequestsAndDroppedWatchesConvergeWithOneRolloutEach() async throws {
            let rounds = Scale.current.faultRotations
            try await withCluster { cluster in
                // Watches drop from the start: the emulator sets a watch's end when it opens.
                cluster.fixture.emulator.faults.plan = FaultPlan(dropWatchAfterSeconds: 3)
                let agent = try cluster.startAgent()
                try await cluster.waitForPublicKey()
                let keys = ["openai-api-key", "anthropic-api-key", "cohere-api-key"]
                var current: [String: String] = [:]
                for key in keys { current[key] = cluster.marker("\(key)-initial") }
                for result in try await cluster.runAll(keys.map { (["set", $0], current[$0]) }) {
                    expectSuccess(result)
                }
                try await eventually("the first values are applied") {
                    try await cluster.secretValues() == current
                }
                try await cluster.waitForCurrentHash()
                let rolloutsBefore = await cluster.rollouts()
                let observer = SecretObserver(cluster: cluster, allowed: current.mapValues { [$0] })

                let watchesBefore = cluster.fixture.emulator.requestCounts().count(
                    verb: "watch", user: ReliabilityCluster.agentUser, code: 200)
                cluster.fixture.emulator.faults.plan = Self.faultPlan()
                var versions: [String: [Int]] = [:]
                var refused: [ProcessResult] = []
                for round in 0..<rounds {
                    let key = keys[round % keys.count]
                    let value = cluster.marker("\(key)-\(round)")
                    observer.allow(value, for: key)
                    // An operator tries again when the CLI gives up (after its own retries).
                    var attempt = 0
                    while true {
                        attempt += 1
                        let result = try await cluster.run(["rotate", key], stdin: value)
                        if result.status == 0 {
                            versions[key, default: []].append(try #require(reportedVersion(result.stdout)))
                            break
                        }
                        refused.append(result)
                        try #require(attempt < 8, "rotate kept failing: \(result.stderr)")
                    }
                    current[key] = value
                    try await eventually("round \(round): the agent applies \(key)") {
                        try await cluster.secretValues()[key] == value
                    }
                    try await cluster.waitForCurrentHash()
                }
                let counts = cluster.fixture.emulator.requestCounts()
                cluster.fixture.emulator.faults.reset()

                // The faults did happen, to the agent as to the CLI.
                let agentUser = ReliabilityCluster.agentUser
                for code in [429, 500, 503] {
                    #expect(counts.count(user: agentUser, code: code) > 0, "the agent never got a \(code)")
                }
                // Dropped watches were started again (each watched object is watched once while
                // no watch drops, so many more watch requests mean many drops).
                let watches = counts.count(verb: "watch", user: agentUser, code: 200)
                #expect(
                    watches - watchesBefore >= rounds / 4, "\(watches - watchesBefore) watches started again")
                // A CLI that gave up said so in one line with a documented exit code.
                for result in refused {
                    #expect([3, 5].contains(result.status), "exit \(result.status): \(result.stderr)")
                    #expect(
                        result.stderr.split(separator: "\n").filter { $0.hasPrefix("error: ") }.count == 1)
                }

                // Converged: the last values, each recorded as applied at its last version.
                #expect(try await cluster.secretValues() == current)
                try await cluster.waitForAppliedStatus(of: keys)
                let status = try await cluster.syncStatus()
                for key in keys {
                    #expect(status[key]?["state"] == "applied")
                    #expect(status[key]?["version"]?.intValue == versions[key]?.last)
                }
                // One rollout per rotation (each was its own debounced batch), and every rollout
                // of the Deployment (the first hash included) has its record.
                let rollouts = await cluster.rollouts()
                #expect(rollouts - rolloutsBefore == rounds)
                try await eventually("every rollout is in the audit trail") {
                    cluster.auditRecords([agent]).filter { $0["event"] == "rollout.triggered" }.count
                        >= rollouts
                }
                #expect(
                    cluster.auditRecords([agent]).filter { $0["event"] == "rollout.triggered" }.count
                        == rollouts)
                // No rotation lost: every version written is in the audit trail, once.
                let records = cluster.auditRecords([agent])
                for key in keys {
                    let rotated = records.filter {
                        $0["key"]?.stringValue == key && $0["event"] == "secret.rotated"
                    }
                    .compactMap { $0["version"]?.intValue }
                    #expect(
                        rotated == versions[key], "\(key): applied \(rotated), written \(versions[key] ?? [])"
                    )
                }
                let seen = observer.stop()
                #expect(seen.foreign.isEmpty, "the Secret held a value nobody wrote: \(seen.foreign)")

                let (audit, document) = try await cluster.verifyAudit([agent])
                expectSuccess(audit)
                #expect(document[path: "verification", "complete"] == true, "\(audit.stdout)")
                #expect(await cluster.health(agent).status == 200)
                try await cluster.expectNoLeaks()
            }
        }
    }
}

import Foundation
import JSONValue
import SecretSync
import Testing
import TestSupport
import TimeFormat

extension ReliabilityTests {
    /// Two agents; the leader killed while a stream of rotations is being written, again and
    /// again. (One takeover with one change is in CLITests' AgentProcessTests; here many changes
    /// are pending at the kill, and more arrive while no one leads.)
    @Suite struct Failover {
        @Test func theStandbyTakesOverWithinTheLeaseAndAppliesEveryPendingRotation() async throws {
            let failovers = Scale.current.failovers
            let leaseSeconds = ReliabilityCluster.leaseSeconds
            try await withCluster { cluster in
                var agents = ["agent-a": try cluster.startAgent(identity: "agent-a")]
                try await cluster.waitForPublicKey()
                try await eventually("agent-a leads") { try await cluster.leaseHolder() == "agent-a" }
                agents["agent-b"] = try cluster.startAgent(identity: "agent-b")
                var runs = [agents["agent-a"], agents["agent-b"]].compactMap { $0 }

                let keys = (0..<20).map { String(format: "key-%02d", $0) }
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
                var versions: [String: Int] = keys.reduce(into: [:]) { $0[$1] = 1 }
                var rotations = 0

                for round in 0..<failovers {
                    let leader = try await cluster.leaseHolder()
                    let standby = leader == "agent-a" ? "agent-b" : "agent-a"
                    try #require(agents[leader] != nil, "the lease names \(leader)")

                    func start(_ batch: ArraySlice<String>) throws -> [(String, String, LoggedProcess)] {
                        try batch.map { key in
                            let value = cluster.marker("\(key)-\(round)")
                            return (key, value, try cluster.startCLI(["rotate", key], stdin: value))
                        }
                    }
                    // Mid-stream: the first rotations are being written when the leader dies;
                    // the rest are written while no one leads.
                    let before = try start(keys[0..<10])
                    try await eventually("a first rotation is stored") {
                        before.contains { !$0.2.isRunning }
                    }
                    let dead = try #require(agents[leader])
                    await dead.killNow()
                    let lastRenew = try #require(
                        (try await cluster.object("leases", "beluga-secrets-agent"))?[
                            path: "spec", "renewTime"]?
                            .stringValue.flatMap(RFC3339.parse), "the lease has a renew time")
                    let after = try start(keys[10..<20])
                    for (key, value, process) in before + after {
                        let result = try await cluster.finish([process])[0]
                        expectSuccess(result)
                        let version = try #require(reportedVersion(result.stdout))
                        versions[key] = version
                        current[key] = value
                        rotations += 1
                    }

                    try await eventually("\(standby) takes the lease") {
                        try await cluster.leaseHolder() == standby
                    }
                    let lease = try #require(try await cluster.object("leases", "beluga-secrets-agent"))
                    let acquired = try #require(
                        lease[path: "spec", "acquireTime"]?.stringValue.flatMap(RFC3339.parse))
                    let waited = (acquired - lastRenew).inSeconds
                    // Not before the lease ran out (no two leaders), and soon after (one retry
                    // period, plus slack for a loaded machine). Both times are taken when an
                    // attempt starts, before its request, as client-go takes them: a slow request
                    // makes the written acquireTime earlier than the decision by its latency.
                    #expect(waited >= leaseSeconds - 0.75, "took over \(waited) s after the last renewal")
                    #expect(waited <= leaseSeconds + 15, "took over \(waited) s after the last renewal")

                    try await eventually("\(standby) applies every pending rotation") {
                        try await cluster.secretValues() == current
                    }
                    try await cluster.waitForAppliedStatus(of: keys)
                    #expect(try await cluster.sealedVersions() == versions)
                    // What arrived while no one led was applied by the standby, and recorded by it.
                    let standbyProcess = try #require(agents[standby])
                    _ = await standbyProcess.waitForOutput { output in
                        keys[10..<20].allSatisfy { output.contains("\"key\":\"\($0)\"") }
                    }
                    let records = cluster.auditRecords([standbyProcess])
                    for key in keys[10..<20] {
                        #expect(
                            records.contains {
                                $0["key"]?.stringValue == key && $0["event"] == "secret.rotated"
                                    && $0["version"]?.intValue == versions[key]
                                    && $0["agent"]?.stringValue == standby
                            }, "\(standby) did not record \(key) v\(versions[key] ?? 0)")
                    }
                    #expect(await cluster.health(standbyProcess, "/readyz").body.contains("leading"))

                    // The dead one comes back (as the kubelet restarts it) and stands by.
                    let restarted = try cluster.startAgent(identity: leader)
                    agents[leader] = restarted
                    runs.append(restarted)
                    try await eventually("the restarted \(leader) stands by") {
                        await cluster.health(restarted, "/readyz").body.contains("standing by")
                    }
                }
                try await cluster.waitForCurrentHash()
                let rollouts = await cluster.rollouts() - rolloutsBefore
                #expect(
                    rollouts >= failovers && rollouts <= rotations,
                    "\(rollouts) rollouts, \(rotations) rotations")

                let (audit, document) = try await cluster.verifyAudit(runs)
                expectSuccess(audit)
                #expect(document[path: "verification", "complete"] == true, "\(audit.stdout)")
                for agent in agents.values { #expect(await cluster.health(agent).status == 200) }
                try await cluster.expectNoLeaks()
            }
        }
    }
}

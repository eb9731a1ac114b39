import Foundation
import JSONValue
import Testing
import TestSupport

extension ReliabilityTests {
    /// The agent killed with SIGKILL at random moments while keys rotate, and started again each
    /// time (as the kubelet restarts a container).
    @Suite struct Crashes {
        @Test func anAgentKilledAtRandomMomentsConvergesWithNoHalfWrittenValueAndAVerifiableChain()
            async throws
        {
            let kills = Scale.current.crashKills
            try await withCluster { cluster in
                var runs = [try cluster.startAgent(identity: "agent-a")]
                try await cluster.waitForPublicKey()
                let keys = ["openai-api-key", "anthropic-api-key"]
                var current: [String: String] = [:]
                var fingerprints: [String: [Int: String]] = [:]
                for key in keys {
                    let value = cluster.marker("\(key)-initial")
                    let result = try await cluster.run(["set", key], stdin: value)
                    expectSuccess(result)
                    current[key] = value
                    fingerprints[key, default: [:]][1] = reportedFingerprint(result.stdout)
                }
                try await eventually("the first values are applied") {
                    try await cluster.secretValues() == current
                }
                try await cluster.waitForCurrentHash()
                let rolloutsBefore = await cluster.rollouts()
                let observer = SecretObserver(cluster: cluster, allowed: current.mapValues { [$0] })
                var rotations = 0

                /// Rotates `key`, returns the CLI's result; the value becomes the desired one.
                func rotate(_ key: String, label: String) throws -> (LoggedProcess, String) {
                    let value = cluster.marker("\(key)-\(label)")
                    observer.allow(value, for: key)
                    return (try cluster.startCLI(["rotate", key], stdin: value), value)
                }
                func record(_ key: String, _ value: String, _ result: ProcessResult) throws {
                    expectSuccess(result)
                    let version = try #require(reportedVersion(result.stdout))
                    fingerprints[key, default: [:]][version] = reportedFingerprint(result.stdout)
                    current[key] = value
                    rotations += 1
                }

                for round in 0..<kills {
                    let key = keys[round % keys.count]
                    let (cli, value) = try rotate(key, label: "\(round)")
                    // The kill lands anywhere: while the agent starts, reads, writes the Secret,
                    // persists its audit head, prints, or patches the Deployment.
                    try await Task.sleep(for: .milliseconds(Int.random(in: 0...900)))
                    let agent = runs[runs.count - 1]
                    await agent.killNow()
                    #expect(agent.wasSignalled)
                    try record(key, value, try await cluster.finish([cli])[0])
                    runs.append(try cluster.startAgent(identity: "agent-a"))
                }
                try await eventually("the agent converges after \(kills) kills") {
                    try await cluster.secretValues() == current
                }

                // Another replica (agent-b) leads for two changes and is killed; agent-a takes
                // over again. Its log will be left out below to show how a gap is reported.
                await runs[runs.count - 1].killNow()
                runs.append(try cluster.startAgent(identity: "agent-b"))
                let agentB = runs.count - 1
                for key in keys {
                    let (cli, value) = try rotate(key, label: "agent-b")
                    try record(key, value, try await cluster.finish([cli])[0])
                    try await eventually("agent-b applies \(key)") {
                        try await cluster.secretValues()[key] == value
                    }
                }
                _ = await runs[agentB].waitForOutput {
                    $0.components(separatedBy: "\"agent\":\"agent-b\"").count > 2
                }
                await runs[agentB].killNow()
                runs.append(try cluster.startAgent(identity: "agent-a"))
                let (cli, value) = try rotate(keys[0], label: "final")
                try record(keys[0], value, try await cluster.finish([cli])[0])

                try await eventually("the agent converges") { try await cluster.secretValues() == current }
                try await cluster.waitForAppliedStatus(of: keys)
                let status = try await cluster.syncStatus()
                let versions = try await cluster.sealedVersions()
                for key in keys {
                    #expect(status[key]?["state"] == "applied")
                    #expect(status[key]?["version"]?.intValue == versions[key])
                }
                try await cluster.waitForCurrentHash()
                let seen = observer.stop()
                #expect(seen.foreign.isEmpty, "the Secret held a value nobody wrote: \(seen.foreign)")
                #expect(seen.reads > 0)
                // Restarts roll nothing out by themselves: at most one rollout per rotation.
                let rollouts = await cluster.rollouts() - rolloutsBefore
                #expect(
                    rollouts >= 1 && rollouts <= rotations, "\(rollouts) rollouts for \(rotations) rotations")

                // Every value the agents recorded is the one written for that version, and the
                // versions applied only ever increase.
                // A restarted agent prints the head's last records again, so wait for the record
                // of each key's last version itself (an agent prints it after the status).
                let final = runs[runs.count - 1]
                try await eventually("every key's last version is recorded") {
                    let printed = cluster.auditRecords(runs)
                    return keys.allSatisfy { key in
                        printed.contains {
                            $0["key"]?.stringValue == key && $0["version"]?.intValue == versions[key]
                                && ($0["event"] == "secret.rotated" || $0["event"] == "secret.created")
                        }
                    }
                }
                _ = await final.waitForOutput { $0.contains("rollout.triggered") }
                let records = cluster.auditRecords(runs)
                for key in keys {
                    let applied = records.filter {
                        $0["key"]?.stringValue == key
                            && ($0["event"] == "secret.rotated" || $0["event"] == "secret.created")
                    }
                    let appliedVersions = applied.compactMap { $0["version"]?.intValue }
                    #expect(
                        zip(appliedVersions, appliedVersions.dropFirst()).allSatisfy { $0 < $1 },
                        "\(appliedVersions)")
                    #expect(appliedVersions.last == versions[key])
                    for record in applied {
                        let version = record["version"]?.intValue ?? 0
                        #expect(
                            record["fingerprint"]?.stringValue == fingerprints[key]?[version],
                            "\(key) v\(version)")
                    }
                }

                // With every log, the chain is complete: each restart printed the head again.
                let (audit, document) = try await cluster.verifyAudit(runs)
                expectSuccess(audit)
                #expect(document[path: "verification", "complete"] == true, "\(audit.stdout)")
                // Without agent-b's log, the missing records are reported as a gap (exit 0).
                var withoutB = runs
                withoutB.remove(at: agentB)
                let (gapped, gappedDocument) = try await cluster.verifyAudit(withoutB)
                expectSuccess(gapped)
                #expect(gappedDocument[path: "verification", "intact"] == true)
                #expect(gappedDocument[path: "verification", "complete"] == false)
                let findings = gappedDocument[path: "verification", "findings"]?.arrayValue ?? []
                #expect(!findings.isEmpty && findings.allSatisfy { $0["severity"] == "gap" }, "\(findings)")
                let path = cluster.logs.file("without-agent-b.log")
                try cluster.joinedLog(withoutB).write(toFile: path, atomically: true, encoding: .utf8)
                let table = try await cluster.run(["audit", "--verify", "--file", path])
                expectSuccess(table)
                #expect(table.stdout.contains("verified with gaps"))
                #expect(table.stdout.contains("GAP: namespace default:"))

                #expect(await cluster.health(final).status == 200)
                try await cluster.expectNoLeaks()
            }
        }
    }
}

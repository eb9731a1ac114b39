import Foundation
import JSONValue
import Testing
import TestSupport

extension ReliabilityTests {
    /// Many workstations writing the sealed store at the same moment: every writer's change
    /// lands, once, and the one that wrote last wins.
    @Suite struct Concurrency {
        @Test func fiftySetsAtOnceForDistinctKeysAllLandAndAreEachAuditedOnce() async throws {
            let count = Scale.current.concurrentSets
            try await withCluster { cluster in
                let agent = try cluster.startAgent()
                try await cluster.waitForPublicKey()
                var values: [String: String] = [:]
                for index in 0..<count { values["key-\(index)"] = cluster.marker("concurrent-\(index)") }
                let keys = values.keys.sorted()

                let results = try await cluster.runAll(keys.map { (["set", $0], values[$0]) })
                for (key, result) in zip(keys, results) {
                    expectSuccess(result)
                    #expect(reportedVersion(result.stdout) == 1, "\(key): \(result.stdout)")
                }

                try await eventually("the Secret holds all \(count) values") {
                    try await cluster.secretValues() == values
                }
                let versions = try await cluster.sealedVersions()
                #expect(versions == values.mapValues { _ in 1 })
                try await eventually("the agent records every key as applied") {
                    let status = try await cluster.syncStatus()
                    return keys.allSatisfy {
                        status[$0]?["state"] == "applied" && status[$0]?["version"] == 1
                    }
                }
                try await cluster.waitForCurrentHash()

                // Each key exactly once in the audit trail, and the chain verifies.
                try await eventually("the agent prints a record for every key") {
                    cluster.auditRecords([agent]).filter { $0["event"] == "secret.created" }.count >= count
                }
                let (audit, document) = try await cluster.verifyAudit([agent])
                expectSuccess(audit)
                #expect(document[path: "verification", "complete"] == true, "\(audit.stdout)")
                let records = document["records"]?.arrayValue ?? []
                for key in keys {
                    let changes = records.filter {
                        $0["key"]?.stringValue == key && $0["event"] != "rollout.triggered"
                    }
                    #expect(changes.count == 1, "\(key): \(changes.count) records")
                    #expect(changes.first?["event"] == "secret.created")
                    #expect(changes.first?["version"] == 1)
                }
                #expect(await cluster.health(agent).status == 200)
                try await cluster.expectNoLeaks()
            }
        }

        @Test func tenRotationsOfOneKeyAtOnceTheLastWriterWinsAndVersionsStrictlyIncrease() async throws {
            let count = Scale.current.concurrentRotations
            try await withCluster { cluster in
                let agent = try cluster.startAgent()
                try await cluster.waitForPublicKey()
                let initial = cluster.marker("initial")
                expectSuccess(try await cluster.run(["set", "shared-key"], stdin: initial))
                try await eventually("the first value is applied") {
                    try await cluster.secretValues()["shared-key"] == initial
                }
                let rotations = (0..<count).map { cluster.marker("rotation-\($0)") }
                let observer = SecretObserver(
                    cluster: cluster, allowed: ["shared-key": Set(rotations + [initial])])

                let results = try await cluster.runAll(rotations.map { (["rotate", "shared-key"], $0) })
                var byVersion: [Int: (value: String, fingerprint: String?)] = [:]
                for (value, result) in zip(rotations, results) {
                    expectSuccess(result)
                    let version = try #require(reportedVersion(result.stdout), "\(result.stdout)")
                    #expect(byVersion[version] == nil, "two writers got version \(version)")
                    byVersion[version] = (value, reportedFingerprint(result.stdout))
                }
                // Every writer got its own version: 2…count+1, none lost, none shared.
                #expect(byVersion.keys.sorted() == Array(2...(count + 1)))
                let last = try #require(byVersion[count + 1])

                try await eventually("the last writer's value is applied") {
                    try await cluster.secretValues()["shared-key"] == last.value
                }
                try await eventually("the agent records the last version as applied") {
                    let status = try await cluster.syncStatus()["shared-key"]
                    return status?["state"] == "applied" && status?["version"] == .int(count + 1)
                }
                try await cluster.waitForCurrentHash()
                let seen = observer.stop()
                #expect(seen.foreign.isEmpty, "the Secret held a value nobody wrote")
                #expect(seen.reads > 0)

                // The store: the last version and its fingerprint, the three before it kept.
                let store = try await cluster.storeAnnotation("beluga-ai.io/sealed-versions")["shared-key"]
                #expect(store?["version"] == .int(count + 1))
                #expect(store?["fingerprint"]?.stringValue == last.fingerprint)
                let history = store?["history"]?.arrayValue ?? []
                #expect(history.compactMap { $0["version"]?.intValue } == [count, count - 1, count - 2])
                for entry in history {
                    let version = entry["version"]?.intValue ?? 0
                    #expect(entry["fingerprint"]?.stringValue == byVersion[version]?.fingerprint)
                }

                // The audit trail: the versions the agent applied only ever increase, each with
                // the fingerprint its writer reported, ending with the last one.
                _ = await agent.waitForOutput { $0.contains("\"version\":\(count + 1)") }
                let applied = cluster.auditRecords([agent]).filter {
                    $0["key"] == "shared-key"
                        && ($0["event"] == "secret.rotated" || $0["event"] == "secret.created")
                }
                let appliedVersions = applied.compactMap { $0["version"]?.intValue }
                #expect(appliedVersions.first == 1)
                #expect(appliedVersions.last == count + 1)
                #expect(
                    zip(appliedVersions, appliedVersions.dropFirst()).allSatisfy { $0 < $1 },
                    "\(appliedVersions)")
                for record in applied.dropFirst() {
                    let version = record["version"]?.intValue ?? 0
                    #expect(record["fingerprint"]?.stringValue == byVersion[version]?.fingerprint)
                }
                let (audit, document) = try await cluster.verifyAudit([agent])
                expectSuccess(audit)
                #expect(document[path: "verification", "complete"] == true)
                try await cluster.expectNoLeaks()
            }
        }
    }
}

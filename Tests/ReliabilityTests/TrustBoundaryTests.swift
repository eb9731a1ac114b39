import Foundation
import JSONValue
import SecretSync
import Testing
import TestSupport

extension ReliabilityTests {
    /// The attacks of docs/threat-model.md, made by the principal that can make them: an operator
    /// with update on the sealed store (bound to the chart's operator Role), an administrator who
    /// edits the agent's status object, a tenant of a shared agent, Helm dropping keys. Each
    /// scenario failed before the agent's status moved out of the sealed store, deletions became
    /// changes and every field read became untrusted input.
    @Suite struct TrustBoundaries {
        /// The head of an audit chain no agent could have written: `seq` at `Int64.max`.
        static let hugeHead =
            #"{"hash":"\#(String(repeating: "a", count: 64))","lines":["{\"event\":\"secret.rotated\",\"seq\":9223372036854775807}"],"seq":9223372036854775807}"#

        /// Twenty tenants share one agent; one tenant's namespace is poisoned with what an operator
        /// can write (the old status annotations with `seq` at `Int64.max`, an out-of-range version
        /// record) and what an administrator can write (the same head in the agent's status object),
        /// and the agent is restarted on it. The other nineteen keep rotating, the agent never
        /// traps, and the poisoned namespace's bad input is reported there only.
        @Test func aPoisonedNamespaceAmongTwentyStopsNoOther() async throws {
            let namespaces = (0..<20).map { String(format: "tenant-%02d", $0) }
            let poisoned = namespaces[7]
            let healthy = namespaces.filter { $0 != poisoned }
            try await withCluster(namespaces: namespaces) { cluster in
                for namespace in namespaces {
                    expectSuccess(
                        try await cluster.fixture.kubectl([
                            "create", "configmap", "beluga-ai-secrets-sealed", "-n", namespace,
                        ]))
                }
                let first = try cluster.startAgent(identity: "agent-a", extra: ["--all-namespaces"])
                for namespace in namespaces {
                    try await cluster.waitForPublicKey(namespace: namespace, timeout: .seconds(120))
                }
                var expected: [String: String] = [:]
                func rotate(_ targets: [String], round: String) async throws {
                    var invocations: [([String], String?)] = []
                    for namespace in targets {
                        let value = cluster.marker("\(round)-\(namespace)")
                        expected[namespace] = value
                        invocations.append((["set", "api-key", "-n", namespace], value))
                    }
                    for result in try await cluster.runAll(invocations) { expectSuccess(result) }
                    for namespace in targets {
                        try await eventually("\(namespace) applies round \(round)", timeout: .seconds(120)) {
                            try await cluster.secretValues(namespace: namespace)["api-key"]
                                == expected[namespace]
                        }
                    }
                }
                try await rotate(namespaces, round: "one")

                // The operator's poison, on the sealed store they may write.
                let annotate = try await cluster.fixture.kubectl([
                    "annotate", "--overwrite", "configmap", "beluga-ai-secrets-sealed", "-n", poisoned,
                    "beluga-ai.io/audit-head=\(Self.hugeHead)",
                    #"beluga-ai.io/sync-status={"api-key":{"at":"","fingerprint":"","reason":"","state":"applied","version":9223372036854775807}}"#,
                    #"beluga-ai.io/sealed-versions={"api-key":{"fingerprint":"","history":[],"sealedAt":"","sealedBy":"mallory","version":9223372036854775807}}"#,
                ])
                expectSuccess(annotate)
                // The administrator's, on the agent's own status object.
                func poisonStatus() async throws {
                    var status =
                        try await cluster.object(
                            "configmaps", "beluga-ai-secrets-status", namespace: poisoned)
                        ?? [
                            "apiVersion": "v1", "kind": "ConfigMap",
                            "metadata": ["name": "beluga-ai-secrets-status", "namespace": .string(poisoned)],
                        ]
                    status[path: "data", "audit-head"] = .string(Self.hugeHead)
                    _ = try await cluster.fixture.emulator.put(status)
                }
                try await poisonStatus()
                // A writer refuses to number a version above it, in one error line (stderr may
                // also carry the note that pins the agent's identity on first use).
                let refused = try await cluster.run(
                    ["rotate", "api-key", "-n", poisoned], stdin: cluster.marker("refused"))
                #expect(refused.status == 6)
                let errors = refused.stderr.split(separator: "\n").filter { $0.hasPrefix("error: ") }
                #expect(errors.count == 1, "\(refused.stderr)")
                for word in ["sealed-versions", "api-key", "out of range"] {
                    #expect(errors.first?.contains(word) == true, "\(refused.stderr)")
                }
                try await rotate(healthy, round: "two")
                #expect(try await cluster.secretValues(namespace: poisoned)["api-key"] == expected[poisoned])
                try await eventually("the poisoned namespace's bad input is reported there") {
                    let events = try await cluster.fixture.emulator.objects("events", namespace: poisoned)
                    return events.contains { $0["reason"] == "InputRejected" && $0["type"] == "Warning" }
                }

                // Restarted on the poisoned status object: the new leader takes over every
                // namespace, reports the head it cannot read, and starts that chain again.
                await first.stop()
                #expect(first.exitStatus == 0, "\(first.stderr.suffix(2000))")
                try await poisonStatus()
                let second = try cluster.startAgent(identity: "agent-b", extra: ["--all-namespaces"])
                try await rotate(healthy, round: "three")
                #expect(second.isRunning)
                #expect(await cluster.health(second).status == 200)
                #expect(!first.wasSignalled && !second.wasSignalled)

                let records = cluster.auditRecords([first, second])
                let rejected = records.filter { $0["event"] == "input.rejected" }
                #expect(!rejected.isEmpty)
                #expect(rejected.allSatisfy { $0["namespace"]?.stringValue == poisoned }, "\(rejected)")
                #expect(
                    rejected.contains {
                        $0["reason"]?.stringValue?.contains("data[audit-head].seq is 9223372036854775807")
                            == true
                    }, "\(rejected)")
                for namespace in healthy {
                    let events = try await cluster.fixture.emulator.objects("events", namespace: namespace)
                    #expect(!events.contains { $0["reason"] == "InputRejected" }, "\(namespace)")
                }
                // The chain of every healthy namespace is whole across both agents.
                let (audit, document) = try await cluster.verifyAudit([first, second])
                #expect(audit.status == 0 || audit.status == 6, "\(audit.stderr)")
                let findings = document[path: "verification", "findings"]?.arrayValue ?? []
                #expect(
                    findings.allSatisfy { $0["namespace"]?.stringValue == poisoned }, "\(findings)")
                let metrics = await cluster.health(second, "/metrics").body
                #expect(metrics.contains(#"beluga_secrets_input_rejected_total{namespace="\#(poisoned)""#))
                try await cluster.expectNoLeaks(namespaces: namespaces)
            }
        }

        /// An operator who may update the sealed store forges the agent's verdict where agents
        /// once kept it, while no agent runs: `set --wait` does not believe it, and the operator
        /// cannot write the agent's status object.
        @Test func aForgedSyncStatusDoesNotFoolSetWait() async throws {
            try await withCluster { cluster in
                // The chart creates the sealed store; the operator may only update it.
                expectSuccess(
                    try await cluster.fixture.kubectl(["create", "configmap", "beluga-ai-secrets-sealed"]))
                let agent = try cluster.startAgent()
                try await cluster.waitForPublicKey()
                let operatorConfig = try await cluster.operatorKubeconfig()
                let first = cluster.marker("first")
                expectSuccess(
                    try await cluster.run(
                        ["set", "api-key", "--wait", "--timeout", "120s"], stdin: first, as: operatorConfig))
                await agent.stop()

                // The forged verdict where agents once kept it, written with the read and update
                // the operator Role grants on the sealed store (it grants no patch).
                let forged =
                    #"{"api-key":{"at":"2026-01-01T00:00:00Z","fingerprint":"","reason":"","state":"applied","version":99}}"#
                let read = try await cluster.fixture.kubectl(
                    ["get", "configmap", "beluga-ai-secrets-sealed", "-o", "json"], kubeconfig: operatorConfig
                )
                expectSuccess(read)
                var store = try JSON(parsing: read.stdout)
                store[path: "metadata", "annotations", "beluga-ai.io/sync-status"] = .string(forged)
                let forgedFile = cluster.logs.file("forged-store.json")
                try store.jsonText.write(toFile: forgedFile, atomically: true, encoding: .utf8)
                expectSuccess(
                    try await cluster.fixture.kubectl(
                        ["replace", "-f", forgedFile], kubeconfig: operatorConfig))
                #expect(try await cluster.storeAnnotation("beluga-ai.io/sync-status")["api-key"] != nil)
                // The agent's own status object is out of the operator's reach: patched or replaced.
                let denied = try await cluster.fixture.kubectl(
                    [
                        "patch", "configmap", "beluga-ai-secrets-status", "--type", "merge", "-p",
                        #"{"data":{"sync-status":"{}"}}"#,
                    ], kubeconfig: operatorConfig)
                #expect(denied.status != 0 && denied.stderr.contains("forbidden"), "\(denied.stderr)")
                let statusRead = try await cluster.fixture.kubectl(
                    ["get", "configmap", "beluga-ai-secrets-status", "-o", "json"], kubeconfig: operatorConfig
                )
                expectSuccess(statusRead)
                var status = try JSON(parsing: statusRead.stdout)
                status[path: "data", "sync-status"] = .string(forged)
                let statusFile = cluster.logs.file("forged-status.json")
                try status.jsonText.write(toFile: statusFile, atomically: true, encoding: .utf8)
                let replaced = try await cluster.fixture.kubectl(
                    ["replace", "-f", statusFile], kubeconfig: operatorConfig)
                #expect(replaced.status != 0 && replaced.stderr.contains("forbidden"), "\(replaced.stderr)")

                let second = cluster.marker("second")
                let waited = try await cluster.run(
                    ["set", "api-key", "--wait", "--timeout", "8s"], stdin: second, as: operatorConfig)
                #expect(waited.status == 5, "exit \(waited.status): \(waited.stdout) \(waited.stderr)")
                #expect(waited.stderr.contains("gave up waiting for the agent"), "\(waited.stderr)")
                #expect(!waited.stdout.contains("applied"), "\(waited.stdout)")
                #expect(try await cluster.secretValues()["api-key"] == first)

                // The agent comes back: it applies the version, and removes the forged annotation.
                let back = try cluster.startAgent(identity: "agent-b")
                try await eventually("the agent applies version 2") {
                    try await cluster.secretValues()["api-key"] == second
                }
                try await cluster.waitForAppliedStatus(of: ["api-key"])
                try await eventually("the forged annotation is removed") {
                    try await cluster.storeAnnotation("beluga-ai.io/sync-status").isEmpty
                }
                #expect(back.isRunning)
                try await cluster.expectNoLeaks()
            }
        }

        /// Under `required`, a key leaves the Secret only for a deletion signed by an allowed
        /// signer: one removed from the sealed store by hand is kept (orphaned), an unsigned
        /// deletion is refused, a signed one applies, and replaying it later is refused.
        @Test func deletionsAreSignedChanges() async throws {
            try await withCluster { cluster in
                let agent = try cluster.startAgent(extra: ["--signatures", "required"])
                try await cluster.waitForPublicKey()
                expectSuccess(try await cluster.run(["signer", "init"]))
                let publicKey = try await cluster.run(["signer", "show", "--public-key-only"])
                expectSuccess(publicKey)
                expectSuccess(
                    try await cluster.fixture.kubectl([
                        "create", "configmap", "beluga-secrets-signers",
                        "--from-literal=alice=\(publicKey.stdout.trimmingCharacters(in: .whitespacesAndNewlines))",
                    ]))
                let kept = cluster.marker("kept")
                let other = cluster.marker("other")
                expectSuccess(
                    try await cluster.run(["set", "api-key", "--wait", "--timeout", "120s"], stdin: kept))
                expectSuccess(
                    try await cluster.run(["set", "other-key", "--wait", "--timeout", "120s"], stdin: other))

                // Removed from the sealed store by hand: no deletion, so the Secret keeps it.
                expectSuccess(
                    try await cluster.fixture.kubectl([
                        "patch", "configmap", "beluga-ai-secrets-sealed", "--type", "json", "-p",
                        #"[{"op":"remove","path":"/data/api-key"}]"#,
                    ]))
                try await eventually("the key is reported orphaned") {
                    try await cluster.statusPart("orphaned")?["api-key"] != nil
                }
                #expect(try await cluster.secretValues()["api-key"] == kept)
                let list = try await cluster.run(["list"])
                expectSuccess(list)
                #expect(list.stdout.contains("orphaned"), "\(list.stdout)")
                let orphanEvents = try await cluster.fixture.emulator.objects("events", namespace: "default")
                    .filter { $0["reason"] == "KeyOrphaned" }
                #expect(orphanEvents.count == 1 && orphanEvents.first?["type"] == "Warning")

                // An unsigned deletion: refused, the value stays.
                expectSuccess(try await cluster.run(["delete", "api-key", "--no-sign"]))
                try await eventually("the unsigned deletion is refused") {
                    try await cluster.syncStatus()["api-key"]?["state"] == "rejected"
                }
                #expect(
                    try await cluster.syncStatus()["api-key"]?["reason"]?.stringValue?.contains(
                        "deletion is not signed") == true)
                #expect(try await cluster.secretValues()["api-key"] == kept)

                // A deletion signed by alice: applied, and the record names her.
                expectSuccess(try await cluster.run(["delete", "api-key"]))
                try await eventually("the signed deletion removes the key") {
                    try await cluster.secretValues()["api-key"] == nil
                }
                #expect(try await cluster.secretValues()["other-key"] == other)
                let tombstone = try await cluster.storeAnnotation(SealedStore.versionsAnnotation)["api-key"]
                try await eventually("the deletion is recorded") {
                    cluster.auditRecords([agent]).contains {
                        $0["event"] == "secret.deleted" && $0["key"] == "api-key" && $0["signer"] == "alice"
                    }
                }

                // Set again, then the old signed deletion replayed by hand: refused.
                let again = cluster.marker("again")
                expectSuccess(
                    try await cluster.run(["set", "api-key", "--wait", "--timeout", "120s"], stdin: again))
                let replay = JSON.object([
                    "data": ["api-key": .null],
                    "metadata": [
                        "annotations": [
                            SealedStore.versionsAnnotation: .string(
                                JSON.object(
                                    (try await cluster.storeAnnotation(SealedStore.versionsAnnotation))
                                        .merging(
                                            ["api-key": try #require(tombstone)]) { _, new in new }
                                ).jsonText)
                        ]
                    ],
                ]).jsonText
                expectSuccess(
                    try await cluster.fixture.kubectl([
                        "patch", "configmap", "beluga-ai-secrets-sealed", "--type", "merge", "-p", replay,
                    ]))
                try await eventually("the replayed deletion is refused") {
                    try await cluster.syncStatus()["api-key"]?["reason"]?.stringValue?.contains(
                        "not higher than version") == true
                }
                #expect(try await cluster.secretValues()["api-key"] == again)
                try await cluster.expectNoLeaks()
            }
        }

        /// What `helm upgrade` without the values file does to the sealed store (the keys its
        /// values listed leave it): the keys stay in the Secret, orphaned and reported once; put
        /// back, they are managed again; `delete` deletes one that is no longer in the store.
        @Test func aKeyDroppedFromTheStoreIsOrphanedNotDeleted() async throws {
            try await withCluster { cluster in
                let agent = try cluster.startAgent()
                try await cluster.waitForPublicKey()
                let value = cluster.marker("value")
                expectSuccess(
                    try await cluster.run(["set", "api-key", "--wait", "--timeout", "120s"], stdin: value))
                let store = try #require(try await cluster.object("configmaps", "beluga-ai-secrets-sealed"))
                let envelope = try #require(store[path: "data", "api-key"]?.stringValue)
                let drop = #"[{"op":"remove","path":"/data/api-key"}]"#
                expectSuccess(
                    try await cluster.fixture.kubectl([
                        "patch", "configmap", "beluga-ai-secrets-sealed", "--type", "json", "-p", drop,
                    ]))
                try await eventually("the key is orphaned") {
                    try await cluster.statusPart("orphaned")?["api-key"] != nil
                }
                #expect(try await cluster.secretValues()["api-key"] == value)
                let status = try await cluster.run(["status"])
                expectSuccess(status)
                #expect(status.stdout.contains("orphaned"), "\(status.stdout)")

                // Put back (an upgrade with the values file): managed again, nothing changes.
                let rollouts = await cluster.rollouts()
                expectSuccess(
                    try await cluster.fixture.kubectl([
                        "patch", "configmap", "beluga-ai-secrets-sealed", "--type", "merge", "-p",
                        JSON.object(["data": ["api-key": .string(envelope)]]).jsonText,
                    ]))
                try await eventually("the key is no longer orphaned") {
                    try await cluster.statusPart("orphaned")?["api-key"] == nil
                }
                #expect(await cluster.rollouts() == rollouts)

                // Dropped again, then deleted for good although the store no longer holds it.
                expectSuccess(
                    try await cluster.fixture.kubectl([
                        "patch", "configmap", "beluga-ai-secrets-sealed", "--type", "json", "-p", drop,
                    ]))
                try await eventually("the key is orphaned again") {
                    try await cluster.statusPart("orphaned")?["api-key"] != nil
                }
                expectSuccess(try await cluster.run(["delete", "api-key"]))
                try await eventually("the deletion removes it") {
                    try await cluster.secretValues()["api-key"] == nil
                }
                let events = try await cluster.fixture.emulator.objects("events", namespace: "default")
                #expect(events.filter { $0["reason"] == "KeyOrphaned" }.count == 1)
                #expect(agent.isRunning)
                try await cluster.expectNoLeaks()
            }
        }

        /// Deleting the signers' ConfigMap (annotated `required`) keeps `required`, and says so;
        /// only the annotation set to `optional` lowers it.
        @Test func deletingTheSignersKeepsThePolicy() async throws {
            try await withCluster { cluster in
                let agent = try cluster.startAgent()
                try await cluster.waitForPublicKey()
                expectSuccess(
                    try await cluster.fixture.kubectl(["create", "configmap", "beluga-secrets-signers"]))
                expectSuccess(
                    try await cluster.fixture.kubectl([
                        "annotate", "configmap", "beluga-secrets-signers", "beluga-ai.io/signatures=required",
                    ]))
                try await eventually("the agent records the policy") {
                    try await cluster.statusPart("signatures")?["policy"] == "required"
                }
                expectSuccess(
                    try await cluster.fixture.kubectl(["delete", "configmap", "beluga-secrets-signers"]))
                let unsigned = cluster.marker("unsigned")
                let refused = try await cluster.run(
                    ["set", "api-key", "--no-sign", "--wait", "--timeout", "120s"], stdin: unsigned)
                // One error line (beside the progress of --wait and the identity pin note).
                #expect(refused.status == 6, "\(refused.stderr)")
                let errors = refused.stderr.split(separator: "\n").filter { $0.hasPrefix("error: ") }
                #expect(errors.count == 1, "\(refused.stderr)")
                for word in ["rejected version 1", "not signed"] {
                    #expect(errors.first?.contains(word) == true, "\(refused.stderr)")
                }
                #expect(try await cluster.secretValues()["api-key"] == nil)
                try await eventually("the kept policy is reported") {
                    try await cluster.fixture.emulator.objects("events", namespace: "default").contains {
                        $0["reason"] == "SignaturePolicyKept" && $0["type"] == "Warning"
                    }
                }
                #expect(agent.stderr.contains("signatures stay required"))

                // Lowered explicitly: applied.
                expectSuccess(
                    try await cluster.fixture.kubectl(["create", "configmap", "beluga-secrets-signers"]))
                expectSuccess(
                    try await cluster.fixture.kubectl([
                        "annotate", "configmap", "beluga-secrets-signers", "beluga-ai.io/signatures=optional",
                    ]))
                try await eventually("the unsigned value is applied once the policy is lowered") {
                    try await cluster.secretValues()["api-key"] == unsigned
                }
                try await cluster.expectNoLeaks()
            }
        }

        /// A key written with `--direct` is not taken over by an envelope an operator stores for
        /// it (the operator Role cannot read or update the Secret): refused, with the commands that
        /// hand it over. A user who may update the Secret hands it over with a plain `set`.
        @Test func aDirectKeyIsNotTakenOver() async throws {
            try await withCluster { cluster in
                // The chart creates the sealed store; the operator may only update it.
                expectSuccess(
                    try await cluster.fixture.kubectl(["create", "configmap", "beluga-ai-secrets-sealed"]))
                let agent = try cluster.startAgent()
                try await cluster.waitForPublicKey()
                let direct = cluster.marker("direct")
                expectSuccess(try await cluster.run(["set", "api-key", "--direct"], stdin: direct))

                let operatorConfig = try await cluster.operatorKubeconfig()
                let takeover = try await cluster.run(
                    ["set", "api-key", "--wait", "--timeout", "120s"], stdin: cluster.marker("takeover"),
                    as: operatorConfig)
                #expect(takeover.status == 6, "\(takeover.stderr)")
                #expect(takeover.stderr.contains("rejected version 1"), "\(takeover.stderr)")
                #expect(
                    takeover.stderr.contains("beluga-secrets delete api-key --direct"), "\(takeover.stderr)")
                #expect(try await cluster.syncStatus()["api-key"]?["state"] == "rejected")
                #expect(try await cluster.secretValues()["api-key"] == direct)
                let directVersions = try await cluster.object("secrets", "beluga-ai-secrets")?[
                    path: "metadata", "annotations", "beluga-ai.io/direct-versions"]?.stringValue
                #expect(directVersions?.contains("api-key") == true)

                // Handed over by a user who may update the Secret: the agent applies it.
                let sealed = cluster.marker("sealed")
                let handed = try await cluster.run(
                    ["set", "api-key", "--wait", "--timeout", "120s"], stdin: sealed)
                expectSuccess(handed)
                #expect(handed.stdout.contains("handed over to the agent"), "\(handed.stdout)")
                #expect(handed.stdout.contains("the agent applied version 2"), "\(handed.stdout)")
                #expect(try await cluster.secretValues()["api-key"] == sealed)
                #expect(agent.isRunning)
                try await cluster.expectNoLeaks()
            }
        }

        /// An agent upgraded from the layout that kept its status in the sealed store's
        /// annotations moves them once into its status object and removes them: no version and no
        /// record is lost, and the audit chain goes on where it stood.
        @Test func anUpgradeMovesTheStatusOutOfTheSealedStore() async throws {
            try await withCluster { cluster in
                let before = try cluster.startAgent(identity: "agent-a")
                try await cluster.waitForPublicKey()
                for (key, label) in [("api-key", "a1"), ("other-key", "b1"), ("api-key", "a2")] {
                    expectSuccess(
                        try await cluster.run(
                            ["set", key, "--wait", "--timeout", "120s"], stdin: cluster.marker(label)))
                }
                try await cluster.waitForAppliedStatus(of: ["api-key", "other-key"])
                await before.stop()
                // The layout an agent before the status object left behind.
                let status = try #require(try await cluster.object("configmaps", "beluga-ai-secrets-status"))
                let syncStatus = try #require(status[path: "data", "sync-status"]?.stringValue)
                let head = try #require(status[path: "data", "audit-head"]?.stringValue)
                let headSeq = try #require(try JSON(parsing: head)["seq"]?.intValue)
                expectSuccess(
                    try await cluster.fixture.kubectl([
                        "annotate", "configmap", "beluga-ai-secrets-sealed",
                        "beluga-ai.io/sync-status=\(syncStatus)", "beluga-ai.io/audit-head=\(head)",
                    ]))
                expectSuccess(
                    try await cluster.fixture.kubectl(["delete", "configmap", "beluga-ai-secrets-status"]))

                let after = try cluster.startAgent(identity: "agent-b")
                try await eventually("the status object is written again") {
                    try await cluster.object("configmaps", "beluga-ai-secrets-status") != nil
                }
                try await eventually("the old annotations are removed") {
                    let store = try await cluster.object("configmaps", "beluga-ai-secrets-sealed")
                    return store?[path: "metadata", "annotations", "beluga-ai.io/sync-status"] == nil
                        && store?[path: "metadata", "annotations", "beluga-ai.io/audit-head"] == nil
                }
                #expect(try JSON(parsing: syncStatus) == (try await cluster.statusPart("sync-status")))
                let next = cluster.marker("a3")
                let set = try await cluster.run(
                    ["set", "api-key", "--wait", "--timeout", "120s"], stdin: next)
                expectSuccess(set)
                #expect(set.stdout.contains("version 3"), "\(set.stdout)")
                #expect(try await cluster.secretValues()["api-key"] == next)
                let later = cluster.auditRecords([after]).compactMap { $0["seq"]?.intValue }
                #expect(later.contains(headSeq + 1), "\(later)")
                let (audit, document) = try await cluster.verifyAudit([before, after])
                expectSuccess(audit)
                #expect(document[path: "verification", "complete"] == true, "\(document)")
                try await cluster.expectNoLeaks()
            }
        }
    }
}

import Foundation
import JSONValue
import Sealing
import SecretSync
import Testing
import TestSupport

extension ReliabilityTests {
    /// What operators and pipelines get wrong, at scale: envelopes that do not open, garbage in
    /// the sealed store, values at and over the limits, names no Secret can hold, and more keys
    /// than anyone sets by hand.
    @Suite struct BadInput {
        @Test func malformedEnvelopesAndGarbageInTheSealedStoreAreRefusedAndGoodValuesStay() async throws {
            try await withCluster { cluster in
                let agent = try cluster.startAgent()
                try await cluster.waitForPublicKey()
                var good = ["good-a": cluster.marker("good-a"), "good-b": cluster.marker("good-b")]
                for (key, value) in good { expectSuccess(try await cluster.run(["set", key], stdin: value)) }
                try await eventually("the good values are applied") {
                    try await cluster.secretValues() == good
                }

                // Envelopes a pipeline could write with kubectl: garbage over a good key, text
                // that is no envelope, a truncated one, one moved to another key, one sealed for
                // another namespace, one sealed to a key the agent never had, a huge one.
                let store = try #require(try await cluster.object("configmaps", "beluga-ai-secrets-sealed"))
                let envelopeB = try #require(store[path: "data", "good-b"]?.stringValue)
                let publicKey = cluster.logs.file("sealing.pub")
                let published = try await cluster.fixture.kubectl([
                    "get", "configmap", "beluga-secrets-public-key", "-o", "jsonpath={.data.sealing\\.pub}",
                ])
                try published.stdout.write(toFile: publicKey, atomically: true, encoding: .utf8)
                let otherNamespace = try await cluster.run(
                    ["seal", "moved-ns", "--public-key", publicKey, "-n", "elsewhere"],
                    stdin: cluster.marker("moved-ns"))
                expectSuccess(otherNamespace)
                let foreignKey = cluster.logs.file("foreign")
                expectSuccess(try await cluster.run(["keygen", "--out", foreignKey]))
                let foreign = try await cluster.run(
                    ["seal", "foreign", "--public-key", foreignKey + "/sealing.pub", "-n", "default"],
                    stdin: cluster.marker("foreign"))
                expectSuccess(foreign)
                let bad: [String: String] = [
                    "good-a": "bs1.garbage",
                    "not-envelope": "not an envelope at all",
                    "truncated": String(envelopeB.prefix(100)),
                    "moved-key": envelopeB,
                    "moved-ns": otherNamespace.stdout.trimmingCharacters(in: .whitespacesAndNewlines),
                    "foreign": foreign.stdout.trimmingCharacters(in: .whitespacesAndNewlines),
                    "huge": "bs1." + String(repeating: "A", count: 200_000),
                ]
                let patch = cluster.logs.file("bad-envelopes.json")
                try JSON.object(["data": .object(bad.mapValues { .string($0) })]).jsonText.write(
                    toFile: patch, atomically: true, encoding: .utf8)
                expectSuccess(
                    try await cluster.fixture.kubectl([
                        "patch", "configmap", "beluga-ai-secrets-sealed", "--type", "merge", "--patch-file",
                        patch,
                    ]))
                try await eventually("the agent refuses every bad envelope") {
                    let status = try await cluster.syncStatus()
                    return bad.keys.allSatisfy { status[$0]?["state"] == "rejected" }
                }
                let status = try await cluster.syncStatus()
                for key in bad.keys {
                    let reason = status[key]?["reason"]?.stringValue ?? ""
                    #expect(!reason.isEmpty && !reason.contains("\n"), "\(key): \(reason)")
                }
                #expect(status["moved-key"]?["reason"]?.stringValue?.contains("another key") == true)
                #expect(status["moved-ns"]?["reason"]?.stringValue?.contains("another namespace") == true)
                // Nothing lost: the good values stay, nothing bad reaches the Secret.
                #expect(try await cluster.secretValues() == good)

                // Each refusal is reported once: one record, one Warning Event per envelope, even
                // after later passes (a good change makes the agent reconcile again).
                let rotated = cluster.marker("good-b-rotated")
                expectSuccess(try await cluster.run(["rotate", "good-b"], stdin: rotated))
                good["good-b"] = rotated
                try await eventually("a good rotation among the bad envelopes is applied") {
                    try await cluster.secretValues() == good
                }
                try await eventually("every refusal is in the audit trail") {
                    let rejected = cluster.auditRecords([agent]).filter { $0["event"] == "secret.rejected" }
                    return Set(rejected.compactMap { $0["key"]?.stringValue }) == Set(bad.keys)
                }
                let rejected = cluster.auditRecords([agent]).filter { $0["event"] == "secret.rejected" }
                for key in bad.keys {
                    #expect(rejected.filter { $0["key"]?.stringValue == key }.count == 1, "\(key)")
                }
                let events = try await cluster.fixture.kubectl(["get", "events", "-o", "json"])
                expectSuccess(events)
                let refusals = (try JSON(parsing: events.stdout)["items"]?.arrayValue ?? []).filter {
                    $0["reason"] == "EnvelopeRejected"
                }
                #expect(refusals.allSatisfy { $0["type"] == "Warning" && $0["count"] == 1 })
                for key in bad.keys {
                    #expect(
                        refusals.filter {
                            $0["message"]?.stringValue?.contains("of key \(key) refused") == true
                        }.count
                            == 1, "\(key)")
                }

                // Damaged version records: the CLI refuses to write over what it cannot read
                // (one line, exit 6, the store untouched); the agent reports it once and keeps
                // applying envelopes. A sync-status annotation on the sealed store, where agents
                // before the status object kept their status, is nobody's any more: ignored.
                expectSuccess(
                    try await cluster.fixture.kubectl([
                        "annotate", "--overwrite", "configmap", "beluga-ai-secrets-sealed",
                        "beluga-ai.io/sealed-versions={not json", "beluga-ai.io/sync-status=[1,2",
                    ]))
                let damaged = try #require(try await cluster.object("configmaps", "beluga-ai-secrets-sealed"))
                let refused = try await cluster.run(["rotate", "good-b"], stdin: cluster.marker("refused"))
                expectOneLineError(
                    refused, status: 6, mentioning: ["beluga-ai.io/sealed-versions", "remove the annotation"])
                expectOneLineError(
                    try await cluster.run(["list"]), status: 6, mentioning: ["beluga-ai.io/sealed-versions"])
                let after = try #require(try await cluster.object("configmaps", "beluga-ai-secrets-sealed"))
                #expect(
                    after[path: "metadata", "annotations", "beluga-ai.io/sealed-versions"]
                        == damaged[path: "metadata", "annotations", "beluga-ai.io/sealed-versions"])
                #expect(after["data"] == damaged["data"])
                let sealedByPipeline = cluster.marker("pipeline")
                let envelope = try await cluster.run(
                    ["seal", "good-b", "--public-key", publicKey, "-n", "default"], stdin: sealedByPipeline)
                expectSuccess(envelope)
                let replace = JSON.object([
                    "data": [
                        "good-b": .string(envelope.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
                    ]
                ]).jsonText
                expectSuccess(
                    try await cluster.fixture.kubectl([
                        "patch", "configmap", "beluga-ai-secrets-sealed", "--type", "merge", "-p", replace,
                    ]))
                good["good-b"] = sealedByPipeline
                try await eventually("the agent applies a good envelope despite the damaged records") {
                    try await cluster.secretValues() == good
                }
                // The documented repair: remove the annotation; versions start again.
                expectSuccess(
                    try await cluster.fixture.kubectl([
                        "annotate", "configmap", "beluga-ai-secrets-sealed", "beluga-ai.io/sealed-versions-",
                    ]))
                let repaired = cluster.marker("repaired")
                let rotate = try await cluster.run(["rotate", "good-b"], stdin: repaired)
                expectSuccess(rotate)
                good["good-b"] = repaired
                try await eventually("the repaired store works again") {
                    try await cluster.secretValues() == good
                }

                let inputRejected = cluster.auditRecords([agent]).filter { $0["event"] == "input.rejected" }
                #expect(
                    inputRejected.filter {
                        $0["reason"]?.stringValue?.contains("annotation beluga-ai.io/sealed-versions") == true
                    }.count == 1, "\(inputRejected)")
                let (audit, document) = try await cluster.verifyAudit([agent])
                expectSuccess(audit)
                #expect(document[path: "verification", "complete"] == true)
                #expect(await cluster.health(agent).status == 200)
                #expect(agent.isRunning)
                try await cluster.expectNoLeaks()
            }
        }

        @Test func valuesAndNamesBeyondTheLimitsAreRefusedInOneLineAndNothingChanges() async throws {
            try await withCluster { cluster in
                let agent = try cluster.startAgent()
                try await cluster.waitForPublicKey()
                let kept = cluster.marker("kept")
                expectSuccess(try await cluster.run(["set", "kept-key"], stdin: kept))
                try await eventually("the first value is applied") {
                    try await cluster.secretValues()["kept-key"] == kept
                }
                let before = try #require(try await cluster.object("configmaps", "beluga-ai-secrets-sealed"))

                func file(_ name: String, _ bytes: Data) throws -> String {
                    let path = cluster.logs.file(name)
                    try bytes.write(to: URL(fileURLWithPath: path))
                    return path
                }
                // Over 1 MiB, or empty: refused before anything is read from the cluster.
                let marker = cluster.marker("oversize")
                let over = try file(
                    "over", Data((marker + String(repeating: "x", count: 1_048_577 - marker.utf8.count)).utf8)
                )
                expectOneLineError(
                    try await cluster.run(["set", "big-key", "--from-file", over]), status: 6,
                    mentioning: ["1048577 bytes", "1 MiB"])
                expectOneLineError(
                    try await cluster.run(["set", "big-key", "--from-file", try file("empty", Data())]),
                    status: 6,
                    mentioning: ["empty"])
                // Exactly 1 MiB: a valid value, but sealed it no longer fits the sealed store's
                // ConfigMap (1 MiB in all): refused before it is written, exit 6.
                let mebibyte = try file(
                    "mebibyte",
                    Data((marker + String(repeating: "y", count: 1_048_576 - marker.utf8.count)).utf8))
                expectOneLineError(
                    try await cluster.run(["set", "big-key", "--from-file", mebibyte]), status: 6,
                    mentioning: [
                        "sealed store ConfigMap default/beluga-ai-secrets-sealed", "1 MiB",
                        "store a smaller value",
                    ])

                // Names no Secret can hold: unicode, control characters (a newline, an escape
                // sequence, DEL; a NUL cannot be passed in argv), a space, a path, too long, empty.
                // Refused in one line that prints no raw control character.
                let names = [
                    "clé-api", "emoji-🔑", "line\nbreak", "tab\there", "\u{1b}[31mred", "del\u{7f}char",
                    "with space",
                    "../escape", String(repeating: "k", count: 254), "",
                ]
                for name in names {
                    let result = try await cluster.run(["set", name], stdin: cluster.marker("bad-name"))
                    expectOneLineError(result, status: 6, mentioning: ["invalid key name"])
                    #expect(
                        !result.stderr.dropLast().unicodeScalars.contains {
                            $0.properties.generalCategory == .control
                        },
                        "raw control character in: \(result.stderr.debugDescription)")
                }
                let after = try #require(try await cluster.object("configmaps", "beluga-ai-secrets-sealed"))
                // Nothing written: the same envelopes and version records (the agent's own
                // annotations may have moved on).
                #expect(after["data"] == before["data"])
                #expect(
                    after[path: "metadata", "annotations", "beluga-ai.io/sealed-versions"]
                        == before[path: "metadata", "annotations", "beluga-ai.io/sealed-versions"])
                #expect(try await cluster.secretValues() == ["kept-key": kept])

                // Unicode and control characters inside a value are just bytes: kept exactly.
                let odd = cluster.marker("odd") + "-ünïcødé-🔑\t\r\n\u{1}\u{7f}\u{0}end\n"
                expectSuccess(
                    try await cluster.run([
                        "set", "odd-value", "--from-file", try file("odd", Data(odd.utf8)),
                    ]))
                try await eventually("the odd value is applied byte for byte") {
                    try await cluster.secretBytes("odd-value") == Data(odd.utf8)
                }
                #expect(try await cluster.secretValues()["kept-key"] == kept)
                #expect(await cluster.health(agent).status == 200)
                try await cluster.expectNoLeaks()
            }
        }

        @Test func thousandsOfKeysAcrossNamespacesAreAllApplied() async throws {
            let scale = Scale.current
            let namespaces = (0..<scale.manyKeyNamespaces).map { String(format: "tenant-%02d", $0) }
            let perNamespace = scale.manyKeys / namespaces.count
            try await withCluster(namespaces: namespaces) { cluster in
                let agent = try cluster.startAgent(extra: ["--all-namespaces"])
                // A sealed store makes a namespace managed; the agent then publishes its key.
                for namespace in namespaces {
                    expectSuccess(
                        try await cluster.fixture.kubectl([
                            "create", "configmap", "beluga-ai-secrets-sealed", "-n", namespace,
                        ]))
                }
                // Every value shares one marker (so that the leak check stays fast).
                let prefix = cluster.marker("bulk")
                var expected: [String: [String: String]] = [:]
                for namespace in namespaces {
                    try await cluster.waitForPublicKey(namespace: namespace, timeout: .seconds(120))
                    let keysObject = try #require(
                        try await cluster.object(
                            "configmaps", "beluga-secrets-public-key", namespace: namespace))
                    let recipient = try PublishedKeys(configMap: keysObject, namespace: namespace).current
                    var data: [String: JSON] = [:]
                    for index in 0..<perNamespace {
                        let key = String(format: "api-key-%05d", index)
                        let value = "\(prefix)-\(namespace)-\(index)"
                        expected[namespace, default: [:]][key] = value
                        let binding = try SecretBinding(
                            namespace: namespace, secret: "beluga-ai-secrets", key: key)
                        data[key] = .string(
                            try Envelope.seal(
                                SecureBytes(Array(value.utf8)), for: binding, to: recipient,
                                sealedBy: "pipeline@ci"
                            ).text)
                    }
                    // One merge patch per namespace, with `kubectl patch` as a pipeline would.
                    let patch = cluster.logs.file("patch-\(namespace).json")
                    try Data(JSON.object(["data": .object(data)]).serialized()).write(
                        to: URL(fileURLWithPath: patch))
                    let answer = try await cluster.fixture.kubectl([
                        "patch", "configmap", "beluga-ai-secrets-sealed", "-n", namespace, "--type", "merge",
                        "--patch-file", patch,
                    ])
                    #expect(answer.status == 0, "\(answer.stderr.prefix(300))")
                }
                for namespace in namespaces {
                    try await eventually(
                        "the agent applies \(perNamespace) keys in \(namespace)", timeout: .seconds(240)
                    ) {
                        try await cluster.secretValues(namespace: namespace) == expected[namespace]
                    }
                }
                try await eventually("a record for every key", timeout: .seconds(120)) {
                    cluster.auditRecords([agent]).filter { $0["event"] == "secret.created" }.count
                        >= perNamespace * namespaces.count
                }
                #expect(
                    cluster.auditRecords([agent]).filter { $0["event"] == "secret.created" }.count
                        == perNamespace * namespaces.count)

                // The CLI on a store of that size: list reads every key as applied; set adds a version.
                let list = try await cluster.run(["list", "-n", namespaces[0], "-o", "json"])
                expectSuccess(list)
                let listed = try JSON(parsing: list.stdout)["keys"]?.arrayValue ?? []
                #expect(listed.count == perNamespace)
                #expect(listed.allSatisfy { $0["state"] == "applied" })
                let newValue = cluster.marker("after-bulk")
                expectSuccess(
                    try await cluster.run(["set", "api-key-00000", "-n", namespaces[0]], stdin: newValue))
                try await eventually("the agent applies a set among \(perNamespace) keys") {
                    try await cluster.secretValues(namespace: namespaces[0])["api-key-00000"] == newValue
                }
                for namespace in namespaces {
                    try await cluster.waitForCurrentHash(namespace: namespace, timeout: .seconds(120))
                }

                let (audit, document) = try await cluster.verifyAudit([agent])
                expectSuccess(audit)
                #expect(document[path: "verification", "complete"] == true)
                #expect(await cluster.health(agent).status == 200)
                try await cluster.expectNoLeaks(namespaces: ["default"] + namespaces)
            }
        }
    }
}

import Foundation
import JSONValue
import Testing

@testable import SecretSync

@Suite struct AgentStatusTests {
    let hash = String(repeating: "ab", count: 32)

    func configMap(_ data: [String: String]) -> JSON {
        [
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": ["name": "beluga-ai-secrets-status", "namespace": "prod"],
            "data": .object(data.mapValues { .string($0) }),
        ]
    }

    @Test func writtenStatusReadsBackTheSame() throws {
        var status = AgentStatus()
        status.keys["openai-api-key"] = SyncStatus(
            state: .applied, version: 3, fingerprint: "fp1:" + String(repeating: "0", count: 32),
            at: "2026-11-25T19:58:14Z", signedVersion: 3)
        status.keys["anthropic-api-key"] = SyncStatus(
            state: .rejected, version: 2, at: "2026-11-25T19:58:14Z",
            reason: "the envelope was sealed for another namespace")
        status.auditHead = AuditHead(seq: 2, hash: hash, lines: [#"{"seq":1}"#, #"{"seq":2}"#])
        let object = status.writing(into: nil, name: "beluga-ai-secrets-status", namespace: "prod")
        #expect(object[path: "metadata", "labels", "app.kubernetes.io/managed-by"] == "beluga-secrets")
        #expect(
            object[path: "data", "audit-head"]?.stringValue
                == #"{"hash":"\#(hash)","lines":["{\"seq\":1}","{\"seq\":2}"],"seq":2}"#)
        let reread = AgentStatus(configMap: object)
        #expect(reread == status)
        #expect(reread.problems.isEmpty)
    }

    @Test func partsOfALaterAgentAreKept() {
        let status = AgentStatus(configMap: configMap(["sync-status": "{}", "future-part": #"{"x":1}"#]))
        #expect(status.problems.isEmpty)
        #expect(status.data["future-part"] == #"{"x":1}"#)
    }

    /// The attacks of issue 14 on the audit head, and more: each is left out and named, none traps.
    @Test(arguments: [
        (#"{"seq":9223372036854775807,"hash":"HASH"}"#, "seq is 9223372036854775807, out of range"),
        (#"{"seq":-1,"hash":"HASH"}"#, "seq is -1, out of range"),
        (#"{"seq":1e300,"hash":"HASH"}"#, "seq is not a whole number"),
        (#"{"seq":"3","hash":"HASH"}"#, "seq is not a whole number (a string)"),
        (#"{"seq":3,"hash":"ABC"}"#, "hash is not 64 lower-case hex digits"),
        (#"{"seq":3,"hash":""}"#, "hash is not 64 lower-case hex digits"),
        (#"{"seq":3}"#, "hash is missing"),
        (#"{"seq":3,"hash":"HASH","lines":"x"}"#, "lines is not an array"),
        (#"{"seq":3,"hash":"HASH","lines":[1]}"#, "lines holds a non-string"),
        (#"[1,2]"#, "is not an object"),
        (#"{not json"#, "is not JSON"),
    ])
    func anAuditHeadOutOfBoundsIsLeftOut(text: String, problem: String) {
        let status = AgentStatus(
            configMap: configMap(["audit-head": text.replacingOccurrences(of: "HASH", with: hash)]))
        #expect(status.auditHead == nil)
        #expect(status.problems.count == 1)
        let description = status.problems.first?.description ?? ""
        #expect(
            description.contains("ConfigMap prod/beluga-ai-secrets-status: data[audit-head]"),
            "\(description)")
        #expect(description.contains(problem), "\(description)")
    }

    @Test func aHeadOfTooManyOrTooLongLinesIsLeftOut() {
        let many = JSON.object([
            "seq": 65, "hash": .string(hash), "lines": .array(Array(repeating: "{}", count: 65)),
        ]).jsonText
        #expect(AgentStatus(configMap: configMap(["audit-head": many])).auditHead == nil)
        let long = JSON.object([
            "seq": 1, "hash": .string(hash), "lines": [.string(String(repeating: "x", count: 65_537))],
        ]).jsonText
        #expect(AgentStatus(configMap: configMap(["audit-head": long])).auditHead == nil)
        let empty = AgentStatus(configMap: configMap(["audit-head": #"{"seq":0,"hash":""}"#]))
        #expect(empty.auditHead == AuditHead(seq: 0, hash: ""))
    }

    @Test func aBadKeyEntryIsLeftOutAndTheOthersKept() throws {
        let text = JSON.object([
            "good": ["state": "applied", "version": 2, "at": "2026-11-25T19:58:14Z"],
            "huge": ["state": "applied", "version": .int(Int.max)],
            "odd-state": ["state": "maybe", "version": 1],
            "bad fingerprint": ["state": "applied", "version": 1],
            "fingerprint": ["state": "applied", "version": 1, "fingerprint": "fp1:XYZ"],
            "time": ["state": "applied", "version": 1, "at": "yesterday"],
            "long": [
                "state": "rejected", "version": 1, "reason": .string(String(repeating: "r", count: 5000)),
            ],
            "not-object": "x",
        ]).jsonText
        let status = AgentStatus(configMap: configMap(["sync-status": text]))
        #expect(status.keys.keys.sorted() == ["good"])
        #expect(status.keys["good"]?.version == 2)
        #expect(status.problems.count == 7)
        let all = status.problems.map(\.description).joined(separator: "\n")
        for fragment in [
            "data[sync-status][huge].version is 9223372036854775807, out of range",
            #"data[sync-status][odd-state] has state "maybe", not applied, rejected or deleted"#,
            "not a Secret key name", "fp1:", "not an RFC 3339 time",
            "reason is 5000 bytes long, over 4096", "data[sync-status][not-object] is not an object",
        ] {
            #expect(all.contains(fragment), "\(fragment) in \(all)")
        }
    }

    @Test func aPolicyRecordOfAnotherPolicyIsLeftOut() {
        let status = AgentStatus(
            configMap: configMap(["signatures": #"{"policy":"sometimes","since":"2026-11-25T19:58:14Z"}"#]))
        #expect(status.signatures == nil)
        #expect(
            status.problems.map(\.description)
                == [
                    #"ConfigMap prod/beluga-ai-secrets-status: data[signatures] has policy "sometimes", neither optional nor required"#
                ])
        let kept = AgentStatus(
            configMap: configMap(["signatures": #"{"policy":"required","since":"2026-11-25T19:58:14Z"}"#]))
        #expect(kept.signatures?.policy == .required && kept.problems.isEmpty)
    }

    @Test func theOldAnnotationsReadWithTheSameBounds() throws {
        let store: JSON = [
            "metadata": [
                "name": "beluga-ai-secrets-sealed", "namespace": "prod",
                "annotations": [
                    "beluga-ai.io/sync-status":
                        #"{"k":{"state":"applied","version":4,"fingerprint":"","at":""}}"#,
                    "beluga-ai.io/audit-head": #"{"seq":9223372036854775807,"hash":"x"}"#,
                ],
            ]
        ]
        #expect(LegacyStatusAnnotations.present(in: store))
        let status = LegacyStatusAnnotations.status(in: store)
        #expect(status.keys["k"]?.version == 4)
        #expect(status.auditHead == nil)
        #expect(
            status.problems.map(\.description) == [
                "ConfigMap prod/beluga-ai-secrets-sealed: annotation beluga-ai.io/audit-head.seq is "
                    + "9223372036854775807, out of range 0…4611686018427387903"
            ])
        #expect(!LegacyStatusAnnotations.present(in: ["metadata": ["name": "x"]]))
    }
}

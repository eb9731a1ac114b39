import Foundation
import JSONValue
import Sealing
import Testing

@testable import SecretSync

/// `audit` shows who rotated what and flags the changes no allowed signer proved.
@Suite struct AuditSignaturesTests {
    let identity = SigningKeyPair.generate()

    func log(_ records: [AuditRecord]) -> AuditLog {
        let chain = AuditChain(namespace: "prod")
        let lines = chain.prepare(records, ts: "2026-01-01T00:00:00Z", agent: "agent-a", identity: identity)
        var log = AuditLog()
        log.read(lines.map(\.text).joined(separator: "\n"), source: "test.log")
        return log
    }

    func change(_ version: Int, signer: String = "", reason: String = "", event: AuditEvent = .secretRotated)
        -> AuditRecord
    {
        AuditRecord(
            event: event, namespace: "prod", secret: "beluga-ai-secrets", key: "openai-api-key",
            version: version,
            fingerprint: "fp1:\(version)", sealedBy: "claimed@ws", signer: signer,
            signerKeyId: signer.isEmpty ? "" : "0123456789abcdef", reason: reason)
    }

    @Test func everyChangeHasASignatureStateAndFlaggedOnesAreMarked() throws {
        let records = [
            change(1, signer: "alice", event: .secretCreated),
            change(2, reason: "unsigned"),
            change(3, reason: "not verified: signed by unknown signer 0011223344556677"),
            change(
                4, signer: "alice", reason: "replayed: version 1 is not higher than version 3, applied before"
            ),
            change(
                5, signer: "bob",
                reason: "rollback from version 4 to the envelope of version 1, signed by bob"),
            change(
                6, reason: "set back: the value was changed in the Secret outside beluga-secrets; unsigned"),
            change(7, reason: "envelope is not signed, and a signature is required", event: .secretRejected),
        ]
        let timeline = AuditTimeline(log(records), identityKey: { _ in identity.publicKey })
        #expect(
            timeline.changes.map(\.signature) == [
                .verified, .unsigned, .unverified, .replayed, .verified, .unsigned,
            ])

        let table = timeline.table()
        let rows = table.split(separator: "\n").map(String.init)
        let header = try #require(rows.first { $0.contains("TIME") })
        #expect(header.contains("BY") && header.contains("SIGNED"))
        func row(_ version: Int) -> String { rows.first { $0.contains(" v\(version) ") } ?? "" }
        #expect(row(1).contains("alice") && row(1).hasSuffix(" yes"))
        #expect(row(2).contains("claimed@ws") && row(2).contains("UNSIGNED"))
        #expect(row(3).contains("UNVERIFIED"))
        #expect(row(4).contains("alice") && row(4).contains("REPLAYED"))
        #expect(row(5).contains("bob") && row(5).contains(" yes "))
        #expect(row(7).contains("secret.rejected") && row(7).contains(" - "))
        #expect(table.contains("4 changes were applied without an allowed signer's proof"))

        let json = timeline.json()
        let changes = try #require(json["changes"]?.arrayValue)
        #expect(changes.count == 6)
        #expect(
            changes.map { $0["signature"]?.stringValue ?? "" }
                == ["verified", "unsigned", "unverified", "replayed", "verified", "unsigned"])
        #expect(changes.map { $0["flagged"] } == [false, true, true, true, false, true])
        #expect(changes[0]["signer"] == "alice" && changes[0]["sealedBy"] == "claimed@ws")
        // The records stay exactly as logged.
        #expect(json["records"]?.arrayValue?.count == records.count)
    }

    @Test func aTrailWithOnlySignedChangesHasNoWarning() {
        let table = AuditTimeline(
            log([change(1, signer: "alice", event: .secretCreated)]), identityKey: { _ in identity.publicKey }
        ).table()
        #expect(!table.contains("without an allowed signer's proof"))
        #expect(!table.contains("UNCHECKED") && !table.contains("FORGED"))
    }

    @Test func aChangeShowsAsSignedOnlyWhenTheAgentsSignatureOfItsRecordVerified() throws {
        let records = [change(1, signer: "alice", event: .secretCreated), change(2, reason: "unsigned")]
        let unchecked = AuditTimeline(log(records))
        #expect(unchecked.changes.map(\.signature) == [.unchecked, .unsigned])
        #expect(!unchecked.table().contains(" yes"))
        #expect(unchecked.table().contains("1 change names an allowed signer"))

        let otherKey = SigningKeyPair.generate().publicKey
        let forged = AuditTimeline(log(records), identityKey: { _ in otherKey })
        #expect(forged.changes.map(\.signature) == [.forged, .forged])
        #expect(forged.recordSignatures == [.invalid, .invalid])
        #expect(forged.table().contains("2 records do not carry the agent's signature"))
        let json = forged.json()
        #expect(json["recordSignatures"] == ["invalid", "invalid"])
    }
}

import JSONValue
import Sealing
import Testing

@testable import SecretSync

/// The change id of a multi-cluster change: written by the CLI into the version record, read by
/// the agent as untrusted input, and named in the audit record of the change.
@Suite struct ChangeIDTests {
    let pair = SealingKeyPair.generate()

    func seal(_ value: String, key: String) throws -> String {
        let binding = try SecretBinding(namespace: "prod", secret: "beluga-ai-secrets", key: key)
        return try Envelope.seal(
            SecureBytes(Array(value.utf8)), for: binding, to: pair.publicKey, sealedBy: "bob"
        ).text
    }

    /// The store as the agent reads it from the cluster, with the version record of `a` given as
    /// raw JSON text (what anyone allowed to update the ConfigMap could write).
    func storeAsRead(change: JSON) throws -> SealedStore {
        var store = SealedStore()
        store.set(
            key: "a", envelope: try seal("1", key: "a"), fingerprint: "", sealedBy: "bob", sealedAt: "t")
        var configMap = store.newConfigMap(name: "beluga-ai-secrets-sealed", namespace: "prod")
        let text = try #require(
            configMap[path: "metadata", "annotations", "beluga-ai.io/sealed-versions"]?.stringValue)
        var versions = try JSON(parsing: Array(text.utf8))
        versions[path: "a", "change"] = change
        configMap[path: "metadata", "annotations", "beluga-ai.io/sealed-versions"] = .string(
            versions.jsonText)
        return try SealedStore(configMap: configMap, lenient: true)
    }

    func auditRecord(_ store: SealedStore) throws -> AuditRecord {
        let plan = SecretPlan(
            namespace: "prod", secretName: "beluga-ai-secrets", store: store,
            keyring: SealingKeyring(current: pair), live: nil, managed: [], at: "2026-01-01T00:00:00Z")
        return try #require(plan.auditRecords.first)
    }

    @Test func aWellFormedIdReachesTheAuditRecordAndItsSignedBytes() throws {
        let id = ChangeID.random()
        #expect(id.text.count == 16)
        #expect(ChangeID(id.text) == id)
        #expect(ChangeID.random() != id)

        // Written by a writer, read back by the agent.
        var written = SealedStore()
        written.set(
            key: "a", envelope: try seal("1", key: "a"), fingerprint: "", sealedBy: "bob", sealedAt: "t",
            change: id)
        let read = try SealedStore(
            configMap: written.newConfigMap(name: "beluga-ai-secrets-sealed", namespace: "prod"))
        #expect(read.versions["a"]?.change == id)

        let record = try auditRecord(read)
        #expect(record.event == .secretCreated)
        #expect(record.change == id.text)
        #expect(record.line.contains("\"change\":\"\(id.text)\""))
        #expect(String(decoding: record.signedBytes, as: UTF8.self).contains(id.text))
        // A line read back (by `audit`) gives the same record, so its signature still verifies.
        #expect(AuditRecord(json: try JSON(parsing: Array(record.line.utf8))) == record)
    }

    @Test func anythingElseInTheFieldIsIgnoredAndNeverReachesTheTrail() throws {
        let bad: [JSON] = [
            "0123456789ABCDEF",  // upper case
            "0123456789abcde",  // 15
            "0123456789abcdef0",  // 17
            "0123456789abcdeg",
            "deploy approved\", \"signer\": \"alice",
            .string(String(repeating: "a", count: 100_000)),
            42, .null, ["nested": "0123456789abcdef"],
        ]
        for value in bad {
            let store = try storeAsRead(change: value)
            #expect(store.versions["a"]?.change == nil)
            let record = try auditRecord(store)
            #expect(record.change == "")
            #expect(!record.line.contains("\"change\""))
        }
        // Without the field the record is what it always was.
        let plain = try auditRecord(try storeAsRead(change: .null))
        #expect(plain.json(includingSignature: false).objectValue?.keys.contains("change") == false)
    }

    @Test func aStaleRecordLendsNoId() throws {
        let id = ChangeID.random()
        var store = SealedStore()
        store.set(
            key: "a", envelope: try seal("1", key: "a"), fingerprint: "", sealedBy: "bob", sealedAt: "t",
            change: id)
        // The version record names another version than the one the envelope is the current of.
        store.versions["a"]?.version = 7
        #expect(SecretPlan.change(of: store.versions["a"], version: 1) == "")
        #expect(SecretPlan.change(of: store.versions["a"], version: 7) == id.text)
    }

    @Test func rollbacksAndDeletionsCarryTheirIdToTheAuditRecord() throws {
        let id = ChangeID.random()
        var store = SealedStore()
        store.set(
            key: "a", envelope: try seal("1", key: "a"), fingerprint: "", sealedBy: "bob", sealedAt: "t")
        store.set(
            key: "a", envelope: try seal("2", key: "a"), fingerprint: "", sealedBy: "bob", sealedAt: "t")
        try store.rollback(key: "a", by: "bob", at: "2026-01-01T00:00:00Z", change: id)
        let rolledBack = try SealedStore(
            configMap: store.newConfigMap(name: "beluga-ai-secrets-sealed", namespace: "prod"))
        #expect(rolledBack.versions["a"]?.rollbackOf == 1)
        #expect(try auditRecord(rolledBack).change == id.text)

        let deletion = ChangeID.random()
        try store.delete(key: "a", by: "bob", at: "2026-01-01T00:00:00Z", change: deletion)
        let deleted = try SealedStore(
            configMap: store.newConfigMap(name: "beluga-ai-secrets-sealed", namespace: "prod"))
        #expect(deleted.versions["a"]?.change == deletion)
        let plan = SecretPlan(
            namespace: "prod", secretName: "beluga-ai-secrets", store: deleted,
            keyring: SealingKeyring(current: pair), live: ["a": Array("1".utf8)], managed: ["a"],
            at: "2026-01-01T00:00:01Z")
        let record = try #require(plan.auditRecords.first)
        #expect(record.event == .secretDeleted)
        #expect(record.change == deletion.text)
    }
}

import Sealing
import Testing

@testable import SecretSync

@Suite struct SecretPlanTests {
    let pair = SealingKeyPair.generate()
    var keyring: SealingKeyring { SealingKeyring(current: pair) }

    func seal(_ value: String, key: String, namespace: String = "prod") throws -> String {
        let binding = try SecretBinding(namespace: namespace, secret: "beluga-ai-secrets", key: key)
        return try Envelope.seal(
            SecureBytes(Array(value.utf8)), for: binding, to: pair.publicKey, sealedBy: "bob"
        )
        .text
    }

    func fingerprint(_ value: String, key: String) throws -> String {
        let binding = try SecretBinding(namespace: "prod", secret: "beluga-ai-secrets", key: key)
        return Fingerprint(of: SecureBytes(Array(value.utf8)), binding: binding).text
    }

    func plan(
        _ store: SealedStore, status: [String: SyncStatus] = [:], live: [String: [UInt8]]?,
        managed: [String] = []
    ) -> SecretPlan {
        SecretPlan(
            namespace: "prod", secretName: "beluga-ai-secrets", store: store, status: status,
            keyring: keyring,
            live: live,
            managed: managed, at: "2026-01-01T00:00:00Z")
    }

    @Test func aNewKeyIsCreatedAndOthersAreLeftAlone() throws {
        var store = SealedStore()
        store.set(
            key: "a", envelope: try seal("1", key: "a"), fingerprint: "", sealedBy: "bob", sealedAt: "t")
        let result = plan(store, live: ["mine": Array("x".utf8)])
        #expect(result.outcomes.map(\.action) == [.create])
        #expect(result.desiredData == ["a": Array("1".utf8), "mine": Array("x".utf8)])
        #expect(result.managedKeys == ["a"])
        #expect(
            result.status["a"]
                == SyncStatus(
                    state: .applied, version: 1, fingerprint: try fingerprint("1", key: "a"),
                    at: "2026-01-01T00:00:00Z"))
        #expect(result.auditRecords.map(\.event) == [.secretCreated])
        #expect(result.changedKeys == ["a"])
    }

    @Test func aRecordedValueIsNotWrittenAgain() throws {
        var store = SealedStore()
        var status: [String: SyncStatus] = [:]
        store.set(
            key: "a", envelope: try seal("1", key: "a"), fingerprint: "", sealedBy: "bob", sealedAt: "t")
        status["a"] = SyncStatus(
            state: .applied, version: 1, fingerprint: try fingerprint("1", key: "a"), at: "t")
        let result = plan(store, status: status, live: ["a": Array("1".utf8)], managed: ["a"])
        #expect(result.outcomes.map(\.action) == [.unchanged])
        #expect(result.desiredData == nil)
        #expect(!result.statusChanged)
        #expect(result.auditRecords.isEmpty)
    }

    @Test func aValueAppliedButNotRecordedIsRecordedLate() throws {
        var store = SealedStore()
        var status: [String: SyncStatus] = [:]
        store.set(
            key: "a", envelope: try seal("1", key: "a"), fingerprint: "", sealedBy: "bob", sealedAt: "t")
        status["a"] = SyncStatus(
            state: .applied, version: 1, fingerprint: try fingerprint("1", key: "a"), at: "t")
        store.set(
            key: "a", envelope: try seal("2", key: "a"), fingerprint: "", sealedBy: "bob", sealedAt: "t")
        // The agent wrote version 2 into the Secret and stopped before recording it.
        let result = plan(store, status: status, live: ["a": Array("2".utf8)], managed: ["a"])
        #expect(result.outcomes.map(\.action) == [.recordApplied])
        #expect(result.desiredData == nil)
        let record = try #require(result.auditRecords.first)
        #expect(record.event == .secretRotated)
        #expect(record.version == 2)
        #expect(record.previousFingerprint == (try fingerprint("1", key: "a")))
        #expect(record.fingerprint == (try fingerprint("2", key: "a")))
    }

    @Test func aHandEditIsSetBack() throws {
        var store = SealedStore()
        var status: [String: SyncStatus] = [:]
        store.set(
            key: "a", envelope: try seal("1", key: "a"), fingerprint: "", sealedBy: "bob", sealedAt: "t")
        status["a"] = SyncStatus(
            state: .applied, version: 1, fingerprint: try fingerprint("1", key: "a"), at: "t")
        let result = plan(store, status: status, live: ["a": Array("edited".utf8)], managed: ["a"])
        #expect(result.outcomes.map(\.action) == [.revertHandEdit])
        #expect(result.desiredData?["a"] == Array("1".utf8))
        #expect(result.auditRecords.first?.previousFingerprint == (try fingerprint("edited", key: "a")))
        #expect(result.events.first?.reason == "HandEditReverted")
    }

    @Test func aBadEnvelopeIsRejectedOnceAndKeepsTheValue() throws {
        var store = SealedStore()
        var status: [String: SyncStatus] = [:]
        store.set(
            key: "a", envelope: try seal("1", key: "a"), fingerprint: "", sealedBy: "bob", sealedAt: "t")
        status["a"] = SyncStatus(
            state: .applied, version: 1, fingerprint: try fingerprint("1", key: "a"), at: "t")
        store.set(
            key: "a", envelope: try seal("2", key: "a", namespace: "staging"), fingerprint: "",
            sealedBy: "eve", sealedAt: "t")
        let first = plan(store, status: status, live: ["a": Array("1".utf8)], managed: ["a"])
        #expect(first.outcomes.map(\.action) == [.reject])
        #expect(first.desiredData == nil)
        #expect(first.status["a"]?.state == .rejected)
        #expect(first.auditRecords.map(\.event) == [.secretRejected])
        #expect(first.auditRecords.first?.reason.contains("namespace") == true)
        status = first.status
        let again = plan(store, status: status, live: ["a": Array("1".utf8)], managed: ["a"])
        #expect(again.outcomes.map(\.action) == [.stillRejected])
        #expect(again.auditRecords.isEmpty && again.events.isEmpty && !again.statusChanged)
        #expect(again.managedKeys == ["a"])

        // The bad envelope replaced by one holding the value the Secret kept: the key is accepted
        // again, recorded as no change of value, never as a key created a second time.
        store.set(
            key: "a", envelope: try seal("1", key: "a"), fingerprint: "", sealedBy: "bob", sealedAt: "t")
        let restored = plan(store, status: status, live: ["a": Array("1".utf8)], managed: ["a"])
        #expect(restored.outcomes.map(\.action) == [.recordApplied])
        #expect(restored.desiredData == nil)
        #expect(restored.status["a"]?.state == .applied)
        let record = try #require(restored.auditRecords.first)
        #expect(record.event == .secretRotated)
        #expect(record.fingerprint == (try fingerprint("1", key: "a")))
        #expect(record.previousFingerprint == record.fingerprint)
        #expect(record.reason.contains("accepted again after version 2 was rejected"), "\(record.reason)")
    }

    @Test func onlyATombstoneDeletesAKeyAVanishedOneIsOrphaned() throws {
        var store = SealedStore()
        var status: [String: SyncStatus] = [:]
        store.set(
            key: "b", envelope: try seal("2", key: "b"), fingerprint: "", sealedBy: "bob", sealedAt: "t")
        status["b"] = SyncStatus(
            state: .applied, version: 1, fingerprint: try fingerprint("2", key: "b"), at: "t")
        status["a"] = SyncStatus(
            state: .applied, version: 1, fingerprint: try fingerprint("1", key: "a"), at: "t")
        let live: [String: [UInt8]] = ["a": Array("1".utf8), "b": Array("2".utf8)]
        // "a" left the store without a deletion: kept, and reported as orphaned.
        let vanished = plan(store, status: status, live: live, managed: ["a", "b"])
        #expect(vanished.outcomes.map(\.action) == [.orphan, .unchanged])
        #expect(vanished.desiredData == nil)
        #expect(vanished.orphaned["a"]?.version == 1)
        // A sealed store created again, empty: nothing is deleted either.
        let empty = plan(SealedStore(), live: live, managed: ["a", "b"])
        #expect(empty.desiredData == nil)
        #expect(empty.outcomes.allSatisfy { $0.action == .orphan })
        // `delete` writes a tombstone: then the key goes.
        store.set(
            key: "a", envelope: try seal("1", key: "a"), fingerprint: "", sealedBy: "bob", sealedAt: "t")
        try store.delete(key: "a", by: "bob@ws", at: "2026-03-01T00:00:00Z")
        let deleted = plan(store, status: status, live: live, managed: ["a", "b"])
        #expect(deleted.outcomes.map(\.action) == [.delete, .unchanged])
        #expect(deleted.desiredData == ["b": Array("2".utf8)])
        #expect(deleted.status["a"]?.state == .deleted)
    }

    @Test func requiredSignaturesRefuseUnsignedEnvelopes() throws {
        var store = SealedStore()
        store.set(
            key: "a", envelope: try seal("1", key: "a"), fingerprint: "", sealedBy: "bob", sealedAt: "t")
        let result = SecretPlan(
            namespace: "prod", secretName: "beluga-ai-secrets", store: store, keyring: keyring, live: nil,
            managed: [],
            policy: .required, at: "t")
        #expect(result.outcomes.map(\.action) == [.reject])
        #expect(result.desiredData == nil)
    }
}

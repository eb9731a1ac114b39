import Foundation
import JSONValue
import Sealing
import Testing

@testable import SecretSync

/// The signature policy as the reconcile plan applies it: every envelope of issue "signed
/// rotations" under `required` and `optional`, replays, removed signers, signed rollbacks and
/// deleted keys.
@Suite struct SignaturePlanTests {
    let pair = SealingKeyPair.generate()
    let alice = SigningKeyPair.generate()
    let bob = SigningKeyPair.generate()
    let mallory = SigningKeyPair.generate()
    var keyring: SealingKeyring { SealingKeyring(current: pair) }
    let key = "openai-api-key"
    /// The agent's status per key as the plans read it (its status object), one per test.
    let agent = AgentStatusBox()

    var binding: SecretBinding {
        get throws { try SecretBinding(namespace: "prod", secret: "beluga-ai-secrets", key: key) }
    }

    /// alice and bob listed; carol (a key of her own) removed.
    func signers(removing: SigningKeyPair? = nil) throws -> AllowedSigners {
        var list = AllowedSigners()
        try list.add(name: "alice", key: alice.publicKey)
        try list.add(name: "bob", key: bob.publicKey)
        if let removing {
            try list.add(name: "carol", key: removing.publicKey)
            try list.remove(name: "carol", at: "2026-02-01T00:00:00Z", by: "admin@ws")
        }
        return list
    }

    func signed(
        _ value: String, version: Int, by signer: SigningKeyPair, sealedAt: String = "2026-01-01T00:00:00Z"
    ) throws -> String {
        try Envelope.seal(
            SecureBytes(Array(value.utf8)), for: binding, to: pair.publicKey, sealedBy: "someone@ws",
            sealedAt: sealedAt, version: version, signer: signer
        ).text
    }

    func unsigned(_ value: String) throws -> String {
        try Envelope.seal(
            SecureBytes(Array(value.utf8)), for: binding, to: pair.publicKey, sealedBy: "someone@ws"
        )
        .text
    }

    func fingerprint(_ value: String) throws -> String {
        Fingerprint(of: SecureBytes(Array(value.utf8)), binding: try binding).text
    }

    func store(_ envelope: String, version: Int = 1) -> SealedStore {
        var store = SealedStore()
        for _ in 1...version {
            store.set(key: key, envelope: envelope, fingerprint: "", sealedBy: "someone@ws", sealedAt: "t")
        }
        return store
    }

    func plan(
        _ store: SealedStore, policy: SignaturePolicy, signers list: AllowedSigners? = nil,
        live: [String: [UInt8]]? = nil, applied: [String: AppliedVersion] = [:]
    ) throws -> SecretPlan {
        SecretPlan(
            namespace: "prod", secretName: "beluga-ai-secrets", store: store, status: agent.keys,
            keyring: keyring,
            live: live,
            managed: live == nil ? [] : [key], policy: policy, signers: try list ?? signers(),
            applied: applied,
            at: "2026-03-01T00:00:00Z")
    }

    /// The same envelope with one byte of its signature changed.
    func tampered(_ envelope: String) -> String {
        var bytes = Array(envelope.utf8)
        let index = bytes.count - 5
        bytes[index] = bytes[index] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        return String(decoding: bytes, as: UTF8.self)
    }

    // MARK: - Signed by an allowed signer

    @Test(arguments: SignaturePolicy.allCases)
    func aSignedEnvelopeIsAppliedWithItsSigner(policy: SignaturePolicy) throws {
        let result = try plan(store(signed("v1", version: 1, by: alice)), policy: policy)
        #expect(result.outcomes.map(\.action) == [.create])
        let record = try #require(result.auditRecords.first)
        #expect(record.signer == "alice")
        #expect(record.signerKeyId == alice.signerID.hex)
        #expect(record.sealedBy == "someone@ws")
        #expect(record.reason == "")
        #expect(ChangeSignature(record) == .verified)
        #expect(result.appliedVersions[key] == AppliedVersion(version: 1, fingerprint: try fingerprint("v1")))
    }

    // MARK: - The signed version writers number above

    /// Signed envelopes that reached the store without a version record (Helm's `sealedSecrets`,
    /// sealed with `seal --version 7`): the status publishes the signed version, and a writer's
    /// next version is above it, so `required` does not refuse that change as a replay.
    @Test func theStatusPublishesTheSignedVersionAndWritersNumberAboveIt() throws {
        var store = SealedStore()
        store.envelopes[key] = try signed("from-helm", version: 7, by: alice)
        #expect(store.nextVersion(of: key) == 1)
        let first = try plan(store, policy: .required)
        #expect(first.outcomes.map(\.action) == [.create])
        #expect(first.status[key]?.signedVersion == 7)
        agent.keys = first.status
        // The entry survives the status object's JSON, and writers number above it.
        var written = AgentStatus()
        written.keys = first.status
        let reread = AgentStatus(configMap: written.writing(into: nil, name: "s", namespace: "prod"))
        #expect(reread.keys[key]?.signedVersion == 7)
        store.signedVersions = reread.keys.compactMapValues(\.signedVersion)
        #expect(store.nextVersion(of: key) == 8)
        let version = store.set(
            key: key, envelope: try signed("next", version: store.nextVersion(of: key), by: bob),
            fingerprint: "", sealedBy: "bob@ws", sealedAt: "t")
        #expect(version == 8)
        let second = try plan(
            store, policy: .required, live: [key: Array("from-helm".utf8)], applied: first.appliedVersions)
        #expect(second.outcomes.map(\.action) == [.rotate])
        #expect(second.status[key]?.version == 8)
        #expect(second.status[key]?.signedVersion == 8)
    }

    /// A status written before the agent published signed versions gets it on the next pass,
    /// without a change or a record; a rejection keeps the version applied before.
    @Test func anOlderStatusGetsTheSignedVersionAndARejectionKeepsIt() throws {
        var store = store(try signed("v3", version: 3, by: alice), version: 3)
        let live = [key: Array("v3".utf8)]
        let applied = [key: AppliedVersion(version: 3, fingerprint: try fingerprint("v3"))]
        agent.keys[key] = SyncStatus(
            state: .applied, version: 3, fingerprint: try fingerprint("v3"), at: "t")
        let upgraded = try plan(store, policy: .required, live: live, applied: applied)
        #expect(upgraded.outcomes.map(\.action) == [.unchanged])
        #expect(upgraded.auditRecords.isEmpty)
        #expect(upgraded.statusChanged)
        #expect(upgraded.status[key]?.signedVersion == 3)
        agent.keys = upgraded.status
        #expect(try plan(store, policy: .required, live: live, applied: applied).statusChanged == false)

        store.set(key: key, envelope: try unsigned("evil"), fingerprint: "", sealedBy: "x", sealedAt: "t")
        let refused = try plan(store, policy: .required, live: live, applied: applied)
        #expect(refused.outcomes.map(\.action) == [.reject])
        #expect(refused.status[key]?.state == .rejected)
        #expect(refused.status[key]?.signedVersion == 3)
    }

    // MARK: - What `required` refuses and `optional` flags

    enum Bad: String, CaseIterable {
        case unsigned, forged, tamperedSignature, replayed
    }

    func badCase(_ bad: Bad) throws -> (
        store: SealedStore, applied: [String: AppliedVersion], live: [String: [UInt8]]?
    ) {
        switch bad {
        case .unsigned:
            return (store(try unsigned("evil")), [:], nil)
        case .forged:
            // A valid seal, signed by a key nobody listed.
            return (store(try signed("evil", version: 9, by: mallory)), [:], nil)
        case .tamperedSignature:
            return (store(tampered(try signed("evil", version: 9, by: alice))), [:], nil)
        case .replayed:
            // Version 5 of another value was applied; alice's genuine version 3 comes back.
            let applied = [key: AppliedVersion(version: 5, fingerprint: try fingerprint("current"))]
            return (
                store(try signed("old", version: 3, by: alice), version: 6), applied,
                [key: Array("current".utf8)]
            )
        }
    }

    @Test(arguments: Bad.allCases)
    func requiredRefusesAndKeepsThePreviousValue(bad: Bad) throws {
        let (store, applied, live) = try badCase(bad)
        let result = try plan(store, policy: .required, live: live, applied: applied)
        #expect(result.outcomes.map(\.action) == [.reject])
        #expect(result.desiredData == nil, "nothing is written")
        #expect(result.appliedVersions == applied)
        let reason = try #require(result.status[key]?.reason)
        let expected: [Bad: String] = [
            .unsigned: "not signed", .forged: "signer \(mallory.signerID), which is not an allowed signer",
            .tamperedSignature: "signature in the name of signer alice (\(alice.signerID)) does not verify",
            .replayed: "version 3 is not higher than version 5",
        ]
        #expect(reason.contains(expected[bad] ?? "?"), "\(reason)")
        #expect(result.auditRecords.map(\.event) == [.secretRejected])
        #expect(result.events.map(\.reason) == ["EnvelopeRejected"])
    }

    @Test(arguments: Bad.allCases)
    func optionalAppliesButFlags(bad: Bad) throws {
        let (store, applied, live) = try badCase(bad)
        let result = try plan(store, policy: .optional, live: live, applied: applied)
        #expect(result.outcomes.map(\.action) == [live == nil ? .create : .rotate])
        let record = try #require(result.auditRecords.first)
        let expected: [Bad: (ChangeSignature, String)] = [
            .unsigned: (.unsigned, "unsigned"),
            .forged: (.unverified, "not verified: signed by unknown signer \(mallory.signerID)"),
            .tamperedSignature: (.unverified, "not verified: bad signature in the name of signer alice"),
            .replayed: (.replayed, "replayed: version 3 is not higher than version 5, applied before"),
        ]
        #expect(ChangeSignature(record) == expected[bad]?.0)
        #expect(record.reason.hasPrefix(expected[bad]?.1 ?? "?"), "\(record.reason)")
        // Only a replay names its (genuine) signer; the others have no proven author.
        #expect(record.signer == (bad == .replayed ? "alice" : ""))
        // Nothing unproven raises the applied version.
        #expect(result.appliedVersions == applied)
    }

    @Test func aPayloadNamingAnotherSignerIsRefusedUnderBothPolicies() throws {
        // mallory re-signs alice's envelope as her own: the payload still names alice.
        let original = try Envelope.parse(try signed("v", version: 1, by: alice))
        let text = "bs2.\(original.keyID).\(mallory.signerID).\(base64url(original.ciphertext))"
        let forged = text + "." + base64url(mallory.sign(Array(text.utf8)))
        var list = try signers()
        try list.add(name: "mallory", key: mallory.publicKey)
        for policy in SignaturePolicy.allCases {
            let result = try plan(store(forged), policy: policy, signers: list)
            #expect(result.outcomes.map(\.action) == [.reject])
            #expect(result.status[key]?.reason.contains("names another signer") == true)
        }
    }

    // MARK: - Replays

    @Test func theAppliedEnvelopeIsNotAReplayOfItself() throws {
        let envelope = try signed("v5", version: 5, by: alice)
        let applied = [key: AppliedVersion(version: 5, fingerprint: try fingerprint("v5"))]
        let stored = store(envelope, version: 5)
        agent.keys[key] = SyncStatus(
            state: .applied, version: 5, fingerprint: try fingerprint("v5"), at: "t")
        let same = try plan(stored, policy: .required, live: [key: Array("v5".utf8)], applied: applied)
        #expect(same.outcomes.map(\.action) == [.unchanged])
        #expect(same.desiredData == nil)
        // Edited by hand: set back, which is no replay either.
        let edited = try plan(stored, policy: .required, live: [key: Array("hand".utf8)], applied: applied)
        #expect(edited.outcomes.map(\.action) == [.revertHandEdit])
        #expect(edited.auditRecords.first?.signer == "alice")
    }

    @Test func anotherEnvelopeWithTheAppliedVersionIsAReplay() throws {
        let applied = [key: AppliedVersion(version: 5, fingerprint: try fingerprint("v5"))]
        let result = try plan(
            store(try signed("other", version: 5, by: alice), version: 5), policy: .required,
            live: [key: Array("v5".utf8)], applied: applied)
        #expect(result.outcomes.map(\.action) == [.reject])
    }

    @Test func aHigherVersionRaisesTheAppliedVersionAndIsWrittenWithTheValue() throws {
        let applied = [key: AppliedVersion(version: 5, fingerprint: try fingerprint("v5"))]
        let result = try plan(
            store(try signed("v6", version: 6, by: bob), version: 6), policy: .required,
            live: [key: Array("v5".utf8)], applied: applied)
        #expect(result.outcomes.map(\.action) == [.rotate])
        #expect(result.appliedVersions[key] == AppliedVersion(version: 6, fingerprint: try fingerprint("v6")))
        #expect(result.auditRecords.first?.signer == "bob")
    }

    @Test func anAppliedValueWithoutAnAppliedVersionGetsOneWritten() throws {
        // The Secret holds the value (written before signatures were checked): only the
        // annotation changes, which needs a write of the Secret but no record.
        let stored = store(try signed("v2", version: 2, by: alice), version: 2)
        agent.keys[key] = SyncStatus(
            state: .applied, version: 2, fingerprint: try fingerprint("v2"), at: "t")
        let result = try plan(stored, policy: .required, live: [key: Array("v2".utf8)])
        #expect(result.outcomes.map(\.action) == [.unchanged])
        #expect(result.desiredData == [key: Array("v2".utf8)])
        #expect(result.appliedVersions[key]?.version == 2)
        #expect(result.auditRecords.isEmpty)
    }

    // MARK: - Removed signers

    @Test func aRemovedSignersNewEnvelopeIsRefusedWhileItsAppliedValueStays() throws {
        let carol = SigningKeyPair.generate()
        let list = try signers(removing: carol)
        // Her version 2 was applied before she was removed: it stays, no rejection.
        let before = try signed("carol-2", version: 2, by: carol)
        var stored = store(before, version: 2)
        agent.keys[key] = SyncStatus(
            state: .applied, version: 2, fingerprint: try fingerprint("carol-2"), at: "t", signedVersion: 2)
        let applied = [key: AppliedVersion(version: 2, fingerprint: try fingerprint("carol-2"))]
        let kept = try plan(
            stored, policy: .required, signers: list, live: [key: Array("carol-2".utf8)], applied: applied)
        #expect(kept.outcomes.map(\.action) == [.unchanged])
        #expect(kept.desiredData == nil)
        #expect(!kept.statusChanged)

        // Her new version 3 is refused, naming her as removed.
        stored.set(
            key: key, envelope: try signed("carol-3", version: 3, by: carol), fingerprint: "", sealedBy: "c",
            sealedAt: "t")
        let refused = try plan(
            stored, policy: .required, signers: list, live: [key: Array("carol-2".utf8)], applied: applied)
        #expect(refused.outcomes.map(\.action) == [.reject])
        #expect(refused.desiredData == nil)
        let reason = refused.status[key]?.reason ?? ""
        #expect(
            reason.contains(
                "signer carol (\(carol.signerID)), removed from the allowed signers at 2026-02-01T00:00:00Z"),
            "\(reason)")
        #expect(refused.managedKeys == [key], "the key stays managed with its previous value")
    }

    // MARK: - Signed rollback

    /// Versions 3 (alice) and 4 (bob) were set; version 4 is applied.
    func storeWithHistory() throws -> (SealedStore, [String: AppliedVersion]) {
        var stored = SealedStore()
        for (version, value, signer) in [
            (1, "v1", alice), (2, "v2", alice), (3, "v3", alice), (4, "v4", bob),
        ] {
            stored.set(
                key: key, envelope: try signed(value, version: version, by: signer),
                fingerprint: try fingerprint(value),
                sealedBy: "someone@ws", sealedAt: "t")
        }
        agent.keys[key] = SyncStatus(
            state: .applied, version: 4, fingerprint: try fingerprint("v4"), at: "t")
        return (stored, [key: AppliedVersion(version: 4, fingerprint: try fingerprint("v4"))])
    }

    @Test func aSignedRollbackIsAppliedAndRecordedAsSuch() throws {
        var (stored, applied) = try storeWithHistory()
        let version = try stored.rollback(
            key: key, to: 3, by: "bob@ws", at: "2026-03-01T00:00:00Z",
            signer: RollbackSigner(key: bob, binding: try binding))
        #expect(version == 5)
        let statement = try #require(stored.versions[key]?.rollback)
        #expect(statement.from == 4 && statement.to == 3 && statement.version == 5)
        let result = try plan(stored, policy: .required, live: [key: Array("v4".utf8)], applied: applied)
        #expect(result.outcomes.map(\.action) == [.rotate])
        #expect(result.desiredData?[key] == Array("v3".utf8))
        let record = try #require(result.auditRecords.first)
        #expect(record.signer == "bob")
        #expect(record.signerKeyId == bob.signerID.hex)
        #expect(record.version == 5)
        #expect(
            record.reason.hasPrefix("rollback from version 4 to the envelope of version 3, signed by bob"))
        #expect(record.reason.contains("signed by alice (\(alice.signerID))"))
        #expect(ChangeSignature(record) == .verified)
        #expect(result.appliedVersions[key] == AppliedVersion(version: 5, fingerprint: try fingerprint("v3")))

        // Applied: the next reconcile changes nothing.
        agent.keys = result.status
        applied = result.appliedVersions
        let again = try plan(stored, policy: .required, live: [key: Array("v3".utf8)], applied: applied)
        #expect(again.outcomes.map(\.action) == [.unchanged])
        #expect(again.desiredData == nil)
    }

    @Test func anUnsignedRollbackOfASignedEnvelopeIsAReplay() throws {
        var (stored, applied) = try storeWithHistory()
        try stored.rollback(key: key, to: 3, by: "bob@ws", at: "t")
        let required = try plan(stored, policy: .required, live: [key: Array("v4".utf8)], applied: applied)
        #expect(required.outcomes.map(\.action) == [.reject])
        #expect(required.status[key]?.reason.contains("version 3 is not higher than version 4") == true)
        let optional = try plan(stored, policy: .optional, live: [key: Array("v4".utf8)], applied: applied)
        #expect(optional.outcomes.map(\.action) == [.rotate])
        #expect(optional.auditRecords.first.map { ChangeSignature($0) } == .replayed)
        applied = optional.appliedVersions
        #expect(applied[key]?.version == 4)
    }

    @Test func aRollbackStatementThatDoesNotVerifyIsRefused() throws {
        let (base, applied) = try storeWithHistory()
        let live = [key: Array("v4".utf8)]
        // Signed by a key nobody listed.
        var byMallory = base
        try byMallory.rollback(
            key: key, to: 3, by: "m", at: "t", signer: RollbackSigner(key: mallory, binding: try binding))
        let refused = try plan(byMallory, policy: .required, live: live, applied: applied)
        #expect(
            refused.status[key]?.reason.contains("rollback statement is signed by signer \(mallory.signerID)")
                == true)
        // Altered after signing: a higher version claimed.
        var altered = base
        try altered.rollback(
            key: key, to: 3, by: "b", at: "t", signer: RollbackSigner(key: bob, binding: try binding))
        altered.versions[key]?.rollback?.version = 9
        let alteredPlan = try plan(altered, policy: .required, live: live, applied: applied)
        #expect(alteredPlan.status[key]?.reason.contains("rollback statement's signature") == true)
        // Signed for another namespace: not valid here.
        var moved = base
        let staging = try SecretBinding(namespace: "staging", secret: "beluga-ai-secrets", key: key)
        try moved.rollback(
            key: key, to: 3, by: "b", at: "t", signer: RollbackSigner(key: bob, binding: staging))
        #expect(
            try plan(moved, policy: .required, live: live, applied: applied).outcomes.map(\.action) == [
                .reject
            ])
        // A statement naming another envelope than the one stored does not apply to it.
        var other = base
        try other.rollback(
            key: key, to: 3, by: "b", at: "t", signer: RollbackSigner(key: bob, binding: try binding))
        other.envelopes[key] = try signed("v2", version: 2, by: alice)
        let otherPlan = try plan(other, policy: .required, live: live, applied: applied)
        #expect(otherPlan.status[key]?.reason.contains("version 2 is not higher than version 4") == true)
    }

    @Test func aRollbackReplayedAfterANewerVersionIsRefused() throws {
        var (stored, _) = try storeWithHistory()
        try stored.rollback(
            key: key, to: 3, by: "b", at: "t", signer: RollbackSigner(key: bob, binding: try binding))
        // Version 6 (by alice) was applied after the rollback; the rollback comes back.
        let applied = [key: AppliedVersion(version: 6, fingerprint: try fingerprint("v6"))]
        let result = try plan(stored, policy: .required, live: [key: Array("v6".utf8)], applied: applied)
        #expect(result.outcomes.map(\.action) == [.reject])
        #expect(result.status[key]?.reason.contains("version 5 is not higher than version 6") == true)
    }

    // MARK: - Deleted keys

    @Test func aDeletedKeyIsRememberedSoItsOldEnvelopesCannotReturn() throws {
        var stored = store(try signed("v4", version: 4, by: alice), version: 4)
        agent.keys[key] = SyncStatus(
            state: .applied, version: 4, fingerprint: try fingerprint("v4"), at: "t")
        let applied = [key: AppliedVersion(version: 4, fingerprint: try fingerprint("v4"))]
        let old = stored.envelopes[key] ?? ""
        // Under `required`, a deletion is applied only when an allowed signer signed it.
        try stored.delete(
            key: key, by: "bob@ws", at: "2026-02-15T00:00:00Z",
            signer: RollbackSigner(key: alice, binding: try binding))
        let deleted = try plan(stored, policy: .required, live: [key: Array("v4".utf8)], applied: applied)
        #expect(deleted.outcomes.map(\.action) == [.delete])
        let tombstone = try #require(deleted.appliedVersions[key])
        #expect(
            tombstone
                == AppliedVersion(
                    version: 0, fingerprint: "", deletedVersion: 5, deletedAt: "2026-03-01T00:00:00Z"))

        // The old envelope stored again: sealed before the deletion, so refused.
        var replayed = SealedStore()
        replayed.set(key: key, envelope: old, fingerprint: "", sealedBy: "x", sealedAt: "t")
        let refused = try plan(replayed, policy: .required, live: [:], applied: deleted.appliedVersions)
        #expect(refused.outcomes.map(\.action) == [.reject])
        #expect(refused.status[key]?.reason.contains("sealed before the key was deleted") == true)

        // Set again after the deletion, starting from version 1: applied.
        var fresh = SealedStore()
        fresh.set(
            key: key, envelope: try signed("new", version: 1, by: alice, sealedAt: "2026-03-02T00:00:00Z"),
            fingerprint: "", sealedBy: "x", sealedAt: "t")
        let created = try plan(fresh, policy: .required, live: [:], applied: deleted.appliedVersions)
        #expect(created.outcomes.map(\.action) == [.create])
        let entry = try #require(created.appliedVersions[key])
        #expect(entry.version == 1 && entry.deletedVersion == 5)
        // …and the old envelope is still refused after that.
        let stillRefused = try plan(
            replayed, policy: .required, live: [key: Array("new".utf8)], applied: created.appliedVersions)
        #expect(stillRefused.outcomes.map(\.action) == [.reject])
    }

    // MARK: - The namespace's policy

    @Test func theSignersConfigMapsAnnotationOverridesTheFlag() throws {
        func list(_ annotation: String?) throws -> AllowedSigners {
            var object: JSON = [
                "metadata": ["name": "beluga-secrets-signers"],
                "data": ["alice": .string(alice.publicKey.base64)],
            ]
            if let annotation {
                object[path: "metadata", "annotations", AllowedSigners.policyAnnotation] = .string(annotation)
            }
            return try AllowedSigners(configMap: object)
        }
        #expect(try list(nil).effectivePolicy(default: .optional) == .optional)
        #expect(try list("required").effectivePolicy(default: .optional) == .required)
        #expect(try list("optional").effectivePolicy(default: .required) == .optional)
        // A typo never turns verification off.
        let typo = try list("requird")
        #expect(typo.effectivePolicy(default: .optional) == .required)
        #expect(typo.problems.count == 1)
    }
}

func base64url(_ bytes: [UInt8]) -> String {
    Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(
        of: "/", with: "_"
    )
    .replacingOccurrences(of: "=", with: "")
}

/// A mutable place for the agent's status in a test suite whose tests are not mutating.
final class AgentStatusBox: @unchecked Sendable {
    var keys: [String: SyncStatus] = [:]
}

import Sealing

/// What one reconcile of a namespace's Secret must do, worked out from the sealed store, the
/// agent's keys and the live Secret, before anything is written.
///
/// Keeping this pure makes every rule of docs/formats.md a unit test: which keys to write, which
/// envelopes to refuse (and whether that was already reported), which hand edits to set back,
/// which keys to remove, and the audit records, Events and sync status that go with them.
public struct SecretPlan: Sendable {
    /// What happens to one key.
    public enum Action: String, Sendable {
        /// The Secret already holds the sealed value and the status says so.
        case unchanged
        /// The key is added to the Secret.
        case create
        /// The key's value is replaced with a new sealed version.
        case rotate
        /// Someone changed the value in the Secret; it is set back to the sealed value.
        case revertHandEdit
        /// The Secret already holds the sealed value, but no record says so (an agent stopped
        /// between writing the Secret and recording it); the record is written now.
        case recordApplied
        /// A deletion of the key (its tombstone) is applied: the key is removed from the Secret.
        case delete
        /// The key left the sealed store without a deletion: it stays in the Secret, reported once.
        case orphan
        /// The envelope is refused; the Secret keeps what it had.
        case reject
        /// The envelope is refused, as it was on an earlier reconcile; nothing new to report.
        case stillRejected
    }

    /// The outcome for one key.
    public struct KeyOutcome: Sendable {
        public var key: String
        public var action: Action
        public var version: Int
        public var fingerprint: String
        public var previousFingerprint: String
        public var sealedBy: String
        public var sealedAt: String
        public var signer: String
        public var signerKeyId: String
        /// Why, for rejections and reverts.
        public var reason: String
        /// The multi-cluster change this version belongs to (a well-formed `ChangeID`), or empty.
        public var change: String = ""
    }

    /// An Event to emit about the Secret.
    public struct PlannedEvent: Sendable, Equatable {
        public var warning: Bool
        public var reason: String
        public var message: String
    }

    public let namespace: String
    public let secretName: String
    /// Per-key outcomes, sorted by key.
    public internal(set) var outcomes: [KeyOutcome] = []
    /// The Secret's data after the write; `nil` when nothing must be written.
    public internal(set) var desiredData: [String: [UInt8]]?
    /// The value of the `managed-keys` annotation after the write.
    public internal(set) var managedKeys: [String] = []
    /// The sync status to record.
    public internal(set) var status: [String: SyncStatus] = [:]
    /// The orphaned keys to record: managed keys that left the sealed store without a deletion.
    public internal(set) var orphaned: [String: OrphanedKey] = [:]
    /// The Secret's applied versions after the write (its `applied-versions` annotation).
    public internal(set) var appliedVersions: [String: AppliedVersion] = [:]
    /// The signature policy the plan followed.
    public let policy: SignaturePolicy

    /// The annotation of the Secret listing the keys the agent manages.
    public static let managedKeysAnnotation = "beluga-ai.io/managed-keys"

    /// Keys whose value in the Secret changes.
    public var changedKeys: [String] {
        outcomes.filter { [.create, .rotate, .revertHandEdit, .delete].contains($0.action) }.map(\.key)
    }

    /// Whether the status annotation must be written (new outcomes to record).
    public var statusChanged: Bool

    /// The audit records of this plan, in key order (numbered and signed later).
    public var auditRecords: [AuditRecord] {
        outcomes.compactMap { outcome in
            let event: AuditEvent
            var reason = outcome.reason
            switch outcome.action {
            case .unchanged, .stillRejected: return nil
            case .create: event = .secretCreated
            case .rotate: event = .secretRotated
            case .revertHandEdit:
                event = .secretRotated
                reason = ["set back: the value was changed in the Secret outside beluga-secrets", reason]
                    .filter { !$0.isEmpty }.joined(separator: "; ")
            case .recordApplied:
                event = outcome.previousFingerprint.isEmpty ? .secretCreated : .secretRotated
            case .delete: event = .secretDeleted
            case .orphan: return nil
            case .reject: event = .secretRejected
            }
            return AuditRecord(
                event: event, namespace: namespace, secret: secretName, key: outcome.key,
                version: outcome.version,
                fingerprint: outcome.fingerprint, previousFingerprint: outcome.previousFingerprint,
                sealedBy: outcome.sealedBy, sealedAt: outcome.sealedAt, signer: outcome.signer,
                signerKeyId: outcome.signerKeyId, reason: reason, change: outcome.change)
        }
    }

    /// The Events of this plan, about the Secret.
    public var events: [PlannedEvent] {
        outcomes.compactMap { outcome in
            let version = "version \(outcome.version)"
            switch outcome.action {
            case .unchanged, .stillRejected, .recordApplied: return nil
            case .create:
                return PlannedEvent(
                    warning: false, reason: "KeyCreated",
                    message: "key \(outcome.key) created from sealed \(version) (\(outcome.fingerprint))")
            case .rotate:
                return PlannedEvent(
                    warning: false, reason: "KeyRotated",
                    message: "key \(outcome.key) rotated to sealed \(version) (\(outcome.fingerprint))")
            case .revertHandEdit:
                return PlannedEvent(
                    warning: true, reason: "HandEditReverted",
                    message:
                        "key \(outcome.key) was changed outside beluga-secrets; set back to sealed \(version)"
                )
            case .delete:
                let by = outcome.signer.isEmpty ? outcome.sealedBy : outcome.signer
                return PlannedEvent(
                    warning: false, reason: "KeyDeleted",
                    message: "key \(outcome.key) deleted (\(version), by \(by))")
            case .orphan:
                return PlannedEvent(
                    warning: true, reason: "KeyOrphaned",
                    message:
                        "key \(outcome.key) left the sealed store without a deletion: the Secret keeps it (\(version)); "
                        + "delete it with beluga-secrets delete \(outcome.key), or put it back in the sealed store"
                )
            case .reject:
                return PlannedEvent(
                    warning: true, reason: "EnvelopeRejected",
                    message:
                        "sealed \(version) of key \(outcome.key) refused: \(outcome.reason); the previous value stays"
                )
            }
        }
    }

    /// Works out the plan.
    ///
    /// - Parameters:
    ///   - store: the sealed store as read.
    ///   - status: the agent's status per key, as it last recorded it.
    ///   - orphaned: the keys it last recorded as orphaned.
    ///   - keyring: the agent's sealing keys.
    ///   - live: the Secret's current data, `nil` when the Secret does not exist.
    ///   - managed: the Secret's `managed-keys` annotation.
    ///   - policy: whether envelopes without an allowed signer's proof are applied.
    ///   - signers: the namespace's allowed (and removed) signers.
    ///   - applied: the Secret's `applied-versions` annotation.
    ///   - direct: the keys the Secret's `direct-versions` annotation lists (written with
    ///     `--direct`): their envelopes are refused, not taken over.
    ///   - at: the time to stamp on status entries.
    public init(
        namespace: String, secretName: String, store: SealedStore,
        status previousStatus: [String: SyncStatus] = [:],
        orphaned previouslyOrphaned: [String: OrphanedKey] = [:], keyring: SealingKeyring,
        live: [String: [UInt8]]?, managed: [String], policy: SignaturePolicy = .optional,
        signers: AllowedSigners = AllowedSigners(), applied: [String: AppliedVersion] = [:],
        direct: Set<String> = [], at now: String
    ) {
        self.namespace = namespace
        self.secretName = secretName
        self.policy = policy
        statusChanged = false
        var data = live ?? [:]
        var managedSet = Set(managed)
        var status = previousStatus
        var orphaned = previouslyOrphaned
        var appliedVersions = applied
        let allowedKeys = signers.publicKeys

        for key in store.keys {
            guard let text = store.envelopes[key] else { continue }
            // A version record out of bounds tells nothing: the version recorded before stays.
            let version =
                store.damagedRecords.contains(key) ? (status[key]?.version ?? 0) : store.version(of: key)
            let record = store.versions[key]
            let previous = status[key]
            let liveValue = live?[key]
            let binding: SecretBinding
            do {
                binding = try SecretBinding(namespace: namespace, secret: secretName, key: key)
            } catch {
                reject(key: key, version: version, record: record, reason: "\(error)", liveValue: liveValue)
                continue
            }
            if direct.contains(key) {
                reject(
                    key: key, version: version, record: record,
                    reason: "key \(key) is written straight into the Secret (--direct; annotation "
                        + "\(DirectVersions.annotation)): the agent does not take it over; run beluga-secrets delete "
                        + "\(key) --direct first, then set it again, or have a user who may update the Secret "
                        + "run beluga-secrets set \(key), which hands it over", liveValue: nil)
                continue
            }
            let liveFingerprint =
                liveValue.map { Fingerprint(of: SecureBytes($0), binding: binding).text } ?? ""

            let opened: VerifiedPayload
            do {
                let envelope = try Envelope.parse(text)
                opened = try keyring.open(envelope, expecting: binding, allowedSigners: allowedKeys)
            } catch {
                reject(key: key, version: version, record: record, reason: "\(error)", liveValue: liveValue)
                continue
            }
            let payload = opened.payload
            let fingerprint = Fingerprint(of: payload.value, binding: binding).text
            let acceptance: SignatureCheck.Acceptance
            switch SignatureCheck.verdict(
                text: text, opened: opened, binding: binding, fingerprint: fingerprint, signers: signers,
                statement: record?.rollback, applied: applied[key], policy: policy)
            {
            case .reject(let reason):
                reject(key: key, version: version, record: record, reason: reason, liveValue: liveValue)
                continue
            case .accept(let accepted):
                acceptance = accepted
            }
            appliedVersions[key] = acceptance.applied
            var outcome = KeyOutcome(
                key: key, action: .unchanged, version: version, fingerprint: fingerprint,
                previousFingerprint: liveFingerprint, sealedBy: payload.sealedBy, sealedAt: payload.sealedAt,
                signer: acceptance.signer, signerKeyId: acceptance.signerKeyId, reason: acceptance.reason,
                change: Self.change(of: record, version: version))
            let recorded =
                previous?.state == .applied && previous?.version == version
                && previous?.fingerprint == fingerprint
            if liveFingerprint == fingerprint {
                if recorded {
                    outcome.action = .unchanged
                } else {
                    outcome.action = .recordApplied
                    let why: String
                    if let previous, previous.state == .applied, !previous.fingerprint.isEmpty {
                        outcome.previousFingerprint = previous.fingerprint
                        why =
                            previous.fingerprint == fingerprint
                            ? "version \(version) holds the value version \(previous.version) held"
                            : "applied earlier, but its record was not written then (the agent stopped, or the API refused the write); recorded now"
                    } else if let previous, previous.state == .rejected {
                        // A rejected envelope replaced by one holding the value the Secret kept.
                        outcome.previousFingerprint = liveFingerprint
                        why =
                            "accepted again after version \(previous.version) was rejected; "
                            + "the Secret kept this value"
                    } else {
                        outcome.previousFingerprint = ""
                        why = "the Secret already held the sealed value"
                    }
                    outcome.reason = [why, outcome.reason].filter { !$0.isEmpty }.joined(separator: "; ")
                }
            } else {
                if recorded && liveValue != nil {
                    outcome.action = .revertHandEdit
                } else {
                    outcome.action = liveValue == nil ? .create : .rotate
                }
                data[key] = payload.value.withUnsafeBytes { Array($0) }
            }
            managedSet.insert(key)
            if outcome.action != .unchanged {
                status[key] = SyncStatus(state: .applied, version: version, fingerprint: fingerprint, at: now)
                statusChanged = true
            }
            outcomes.append(outcome)
        }

        // Keys the agent manages that left the sealed store's data. Only a deletion (a tombstone
        // in the key's version record, signed under `required`) removes one from the Secret; a
        // key that merely vanished is orphaned: kept, and reported once.
        for key in managedSet.sorted() where store.envelopes[key] == nil {
            let record = store.versions[key]
            guard let value = live?[key],
                let binding = try? SecretBinding(namespace: namespace, secret: secretName, key: key)
            else {
                // Already gone from the Secret: nothing is left to manage.
                managedSet.remove(key)
                if orphaned.removeValue(forKey: key) != nil { statusChanged = true }
                continue
            }
            let liveFingerprint = Fingerprint(of: SecureBytes(value), binding: binding).text
            guard let record, record.isTombstone else {
                if orphaned[key] == nil {
                    orphaned[key] = OrphanedKey(
                        since: now, version: status[key]?.version ?? record?.version ?? 0)
                    statusChanged = true
                    outcomes.append(
                        KeyOutcome(
                            key: key, action: .orphan, version: orphaned[key]?.version ?? 0,
                            fingerprint: liveFingerprint, previousFingerprint: liveFingerprint, sealedBy: "",
                            sealedAt: "", signer: "", signerKeyId: "",
                            reason: "it left the sealed store without a deletion"))
                }
                continue
            }
            if orphaned.removeValue(forKey: key) != nil { statusChanged = true }
            switch SignatureCheck.deletionVerdict(
                record: record, binding: binding, signers: signers, applied: applied[key], policy: policy)
            {
            case .reject(let reason):
                reject(key: key, version: record.version, record: record, reason: reason, liveValue: value)
            case .accept(let acceptance):
                managedSet.remove(key)
                data[key] = nil
                appliedVersions[key] = (appliedVersions[key] ?? AppliedVersion(version: 0, fingerprint: ""))
                    .deleted(at: now, tombstone: record.version)
                status[key] = SyncStatus(state: .deleted, version: record.version, at: now)
                statusChanged = true
                outcomes.append(
                    KeyOutcome(
                        key: key, action: .delete, version: record.version, fingerprint: "",
                        previousFingerprint: liveFingerprint, sealedBy: record.deletedBy ?? "",
                        sealedAt: record.deletedAt ?? "", signer: acceptance.signer,
                        signerKeyId: acceptance.signerKeyId,
                        reason: [
                            "deleted by \(record.deletedBy ?? "") at \(record.deletedAt ?? "")",
                            acceptance.reason,
                        ]
                        .filter { !$0.isEmpty }.joined(separator: "; "),
                        change: Self.change(of: record, version: record.version)))
            }
        }
        // Orphaned keys that came back to the store, or that the agent no longer manages.
        for key in orphaned.keys where store.envelopes[key] != nil || !managedSet.contains(key) {
            orphaned.removeValue(forKey: key)
            statusChanged = true
        }
        // Status entries of keys that are neither stored nor managed any more; a deletion's
        // entry stays while its tombstone does, so that readers can tell it was applied.
        for (key, entry) in status
        where store.envelopes[key] == nil && !managedSet.contains(key)
            && !(entry.state == .deleted && store.versions[key]?.version == entry.version)
        {
            status.removeValue(forKey: key)
            statusChanged = true
        }

        // Each entry carries the highest signed version applied, so that writers number above it
        // (entries written before the agent published it get it on the next pass).
        for (key, entry) in status {
            let signed = appliedVersions[key].flatMap { $0.version > 0 ? $0.version : nil }
            if entry.signedVersion != signed {
                status[key]?.signedVersion = signed
                statusChanged = true
            }
        }

        outcomes.sort { $0.key < $1.key }
        self.status = status
        self.orphaned = orphaned
        self.appliedVersions = appliedVersions
        managedKeys = managedSet.sorted()
        if live == nil
            ? !data.isEmpty : (data != live || managedKeys != managed.sorted() || appliedVersions != applied)
        {
            desiredData = data
        }

        func reject(key: String, version: Int, record: SealedVersion?, reason: String, liveValue: [UInt8]?) {
            let previous = status[key]
            let alreadyReported =
                previous?.state == .rejected && previous?.version == version && previous?.reason == reason
            // A rejected key keeps its value: if the agent wrote it before, it stays managed.
            if liveValue != nil, previous != nil || managedSet.contains(key) { managedSet.insert(key) }
            if !alreadyReported {
                status[key] = SyncStatus(state: .rejected, version: version, at: now, reason: reason)
                statusChanged = true
            }
            outcomes.append(
                KeyOutcome(
                    key: key, action: alreadyReported ? .stillRejected : .reject, version: version,
                    fingerprint: "",
                    previousFingerprint: "", sealedBy: record?.sealedBy ?? "",
                    sealedAt: record?.sealedAt ?? "",
                    signer: "", signerKeyId: "", reason: reason,
                    change: Self.change(of: record, version: version)))
        }
    }

    /// The change id of the version record, when it is the record of `version` (parsing dropped
    /// any id that is not well formed).
    static func change(of record: SealedVersion?, version: Int) -> String {
        guard let record, record.version == version else { return "" }
        return record.change?.text ?? ""
    }
}

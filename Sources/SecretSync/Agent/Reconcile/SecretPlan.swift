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
        /// The key left the sealed store and is removed from the Secret.
        case delete
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
                return PlannedEvent(
                    warning: false, reason: "KeyDeleted",
                    message: "key \(outcome.key) removed: it left the sealed store")
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
    ///   - keyring: the agent's sealing keys.
    ///   - live: the Secret's current data, `nil` when the Secret does not exist.
    ///   - managed: the Secret's `managed-keys` annotation.
    ///   - policy: whether envelopes without an allowed signer's proof are applied.
    ///   - signers: the namespace's allowed (and removed) signers.
    ///   - applied: the Secret's `applied-versions` annotation.
    ///   - at: the time to stamp on status entries.
    public init(
        namespace: String, secretName: String, store: SealedStore, keyring: SealingKeyring,
        live: [String: [UInt8]]?, managed: [String], policy: SignaturePolicy = .optional,
        signers: AllowedSigners = AllowedSigners(), applied: [String: AppliedVersion] = [:], at now: String
    ) {
        self.namespace = namespace
        self.secretName = secretName
        self.policy = policy
        statusChanged = false
        var data = live ?? [:]
        var managedSet = Set(managed)
        var status = store.status
        var appliedVersions = applied
        let allowedKeys = signers.publicKeys

        for key in store.keys {
            guard let text = store.envelopes[key] else { continue }
            let version = store.version(of: key)
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

        // Keys the agent applied from this store that left it. A key counts only when the
        // store's status still lists it, so a sealed store that is deleted and created again
        // empty does not empty the Secret.
        for key in managedSet.sorted() where store.envelopes[key] == nil && store.status[key] != nil {
            managedSet.remove(key)
            if status.removeValue(forKey: key) != nil { statusChanged = true }
            guard let value = live?[key] else { continue }
            let previous =
                (try? SecretBinding(namespace: namespace, secret: secretName, key: key)).map {
                    Fingerprint(of: SecureBytes(value), binding: $0).text
                } ?? ""
            data[key] = nil
            if let entry = appliedVersions[key] { appliedVersions[key] = entry.deleted(at: now) }
            outcomes.append(
                KeyOutcome(
                    key: key, action: .delete, version: store.version(of: key), fingerprint: "",
                    previousFingerprint: previous, sealedBy: "", sealedAt: "", signer: "", signerKeyId: "",
                    reason: "removed from the sealed store"))
        }
        // Status entries of keys that are neither stored nor managed any more.
        for key in status.keys where store.envelopes[key] == nil {
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

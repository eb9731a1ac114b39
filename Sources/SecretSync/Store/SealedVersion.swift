import JSONValue

/// A previous version of a key, kept in the sealed store so that `rollback` can restore it.
public struct SealedHistoryEntry: Sendable, Equatable {
    public var version: Int
    public var envelope: String
    public var fingerprint: String
    public var sealedBy: String
    public var sealedAt: String
    public var rollbackOf: Int?

    public init(
        version: Int, envelope: String, fingerprint: String, sealedBy: String, sealedAt: String,
        rollbackOf: Int? = nil
    ) {
        self.version = version
        self.envelope = envelope
        self.fingerprint = fingerprint
        self.sealedBy = sealedBy
        self.sealedAt = sealedAt
        self.rollbackOf = rollbackOf
    }
}

/// One key's entry in the annotation `beluga-ai.io/sealed-versions`: its current version, who
/// sealed it, and the previous versions kept for rollback (newest first).
public struct SealedVersion: Sendable, Equatable {
    public var version: Int
    public var fingerprint: String
    public var sealedBy: String
    public var sealedAt: String
    /// Set when this version restored the envelope of an earlier one.
    public var rollbackOf: Int?
    /// The signed request for that restore, when the writer had a signing key.
    public var rollback: RollbackStatement?
    public var history: [SealedHistoryEntry]
    /// The change this version belongs to, when one command made it in several clusters.
    public var change: ChangeID?

    public init(
        version: Int, fingerprint: String, sealedBy: String, sealedAt: String, rollbackOf: Int? = nil,
        rollback: RollbackStatement? = nil, history: [SealedHistoryEntry] = [], change: ChangeID? = nil
    ) {
        self.change = change
        self.version = version
        self.fingerprint = fingerprint
        self.sealedBy = sealedBy
        self.sealedAt = sealedAt
        self.rollbackOf = rollbackOf
        self.rollback = rollback
        self.history = history
    }
}

/// The agent's outcome for one key, from the annotation `beluga-ai.io/sync-status`.
public struct SyncStatus: Sendable, Equatable {
    public enum State: String, Sendable {
        /// The Secret holds this version's value.
        case applied
        /// This version's envelope was refused; the Secret keeps the previous value.
        case rejected
    }

    public var state: State
    public var version: Int
    /// The verified fingerprint of the applied value; empty for a rejection.
    public var fingerprint: String
    public var at: String
    /// Why a version was rejected; empty when applied.
    public var reason: String
    /// The highest signed version the agent applied to the key (the version inside a format 2
    /// envelope, which may come from `seal --version` through Helm rather than from this store's
    /// numbering); nil when it applied no signed version. Writers number the next version above
    /// it, so that an agent requiring signatures does not take their change for a replay.
    public var signedVersion: Int?

    public init(
        state: State, version: Int, fingerprint: String = "", at: String, reason: String = "",
        signedVersion: Int? = nil
    ) {
        self.state = state
        self.version = version
        self.fingerprint = fingerprint
        self.at = at
        self.reason = reason
        self.signedVersion = signedVersion
    }
}

/// Where the audit chain stands: the last record's sequence number and line hash, and the
/// lines of the last records written, which an agent that takes over prints again (it cannot
/// know whether the agent before it printed them before it stopped).
public struct AuditHead: Sendable, Equatable {
    public var seq: Int
    public var hash: String
    public var lines: [String]

    public init(seq: Int, hash: String, lines: [String] = []) {
        self.seq = seq
        self.hash = hash
        self.lines = lines
    }
}

// MARK: - JSON form (docs/formats.md)

extension SealedHistoryEntry {
    var json: JSON {
        var object: JSON = [
            "version": .int(version), "envelope": .string(envelope), "fingerprint": .string(fingerprint),
            "sealedBy": .string(sealedBy), "sealedAt": .string(sealedAt),
        ]
        if let rollbackOf { object["rollbackOf"] = .int(rollbackOf) }
        return object
    }

    init?(json: JSON) {
        guard let version = json["version"]?.intValue, let envelope = json["envelope"]?.stringValue else {
            return nil
        }
        self.init(
            version: version, envelope: envelope, fingerprint: json["fingerprint"]?.stringValue ?? "",
            sealedBy: json["sealedBy"]?.stringValue ?? "", sealedAt: json["sealedAt"]?.stringValue ?? "",
            rollbackOf: json["rollbackOf"]?.intValue)
    }
}

extension SealedVersion {
    var json: JSON {
        var object: JSON = [
            "version": .int(version), "fingerprint": .string(fingerprint), "sealedBy": .string(sealedBy),
            "sealedAt": .string(sealedAt), "history": .array(history.map(\.json)),
        ]
        if let rollbackOf { object["rollbackOf"] = .int(rollbackOf) }
        if let rollback { object["rollback"] = rollback.json }
        if let change { object["change"] = .string(change.text) }
        return object
    }

    init?(json: JSON) {
        guard let version = json["version"]?.intValue, version >= 0 else { return nil }
        self.init(
            version: version, fingerprint: json["fingerprint"]?.stringValue ?? "",
            sealedBy: json["sealedBy"]?.stringValue ?? "", sealedAt: json["sealedAt"]?.stringValue ?? "",
            rollbackOf: json["rollbackOf"]?.intValue,
            rollback: json["rollback"].flatMap(RollbackStatement.init(json:)),
            history: (json["history"]?.arrayValue ?? []).compactMap(SealedHistoryEntry.init(json:)),
            // Untrusted: anything but a well-formed id is dropped.
            change: json["change"]?.stringValue.flatMap(ChangeID.init))
    }
}

extension SyncStatus {
    var json: JSON {
        var object: JSON = [
            "state": .string(state.rawValue), "version": .int(version), "fingerprint": .string(fingerprint),
            "at": .string(at), "reason": .string(reason),
        ]
        if let signedVersion { object["signedVersion"] = .int(signedVersion) }
        return object
    }

    init?(json: JSON) {
        guard let raw = json["state"]?.stringValue, let state = State(rawValue: raw),
            let version = json["version"]?.intValue
        else { return nil }
        self.init(
            state: state, version: version, fingerprint: json["fingerprint"]?.stringValue ?? "",
            at: json["at"]?.stringValue ?? "", reason: json["reason"]?.stringValue ?? "",
            signedVersion: json["signedVersion"]?.intValue.flatMap { $0 > 0 ? $0 : nil })
    }
}

extension AuditHead {
    var json: JSON { ["seq": .int(seq), "hash": .string(hash), "lines": .array(lines.map { .string($0) })] }

    init?(json: JSON) {
        guard let seq = json["seq"]?.intValue, let hash = json["hash"]?.stringValue else { return nil }
        self.init(seq: seq, hash: hash, lines: (json["lines"]?.arrayValue ?? []).compactMap(\.stringValue))
    }
}

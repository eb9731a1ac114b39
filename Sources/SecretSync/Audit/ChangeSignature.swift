import KubeAPI

/// Whether a change of a key recorded in the audit trail was proven to come from an allowed
/// signer, read from its `signer` and the documented prefixes of its `reason`
/// (docs/formats.md, "Signatures").
public enum ChangeSignature: String, Sendable, CaseIterable {
    /// Signed by an allowed signer (named in `signer`), including signed rollbacks.
    case verified
    /// Applied from an unsigned envelope (signatures optional).
    case unsigned
    /// Signed, but by an unknown or removed signer, or the signature did not verify.
    case unverified
    /// Signed by an allowed signer, but not a newer version than the one applied (an old
    /// envelope applied again while signatures were optional).
    case replayed
    /// The record names an allowed signer, but its own signature (the agent's) was not checked:
    /// without the agent's identity key, anyone could have written that line.
    case unchecked
    /// The record's own signature does not verify with the agent's identity key: the agent did
    /// not write it, whatever it claims.
    case forged

    /// The state of `record`; `nil` for records that change no value (rejections, deletions,
    /// rollouts, settings, sealing keys).
    public init?(_ record: AuditRecord) {
        guard record.event == .secretCreated || record.event == .secretRotated else { return nil }
        let parts = record.reason.split(separator: ";").map { $0.trimmingWhitespace() }
        if parts.contains(where: { $0.hasPrefix(SignatureCheck.Flag.notVerified) }) {
            self = .unverified
        } else if parts.contains(where: { $0.hasPrefix(SignatureCheck.Flag.replayed) }) {
            self = .replayed
        } else if record.signer.isEmpty {
            self = .unsigned
        } else {
            self = .verified
        }
    }

    /// The state of `record` once its own signature was checked (or could not be): a record
    /// the agent's identity key does not verify is `forged`, and a claim of `verified` counts
    /// only from a record whose signature was checked.
    public init?(_ record: AuditRecord, recordSignature: RecordSignature) {
        guard let claimed = ChangeSignature(record) else { return nil }
        switch recordSignature {
        case .invalid: self = .forged
        case .unchecked: self = claimed == .verified ? .unchecked : claimed
        case .valid: self = claimed
        }
    }

    /// Whether `audit` flags the change.
    public var isFlagged: Bool { self != .verified }

    /// The marker in `audit`'s table: flagged changes in capitals.
    public var marker: String { isFlagged ? rawValue.uppercased() : "yes" }
}

/// Whether an audit record's own signature (by the agent's identity key, `sig`) was checked.
public enum RecordSignature: String, Sendable {
    /// It verifies with the agent's identity key.
    case valid
    /// It does not: the line was edited or written by someone else.
    case invalid
    /// No identity key was at hand to check it.
    case unchecked
}

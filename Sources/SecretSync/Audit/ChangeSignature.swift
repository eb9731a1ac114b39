import Foundation

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

    /// The state of `record`; `nil` for records that change no value (rejections, deletions,
    /// rollouts, settings, sealing keys).
    public init?(_ record: AuditRecord) {
        guard record.event == .secretCreated || record.event == .secretRotated else { return nil }
        let parts = record.reason.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
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

    /// Whether `audit` flags the change.
    public var isFlagged: Bool { self != .verified }

    /// The marker in `audit`'s table: flagged changes in capitals.
    public var marker: String { isFlagged ? rawValue.uppercased() : "yes" }
}

import Sealing
import TimeFormat

extension SealedStore {
    /// What `sealAndRecord` stored.
    public struct Recorded: Sendable {
        public var version: Int
        public var fingerprint: String
        public var sealedAt: String
    }

    /// Seals `value` to `recipient` as the next version of `key` and records it in the store:
    /// one version (the one a signed envelope carries is the one recorded) and one time (the
    /// payload's `sealedAt` is the record's), so the two can never disagree. Format 2, signed,
    /// with a `signer`; else format 1. `change`: the id of a change made in several clusters.
    public mutating func sealAndRecord(
        _ value: SecureBytes, key: String, binding: SecretBinding, to recipient: SealingPublicKey,
        by author: String, signer: SigningKeyPair?, at sealedAt: String = RFC3339.format(.now()),
        change: ChangeID? = nil
    ) throws(ChangeError) -> Recorded {
        let version = nextVersion(of: key)
        let envelope: Envelope
        do {
            if let signer {
                envelope = try Envelope.seal(
                    value, for: binding, to: recipient, sealedBy: author, sealedAt: sealedAt,
                    version: version,
                    signer: signer)
            } else {
                envelope = try Envelope.seal(
                    value, for: binding, to: recipient, sealedBy: author, sealedAt: sealedAt)
            }
        } catch {
            throw .sealing(error)
        }
        let fingerprint = Fingerprint(of: value, binding: binding).text
        set(
            key: key, envelope: envelope.text, fingerprint: fingerprint, sealedBy: author, sealedAt: sealedAt,
            version: version, change: change)
        return Recorded(version: version, fingerprint: fingerprint, sealedAt: sealedAt)
    }
}

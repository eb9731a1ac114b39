import CSodium
import TimeFormat

extension Envelope {
    /// Largest value a Secret can hold: 1 MiB.
    public static let maximumValueLength = 1024 * 1024

    /// Seals `value` for `binding` to `recipient` (format 1).
    ///
    /// - Parameters:
    ///   - sealedBy: who seals, as the sealer chooses to name themselves (for the audit trail).
    ///   - sealedAt: RFC 3339 UTC time; the current time when nil.
    /// - Throws: `emptyValue`, `valueTooLarge` or `invalidTimestamp`.
    public static func seal(
        _ value: SecureBytes, for binding: SecretBinding, to recipient: SealingPublicKey, sealedBy: String,
        sealedAt: String? = nil
    ) throws(SealingError) -> Envelope {
        try validateValue(value)
        let time = sealedAt ?? RFC3339.format(.now())
        guard RFC3339.isValidUTC(time) else { throw .invalidTimestamp }
        let payload = PayloadWriter.write(
            value: value, .init(binding: binding, sealedBy: sealedBy, sealedAt: time))
        return Envelope(format: .v1, keyID: recipient.keyID, ciphertext: sealBox(payload, to: recipient))
    }

    /// Seals `value` for `binding` to `recipient` and signs the envelope with `signer`
    /// (format 2). The payload carries `version` and the signer's id, so the signature cannot be
    /// replaced by another signer's without the opener noticing.
    ///
    /// - Parameter version: the key's version, 1 to 2^53-1; the agent refuses a version not
    ///   higher than the one it applied (a replayed envelope).
    /// - Throws: `emptyValue`, `valueTooLarge`, `invalidTimestamp` or `invalidVersion`.
    public static func seal(
        _ value: SecureBytes, for binding: SecretBinding, to recipient: SealingPublicKey, sealedBy: String,
        sealedAt: String? = nil, version: Int, signer: SigningKeyPair
    ) throws(SealingError) -> Envelope {
        try validateValue(value)
        guard (1...maximumVersion).contains(version) else { throw .invalidVersion }
        let time = sealedAt ?? RFC3339.format(.now())
        guard RFC3339.isValidUTC(time) else { throw .invalidTimestamp }
        let payload = PayloadWriter.write(
            value: value,
            .init(
                binding: binding, sealedBy: sealedBy, sealedAt: time, version: version,
                signerID: signer.signerID))
        let ciphertext = sealBox(payload, to: recipient)
        let signed = signedText(keyID: recipient.keyID, signerID: signer.signerID, ciphertext: ciphertext)
        return Envelope(
            keyID: recipient.keyID, signerID: signer.signerID, ciphertext: ciphertext,
            signature: signer.sign(Array(signed.utf8)))
    }

    /// Highest payload version: the largest integer every JSON implementation represents exactly.
    public static let maximumVersion = 9_007_199_254_740_991

    /// Refuses values a Secret cannot hold: empty, or above 1 MiB.
    public static func validateValue(_ value: SecureBytes) throws(SealingError) {
        guard value.count > 0 else { throw .emptyValue }
        guard value.count <= maximumValueLength else { throw .valueTooLarge(value.count) }
    }

    /// `crypto_box_seal` of the payload to `recipient`.
    static func sealBox(_ payload: SecureBytes, to recipient: SealingPublicKey) -> [UInt8] {
        Sodium.ensureInitialised()
        var ciphertext = [UInt8](repeating: 0, count: payload.count + sealOverhead)
        let status = payload.withUnsafeBytes { message in
            ciphertext.withUnsafeMutableBufferPointer { out in
                recipient.bytes.withUnsafeBufferPointer { key in
                    crypto_box_seal(out.bytes, message.bytes, UInt64(message.count), key.bytes)
                }
            }
        }
        // crypto_box_seal fails only for a malformed public key, which the type rules out.
        precondition(status == 0, "crypto_box_seal failed")
        return ciphertext
    }
}

/// The opened content of an envelope: the value and what the sealer said about it.
///
/// Everything but `value` is metadata that may be logged; `value` stays in `SecureBytes`.
public struct SealedPayload: Sendable, CustomStringConvertible {
    /// Namespace, Secret and key the value was sealed for (checked on open).
    public let binding: SecretBinding
    /// The secret value.
    public let value: SecureBytes
    /// Who the sealer said they were (a claim, not a proof; see `signerID`).
    public let sealedBy: String
    /// When it was sealed, RFC 3339.
    public let sealedAt: String
    /// The per-key version the sealer assigned (format 2 only).
    public let version: Int?
    /// The signer named inside the sealed payload (format 2 only); opening checks that it is the
    /// signer whose signature the envelope bears.
    public let signerID: SignerID?

    public var description: String {
        var text = "payload for \(binding) (\(value)), sealed by \(sealedBy) at \(sealedAt)"
        if let version { text += ", version \(version)" }
        if let signerID { text += ", signer \(signerID)" }
        return text
    }
}

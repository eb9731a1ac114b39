/// Whether the agent accepts envelopes that no allowed operator signed (`--signatures`, or the
/// annotation `beluga-ai.io/signatures` of a namespace's signers ConfigMap).
public enum SignaturePolicy: String, Sendable, CaseIterable {
    /// Every envelope that opens is applied; the audit record names the verified signer, or says
    /// why there is none (unsigned, unknown or removed signer, bad signature, replayed version).
    case optional
    /// Only envelopes signed by an allowed signer, with a version higher than the one applied
    /// (or restored by a signed rollback), are applied; the others are refused.
    case required
}

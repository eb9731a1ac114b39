/// Whether the agent accepts envelopes that no allowed operator signed (`--signatures`).
public enum SignaturePolicy: String, Sendable, CaseIterable {
    /// Unsigned envelopes are applied; signed ones are applied with their verified signer
    /// recorded, and a bad or unknown signature is refused.
    case optional
    /// Only envelopes signed by an allowed signer are applied.
    case required
}

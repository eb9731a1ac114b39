/// Who signed an envelope, as far as a set of allowed signer keys can tell.
public enum SignatureVerification: Hashable, Sendable, CustomStringConvertible {
    /// Signed by this allowed key, and the signature verifies.
    case signed(by: SigningPublicKey)
    /// Format 1: no signature.
    case unsigned
    /// Signed by a key that is not among the allowed signers (its signature was not checked).
    case unknownSigner(SignerID)
    /// Signed in the name of an allowed signer, but the signature does not verify.
    case badSignature(SignerID)

    /// The verified signer, nil unless `.signed`.
    public var signer: SigningPublicKey? {
        if case .signed(let key) = self { return key }
        return nil
    }

    /// The verified signer, or the reason there is none as a `SealingError`, for callers whose
    /// policy requires a signature.
    public func requireSigned() throws(SealingError) -> SigningPublicKey {
        switch self {
        case .signed(let key): return key
        case .unsigned: throw .unsignedEnvelope
        case .unknownSigner(let id): throw .unknownSigner(id)
        case .badSignature(let id): throw .badSignature(id)
        }
    }

    public var description: String {
        switch self {
        case .signed(let key): return "signed by \(key.signerID)"
        case .unsigned: return "unsigned"
        case .unknownSigner(let id): return "signed by unknown signer \(id)"
        case .badSignature(let id): return "bad signature in the name of \(id)"
        }
    }
}

/// An opened payload with the verdict on its signature (see `SealingKeyring.open`).
public struct VerifiedPayload: Sendable {
    public let payload: SealedPayload
    public let signature: SignatureVerification
}

extension Envelope {
    /// Checks the signature of a format 2 envelope against `allowedSigners`; needs no private key
    /// and does not open the envelope.
    public func verifySignature(allowedSigners: [SigningPublicKey]) -> SignatureVerification {
        guard format == .v2, let signerID, let signature, let signedText else { return .unsigned }
        guard let key = allowedSigners.first(where: { $0.signerID == signerID }) else {
            return .unknownSigner(signerID)
        }
        return key.verify(signature: signature, of: Array(signedText.utf8))
            ? .signed(by: key) : .badSignature(signerID)
    }
}

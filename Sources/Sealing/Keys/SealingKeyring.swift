/// The sealing key pairs an agent holds, by key id, one of them current.
///
/// New envelopes are sealed to the current public key; envelopes sealed to an older key still
/// open as long as its key pair is kept, which is what makes key rotation safe.
public struct SealingKeyring: Sendable {
    /// Every key pair held, by key id.
    public private(set) var keyPairs: [KeyID: SealingKeyPair]
    /// The id of the key pair new envelopes are sealed to.
    public private(set) var currentKeyID: KeyID

    /// A key ring holding `current` and `others`.
    public init(current: SealingKeyPair, others: [SealingKeyPair] = []) {
        keyPairs = [current.keyID: current]
        for pair in others { keyPairs[pair.keyID] = pair }
        currentKeyID = current.keyID
    }

    /// The current key pair.
    public var current: SealingKeyPair {
        guard let pair = keyPairs[currentKeyID] else { fatalError("current key id missing from key ring") }
        return pair
    }

    /// Ids of every key pair held, sorted.
    public var keyIDs: [KeyID] { keyPairs.keys.sorted() }

    /// The key pair with id `keyID`, if held.
    public subscript(keyID: KeyID) -> SealingKeyPair? { keyPairs[keyID] }

    /// Adds (or replaces) a key pair, optionally making it current.
    public mutating func add(_ pair: SealingKeyPair, makeCurrent: Bool = false) {
        keyPairs[pair.keyID] = pair
        if makeCurrent { currentKeyID = pair.keyID }
    }

    /// Removes a key pair that is not current; returns whether it was held.
    @discardableResult
    public mutating func remove(_ keyID: KeyID) -> Bool {
        guard keyID != currentKeyID else { return false }
        return keyPairs.removeValue(forKey: keyID) != nil
    }

    /// Opens `envelope` with the key pair of its key id and checks that it was sealed for
    /// `binding` (see `Envelope.open(with:expecting:)`).
    public func open(_ envelope: Envelope, expecting binding: SecretBinding) throws(SealingError)
        -> SealedPayload
    {
        guard let pair = keyPairs[envelope.keyID] else { throw .unknownKeyID(envelope.keyID, held: keyIDs) }
        return try envelope.open(with: pair, expecting: binding)
    }

    /// Opens `envelope` like `open(_:expecting:)` and reports who signed it among
    /// `allowedSigners`. What to accept (unsigned envelopes, unknown signers) is the caller's
    /// policy; a payload naming another signer than the envelope is always refused.
    public func open(
        _ envelope: Envelope, expecting binding: SecretBinding, allowedSigners: [SigningPublicKey]
    ) throws(SealingError) -> VerifiedPayload {
        let signature = envelope.verifySignature(allowedSigners: allowedSigners)
        return VerifiedPayload(payload: try open(envelope, expecting: binding), signature: signature)
    }
}

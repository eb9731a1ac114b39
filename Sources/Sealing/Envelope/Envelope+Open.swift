import CSodium

extension Envelope {
    /// Opens the envelope with `keyPair` and checks it: the payload must be well formed, sealed
    /// for exactly `binding` (an envelope cannot be moved to another namespace, Secret or key),
    /// and its value one a Secret can hold.
    ///
    /// - Throws: `unknownKeyID` when sealed to another key, `cannotOpen` when the ciphertext was
    ///   altered, `malformedPayload`, `bindingMismatch`, `emptyValue`, `valueTooLarge`, and for
    ///   format 2 `payloadSignerMismatch` when the payload names another signer than the
    ///   envelope. The signature itself is checked by `verifySignature(allowedSigners:)`.
    public func open(with keyPair: SealingKeyPair, expecting binding: SecretBinding) throws(SealingError)
        -> SealedPayload
    {
        guard keyPair.keyID == keyID else { throw .unknownKeyID(keyID, held: [keyPair.keyID]) }
        let plaintext = try openBox(with: keyPair)
        let payload = try PayloadParser.parse(plaintext, format: format)
        if let field = binding.firstDifference(from: payload.binding) { throw .bindingMismatch(field) }
        try Envelope.validateValue(payload.value)
        if let signerID, payload.signerID != signerID { throw .payloadSignerMismatch(signerID) }
        return payload
    }

    /// `crypto_box_seal_open` into secure memory.
    private func openBox(with keyPair: SealingKeyPair) throws(SealingError) -> SecureBytes {
        Sodium.ensureInitialised()
        let keyID = keyID
        return try SecureBytes(capacity: ciphertext.count - Envelope.sealOverhead) {
            (plaintext) throws(SealingError) -> Int in
            let status = ciphertext.withUnsafeBufferPointer { box in
                keyPair.publicKey.bytes.withUnsafeBufferPointer { publicKey in
                    keyPair.privateKey.withUnsafeBytes { privateKey in
                        crypto_box_seal_open(
                            plaintext.bytes, box.bytes, UInt64(box.count), publicKey.bytes, privateKey.bytes)
                    }
                }
            }
            guard status == 0 else { throw .cannotOpen(keyID) }
            return plaintext.count
        }
    }
}

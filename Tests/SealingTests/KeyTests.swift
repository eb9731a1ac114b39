import Testing

@testable import Sealing

@Suite struct KeyTests {
    @Test func keyIDIsTheFirstEightBytesOfBlake2b256InHex() throws {
        // Expected value computed independently with Python's hashlib.blake2b.
        let key = try SealingPublicKey(bytes: Array(0..<32))
        #expect(key.keyID.hex == "cb2f5160fc1f7e05")
    }

    @Test func generatedPairsAreConsistent() throws {
        let pair = SealingKeyPair.generate()
        #expect(pair.privateKey.count == 32)
        #expect(pair.publicKey.bytes.count == 32)
        let rebuilt = try SealingKeyPair(privateKey: pair.privateKey)
        #expect(rebuilt.publicKey == pair.publicKey)
        #expect(SealingKeyPair.generate().keyID != pair.keyID)
        #expect(pair.description == "sealing key pair \(pair.keyID)")
    }

    @Test func publicKeysOfTheWrongLengthAreRefused() {
        #expect(throws: SealingError.invalidKey(.sealingPublicKey, "31 bytes instead of 32")) {
            try SealingPublicKey(bytes: Array(repeating: 1, count: 31))
        }
        #expect(throws: SealingError.self) { try SealingPublicKey(base64: "not base64!") }
        #expect(throws: SealingError.self) { try SealingKeyPair(privateKey: SecureBytes([1, 2, 3])) }
    }

    @Test func keyIDsParseOnlySixteenLowerHexCharacters() {
        #expect(KeyID("0123456789abcdef") != nil)
        #expect(KeyID("0123456789ABCDEF") == nil)
        #expect(KeyID("0123456789abcde") == nil)
        #expect(KeyID("0123456789abcdefa") == nil)
        #expect(KeyID("0123456789abcdeg") == nil)
    }

    @Test func keyringOpensWithTheKeyPairOfTheEnvelopesKeyID() throws {
        let old = SealingKeyPair.generate()
        let current = SealingKeyPair.generate()
        let ring = SealingKeyring(current: current, others: [old])
        let binding = try SecretBinding(namespace: "prod", secret: "beluga-ai-secrets", key: "openai-api-key")
        for pair in [old, current] {
            let envelope = try Envelope.seal(
                SecureBytes(Array("v".utf8)), for: binding, to: pair.publicKey, sealedBy: "t")
            #expect(try ring.open(envelope, expecting: binding).value == SecureBytes(Array("v".utf8)))
        }
        #expect(ring.current.keyID == current.keyID)
        #expect(ring.keyIDs == [old.keyID, current.keyID].sorted())

        let stranger = SealingKeyPair.generate()
        let envelope = try Envelope.seal(
            SecureBytes([1]), for: binding, to: stranger.publicKey, sealedBy: "t")
        #expect(throws: SealingError.unknownKeyID(stranger.keyID, held: ring.keyIDs)) {
            try ring.open(envelope, expecting: binding)
        }
    }

    @Test func keyringRotation() {
        let first = SealingKeyPair.generate()
        let second = SealingKeyPair.generate()
        var ring = SealingKeyring(current: first)
        ring.add(second, makeCurrent: true)
        #expect(ring.currentKeyID == second.keyID)
        let removedCurrent = ring.remove(second.keyID)
        #expect(!removedCurrent, "the current key pair cannot be removed")
        let removedOld = ring.remove(first.keyID)
        #expect(removedOld)
        #expect(ring[first.keyID] == nil)
    }
}

import Foundation
import Testing
import TestSupport

@testable import Sealing

@Suite struct SigningTests {
    let sealing = SealingKeyPair.generate()
    let alice = SigningKeyPair.generate()
    let mallory = SigningKeyPair.generate()
    let binding: SecretBinding

    init() throws {
        binding = try SecretBinding(namespace: "prod", secret: "beluga-ai-secrets", key: "openai-api-key")
    }

    private func hex(_ text: String) -> [UInt8] {
        var bytes: [UInt8] = []
        var index = text.startIndex
        while index < text.endIndex {
            let next = text.index(index, offsetBy: 2)
            bytes.append(UInt8(text[index..<next], radix: 16) ?? 0)
            index = next
        }
        return bytes
    }

    private func signedEnvelope(
        _ value: String = "sk-test", version: Int = 1, by signer: SigningKeyPair? = nil
    ) throws
        -> Envelope
    {
        try Envelope.seal(
            SecureBytes(Array(value.utf8)), for: binding, to: sealing.publicKey, sealedBy: "alice@laptop",
            version: version, signer: signer ?? alice)
    }

    // MARK: - Keys

    @Test func ed25519MatchesRFC8032() throws {
        // RFC 8032, section 7.1, test 2 (one-byte message).
        let pair = try SigningKeyPair(
            seed: SecureBytes(hex("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb")))
        #expect(
            pair.publicKey.bytes == hex("3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c"))
        let signature = pair.sign([0x72])
        #expect(
            signature
                == hex(
                    "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
                        + "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"))
        #expect(pair.publicKey.verify(signature: signature, of: [0x72]))
        #expect(!pair.publicKey.verify(signature: signature, of: [0x73]))
    }

    @Test func signerIDIsDefinedLikeTheKeyID() throws {
        #expect(try SigningPublicKey(bytes: Array(0..<32)).signerID.hex == "cb2f5160fc1f7e05")
    }

    @Test func libsodiumSecretKeysRoundTripAndMismatchedHalvesAreRefused() throws {
        let secretKey = alice.libsodiumSecretKey
        #expect(secretKey.count == 64)
        #expect(try SigningKeyPair(libsodiumSecretKey: secretKey).publicKey == alice.publicKey)
        let mixed = SecureBytes(
            alice.seed.withUnsafeBytes { Array($0) } + mallory.publicKey.bytes)
        #expect(throws: SealingError.self) { try SigningKeyPair(libsodiumSecretKey: mixed) }
        #expect(throws: SealingError.self) { try SigningKeyPair(seed: SecureBytes([1, 2, 3])) }
        #expect(throws: SealingError.self) { try SigningPublicKey(base64: "AAAA") }
    }

    @Test func signerKeyFilesFollowThePrivateKeyRules() throws {
        let folder = try TemporaryDirectory()
        let path = folder.file("signer.key")
        try alice.writePrivateKey(to: path)
        try alice.publicKey.write(to: folder.file("signer.pub"))
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect(attributes[.posixPermissions] as? Int == 0o600)
        #expect(try SigningKeyPair.read(privateKeyFile: path).publicKey == alice.publicKey)
        #expect(try SigningPublicKey.read(from: folder.file("signer.pub")) == alice.publicKey)
        try FileManager.default.setAttributes([.posixPermissions: 0o640], ofItemAtPath: path)
        #expect(throws: SealingError.insecureKeyFile(path: path, kind: .signerPrivateKey, mode: 0o640)) {
            try SigningKeyPair.read(privateKeyFile: path)
        }
    }

    // MARK: - Format 2

    @Test func signedEnvelopesRoundTripWithSignerAndVersion() throws {
        let envelope = try signedEnvelope(version: 7)
        let parts = envelope.text.split(separator: ".", omittingEmptySubsequences: false)
        #expect(parts.count == 5)
        #expect(parts[0] == "bs2")
        #expect(parts[1] == Substring(sealing.keyID.hex))
        #expect(parts[2] == Substring(alice.signerID.hex))
        #expect(envelope.signedText == parts[0...3].joined(separator: "."))

        let parsed = try Envelope.parse(envelope.text)
        #expect(parsed == envelope)
        #expect(
            parsed.verifySignature(allowedSigners: [mallory.publicKey, alice.publicKey])
                == .signed(by: alice.publicKey))
        let payload = try parsed.open(with: sealing, expecting: binding)
        #expect(payload.version == 7)
        #expect(payload.signerID == alice.signerID)
        #expect(payload.value == SecureBytes(Array("sk-test".utf8)))

        let verified = try SealingKeyring(current: sealing).open(
            parsed, expecting: binding, allowedSigners: [alice.publicKey])
        #expect(verified.signature.signer == alice.publicKey)
        #expect(verified.payload.version == 7)
    }

    @Test func unsignedEnvelopesSayTheyAreUnsigned() throws {
        let envelope = try Envelope.seal(SecureBytes([1]), for: binding, to: sealing.publicKey, sealedBy: "a")
        let verification = envelope.verifySignature(allowedSigners: [alice.publicKey])
        #expect(verification == .unsigned)
        #expect(throws: SealingError.unsignedEnvelope) { try verification.requireSigned() }
    }

    @Test func signaturesByKeysNotAllowedAreReported() throws {
        let envelope = try signedEnvelope(by: mallory)
        let verification = envelope.verifySignature(allowedSigners: [alice.publicKey])
        #expect(verification == .unknownSigner(mallory.signerID))
        #expect(throws: SealingError.unknownSigner(mallory.signerID)) { try verification.requireSigned() }
    }

    @Test func everyFlippedSignatureByteIsABadSignature() throws {
        let envelope = try signedEnvelope()
        let signature = try #require(envelope.signature)
        for index in signature.indices {
            var forged = signature
            forged[index] ^= 0x01
            let tampered = try Envelope.parse(
                Envelope(
                    keyID: envelope.keyID, signerID: alice.signerID, ciphertext: envelope.ciphertext,
                    signature: forged
                )
                .text)
            #expect(
                tampered.verifySignature(allowedSigners: [alice.publicKey]) == .badSignature(alice.signerID))
        }
    }

    @Test func alteringWhatIsSignedBreaksTheSignature() throws {
        let envelope = try signedEnvelope()
        let signature = try #require(envelope.signature)
        var ciphertext = envelope.ciphertext
        ciphertext[ciphertext.count / 2] ^= 0x80
        let altered = Envelope(
            keyID: envelope.keyID, signerID: alice.signerID, ciphertext: ciphertext, signature: signature)
        #expect(altered.verifySignature(allowedSigners: [alice.publicKey]) == .badSignature(alice.signerID))
        let otherKid = Envelope(
            keyID: SealingKeyPair.generate().keyID, signerID: alice.signerID, ciphertext: envelope.ciphertext,
            signature: signature)
        #expect(otherKid.verifySignature(allowedSigners: [alice.publicKey]) == .badSignature(alice.signerID))
    }

    @Test func aForgedSignatureInTheNameOfAnAllowedSignerIsBad() throws {
        // Mallory signs with his key but claims Alice's signer id.
        let envelope = try signedEnvelope(by: mallory)
        let claimed = Envelope.signedText(
            keyID: envelope.keyID, signerID: alice.signerID, ciphertext: envelope.ciphertext)
        let forged = Envelope(
            keyID: envelope.keyID, signerID: alice.signerID, ciphertext: envelope.ciphertext,
            signature: mallory.sign(Array(claimed.utf8)))
        #expect(forged.verifySignature(allowedSigners: [alice.publicKey]) == .badSignature(alice.signerID))
    }

    @Test func reSigningSomeoneElsesCiphertextIsRefusedOnOpen() throws {
        // Mallory, himself an allowed signer, re-signs Alice's envelope as his own.
        let original = try signedEnvelope()
        let text = Envelope.signedText(
            keyID: original.keyID, signerID: mallory.signerID, ciphertext: original.ciphertext)
        let resigned = Envelope(
            keyID: original.keyID, signerID: mallory.signerID, ciphertext: original.ciphertext,
            signature: mallory.sign(Array(text.utf8)))
        #expect(
            resigned.verifySignature(allowedSigners: [alice.publicKey, mallory.publicKey])
                == .signed(by: mallory.publicKey))
        #expect(throws: SealingError.payloadSignerMismatch(mallory.signerID)) {
            try resigned.open(with: sealing, expecting: binding)
        }
    }

    @Test func strippingTheSignatureDoesNotMakeAValidUnsignedEnvelope() throws {
        let signed = try signedEnvelope()
        let stripped = try Envelope.parse(
            Envelope(format: .v1, keyID: signed.keyID, ciphertext: signed.ciphertext).text)
        let error = #expect(throws: SealingError.self) {
            try stripped.open(with: sealing, expecting: binding)
        }
        guard case .malformedPayload = error else {
            Issue.record("expected a malformed payload, got \(String(describing: error))")
            return
        }
    }

    @Test func malformedFormatTwoEnvelopesAreRefused() throws {
        let parts = try signedEnvelope().text.split(separator: ".").map(String.init)
        let cases = [
            parts[0...3].joined(separator: "."),
            (parts + ["extra"]).joined(separator: "."),
            [parts[0], parts[1], "XYZ", parts[3], parts[4]].joined(separator: "."),
            [parts[0], parts[1], parts[2], parts[3], String(parts[4].dropLast(4))].joined(separator: "."),
            [parts[0], parts[1], parts[2], parts[3], ""].joined(separator: "."),
        ]
        for text in cases {
            let error = #expect(throws: SealingError.self) { try Envelope.parse(text) }
            guard case .malformedEnvelope = error else {
                Issue.record("expected malformedEnvelope, got \(String(describing: error))")
                continue
            }
        }
    }

    @Test(arguments: [0, -1, Envelope.maximumVersion + 1])
    func versionsOutOfRangeAreRefused(version: Int) throws {
        #expect(throws: SealingError.invalidVersion) { try signedEnvelope(version: version) }
    }

    @Test func theLargestVersionRoundTrips() throws {
        let envelope = try signedEnvelope(version: Envelope.maximumVersion)
        #expect(try envelope.open(with: sealing, expecting: binding).version == Envelope.maximumVersion)
    }
}

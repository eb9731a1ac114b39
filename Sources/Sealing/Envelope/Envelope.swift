/// Versions of the envelope wire format.
public enum EnvelopeFormat: Int, Sendable, Hashable, CustomStringConvertible {
    /// `bs1.<kid>.<ciphertext>`: anonymous sealed box (see docs/envelope.md).
    case v1 = 1
    /// `bs2.<kid>.<signer>.<ciphertext>.<signature>`: sealed box signed by an operator.
    case v2 = 2

    /// The text an envelope of this format starts with.
    public var prefix: String { "bs\(rawValue)." }

    public var description: String { "envelope format \(rawValue)" }
}

/// A sealed value as it travels: one line of ASCII text, safe to store in a ConfigMap, in
/// Helm values or in git.
///
/// Format 1 is `bs1.<kid>.<base64url-nopad(crypto_box_seal(payload, publicKey))>`; the payload
/// is the JSON object described in docs/envelope.md. Format 2 adds the id of the operator's
/// signing key and a detached Ed25519 signature over the text before the last dot:
/// `bs2.<kid>.<signer>.<ciphertext>.<signature>`, and its payload adds `version` and `signer`.
/// Nothing in an envelope is secret, so its `description` is its text.
public struct Envelope: Hashable, Sendable, CustomStringConvertible {
    public let format: EnvelopeFormat
    /// The id of the public key it is sealed to.
    public let keyID: KeyID
    /// The id of the signing key that signed it (format 2).
    public let signerID: SignerID?
    /// The sealed box (`crypto_box_seal` output: ephemeral public key, MAC, encrypted payload).
    public let ciphertext: [UInt8]
    /// The detached Ed25519 signature over `signedText` (format 2).
    public let signature: [UInt8]?
    /// The envelope as text.
    public let text: String

    /// Bytes `crypto_box_seal` adds to the payload (32-byte ephemeral public key, 16-byte MAC).
    static let sealOverhead = 48
    /// The smallest payload: `{}`.
    static let minimumCiphertext = sealOverhead + 2
    /// Longer than any envelope of a 1 MiB value; bounds the work spent on garbage.
    static let maximumTextLength = 4 * 1024 * 1024

    /// A format 1 envelope.
    init(format: EnvelopeFormat, keyID: KeyID, ciphertext: [UInt8]) {
        self.format = format
        self.keyID = keyID
        self.ciphertext = ciphertext
        signerID = nil
        signature = nil
        text = format.prefix + keyID.hex + "." + Base64.encode(ciphertext, .urlSafeNoPadding)
    }

    /// A format 2 envelope.
    init(keyID: KeyID, signerID: SignerID, ciphertext: [UInt8], signature: [UInt8]) {
        format = .v2
        self.keyID = keyID
        self.signerID = signerID
        self.ciphertext = ciphertext
        self.signature = signature
        text =
            Envelope.signedText(keyID: keyID, signerID: signerID, ciphertext: ciphertext) + "."
            + Base64.encode(signature, .urlSafeNoPadding)
    }

    /// What a format 2 signature covers: the ASCII text of the envelope before its last dot,
    /// `bs2.<kid>.<signer>.<ciphertext>`.
    static func signedText(keyID: KeyID, signerID: SignerID, ciphertext: [UInt8]) -> String {
        EnvelopeFormat.v2.prefix + keyID.hex + "." + signerID.hex + "."
            + Base64.encode(ciphertext, .urlSafeNoPadding)
    }

    /// The bytes the signature covers (format 2), nil for format 1.
    public var signedText: String? {
        guard format == .v2, let lastDot = text.lastIndex(of: ".") else { return nil }
        return String(text[..<lastDot])
    }

    public var description: String { text }

    /// Parses the text of an envelope (no surrounding whitespace). Checks its form only; opening
    /// checks the rest.
    ///
    /// The envelope keeps `text` as given: base64 decoding here is canonical (libsodium refuses
    /// stray characters and non-zero trailing bits, `Base64.decode` bytes from 0x80 up), so the
    /// parts encoded again would give the very same text. The fuzz target checks that they do.
    public static func parse(_ text: String) throws(SealingError) -> Envelope {
        let format = try detectFormat(text)
        guard text.utf8.count <= maximumTextLength else {
            throw .malformedEnvelope("it is longer than any envelope")
        }
        // Work on the UTF-8 bytes: splitting the String would walk grapheme clusters.
        let bytes = Array(text.utf8)
        var parts: [Range<Int>] = []
        var start = 0
        for index in bytes.indices where bytes[index] == UInt8(ascii: ".") {
            parts.append(start..<index)
            start = index + 1
        }
        parts.append(start..<bytes.count)
        func part(_ index: Int) -> ArraySlice<UInt8> { bytes[parts[index]] }
        switch format {
        case .v1:
            guard parts.count == 3 else {
                throw .malformedEnvelope(
                    "it has \(parts.count) dot-separated parts, format 1 has 3"
                        + (parts.count < 3 ? "; truncated?" : ""))
            }
            let keyID = try parseKeyID(part(1))
            let ciphertext = try parseCiphertext(part(2))
            return Envelope(
                format: .v1, keyID: keyID, signerID: nil, ciphertext: ciphertext, signature: nil, text: text)
        case .v2:
            guard parts.count == 5 else {
                throw .malformedEnvelope(
                    "it has \(parts.count) dot-separated parts, format 2 has 5"
                        + (parts.count < 5 ? "; truncated?" : ""))
            }
            let keyID = try parseKeyID(part(1))
            guard let signerID = SignerID(String(decoding: part(2), as: UTF8.self)) else {
                throw .malformedEnvelope("the signer id is not 16 lower-case hex characters")
            }
            let ciphertext = try parseCiphertext(part(3))
            guard let signature = Base64.decode(part(4), .urlSafeNoPadding),
                signature.count == SigningPublicKey.signatureLength
            else {
                throw .malformedEnvelope(
                    "the signature is not 64 bytes of base64url without padding; truncated?")
            }
            return Envelope(
                format: .v2, keyID: keyID, signerID: signerID, ciphertext: ciphertext, signature: signature,
                text: text)
        }
    }

    /// An envelope with the text it was parsed from.
    private init(
        format: EnvelopeFormat, keyID: KeyID, signerID: SignerID?, ciphertext: [UInt8], signature: [UInt8]?,
        text: String
    ) {
        self.format = format
        self.keyID = keyID
        self.signerID = signerID
        self.ciphertext = ciphertext
        self.signature = signature
        self.text = text
    }

    /// The format named by the prefix `bs<digits>.`: exactly `bs1.` or `bs2.`. A version with a
    /// leading zero (`bs01.`) is refused as malformed, so that one envelope has one spelling.
    static func detectFormat(_ text: String) throws(SealingError) -> EnvelopeFormat {
        let bytes = text.utf8
        guard bytes.starts(with: "bs".utf8) else { throw .notAnEnvelope }
        let digits = bytes.dropFirst(2).prefix { (0x30...0x39).contains($0) }
        guard !digits.isEmpty, bytes.dropFirst(2 + digits.count).first == UInt8(ascii: ".") else {
            throw .notAnEnvelope
        }
        if digits.count > 1, digits.first == UInt8(ascii: "0") {
            throw .malformedEnvelope("its prefix is not exactly \"bs1.\" or \"bs2.\" (no leading zeros)")
        }
        let version = String(decoding: digits.prefix(9), as: UTF8.self)
        guard let number = Int(version), let format = EnvelopeFormat(rawValue: number) else {
            throw .unsupportedEnvelopeVersion(version)
        }
        return format
    }

    static func parseKeyID(_ part: ArraySlice<UInt8>) throws(SealingError) -> KeyID {
        guard let keyID = KeyID(String(decoding: part, as: UTF8.self)) else {
            throw .malformedEnvelope("the key id is not 16 lower-case hex characters")
        }
        return keyID
    }

    static func parseCiphertext(_ part: ArraySlice<UInt8>) throws(SealingError) -> [UInt8] {
        guard !part.isEmpty else { throw .malformedEnvelope("the ciphertext is empty; truncated?") }
        guard let ciphertext = Base64.decode(part, .urlSafeNoPadding) else {
            throw .malformedEnvelope("the ciphertext is not base64url without padding; truncated or altered?")
        }
        guard ciphertext.count >= minimumCiphertext else {
            throw .malformedEnvelope("the ciphertext is too short to hold a payload; truncated?")
        }
        return ciphertext
    }
}

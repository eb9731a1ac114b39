/// Names a sealing public key: the lower-case hex of the first 8 bytes of BLAKE2b-256 of the
/// 32-byte X25519 public key (16 characters). Envelopes carry it so the holder of several key
/// pairs knows which one opens them.
public struct KeyID: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The 16 lower-case hex characters.
    public let hex: String

    /// The id of a 32-byte public key.
    init(publicKeyBytes: [UInt8]) {
        hex = KeyID.digestHex(publicKeyBytes)
    }

    /// Parses 16 lower-case hex characters; nil for anything else.
    public init?(_ text: some StringProtocol) {
        let text = Substring(text)
        guard Hashing.isLowerHex(text, length: 16) else { return nil }
        hex = String(text)
    }

    public var description: String { hex }

    public static func < (lhs: KeyID, rhs: KeyID) -> Bool { lhs.hex < rhs.hex }

    /// First 8 bytes of BLAKE2b-256, in hex: the shared definition of key and signer ids.
    static func digestHex(_ publicKeyBytes: [UInt8]) -> String {
        Hashing.hex(Hashing.blake2b(publicKeyBytes, outputLength: 32).prefix(8))
    }
}

/// Names an operator's signing key: the lower-case hex of the first 8 bytes of BLAKE2b-256 of
/// the 32-byte Ed25519 public key (16 characters), defined like `KeyID`.
public struct SignerID: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The 16 lower-case hex characters.
    public let hex: String

    init(publicKeyBytes: [UInt8]) {
        hex = KeyID.digestHex(publicKeyBytes)
    }

    /// Parses 16 lower-case hex characters; nil for anything else.
    public init?(_ text: some StringProtocol) {
        let text = Substring(text)
        guard Hashing.isLowerHex(text, length: 16) else { return nil }
        hex = String(text)
    }

    public var description: String { hex }

    public static func < (lhs: SignerID, rhs: SignerID) -> Bool { lhs.hex < rhs.hex }
}

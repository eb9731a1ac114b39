import CSodium

/// An Ed25519 public key (`crypto_sign`): an operator's signer key, or an agent's identity key.
public struct SigningPublicKey: Hashable, Sendable, CustomStringConvertible {
    /// The 32 raw bytes.
    public let bytes: [UInt8]
    /// Its id, defined like a sealing key id.
    public let signerID: SignerID

    /// Length of an Ed25519 public key in bytes.
    public static let length = 32
    /// Length of a detached Ed25519 signature in bytes.
    public static let signatureLength = 64

    /// A public key from its 32 raw bytes.
    public init(bytes: [UInt8]) throws(SealingError) {
        guard bytes.count == Self.length else {
            throw .invalidKey(.signerPublicKey, "\(bytes.count) bytes instead of 32")
        }
        self.bytes = bytes
        signerID = SignerID(publicKeyBytes: bytes)
    }

    /// A public key from standard base64 of its 32 bytes (as `signer show` prints it).
    public init(base64 text: String) throws(SealingError) {
        guard let bytes = Base64.decode(Substring(text), .standard) else {
            throw .invalidKey(.signerPublicKey, "not standard base64")
        }
        try self.init(bytes: bytes)
    }

    /// Standard base64 of the 32 bytes.
    public var base64: String { Base64.encode(bytes, .standard) }

    /// Whether `signature` is this key's valid detached signature of `message`.
    public func verify(signature: [UInt8], of message: some Collection<UInt8>) -> Bool {
        guard signature.count == Self.signatureLength else { return false }
        Sodium.ensureInitialised()
        let message = Array(message)
        return message.withUnsafeBytes { text in
            signature.withUnsafeBytes { signature in
                bytes.withUnsafeBytes { key in
                    crypto_sign_verify_detached(signature.bytes, text.bytes, UInt64(text.count), key.bytes)
                        == 0
                }
            }
        }
    }

    public var description: String { "signing public key \(signerID)" }

    /// A detached signature from its standard base64 (as audit records, published keys and
    /// signed statements carry it): exactly 64 bytes, canonical text only (padding as required,
    /// zero trailing bits, no stray characters), so that a signed text has one spelling. `nil`
    /// otherwise.
    public static func signature(base64 text: String) -> [UInt8]? {
        guard let bytes = Base64.decode(Substring(text), .standard), bytes.count == signatureLength else {
            return nil
        }
        return bytes
    }

    /// Standard base64 of a detached signature.
    public static func base64(signature: [UInt8]) -> String { Base64.encode(signature, .standard) }
}

/// An Ed25519 key pair: signs envelopes (an operator's signer key) or records (an agent's
/// identity key). The private part is the 32-byte seed libsodium derives the key pair from.
public struct SigningKeyPair: Sendable, CustomStringConvertible {
    public let publicKey: SigningPublicKey
    /// The 32-byte seed (what a signer key file holds).
    public let seed: SecureBytes

    static let seedLength = 32
    static let secretKeyLength = 64

    /// The id of the public key.
    public var signerID: SignerID { publicKey.signerID }

    /// A new random key pair.
    public static func generate() -> SigningKeyPair {
        do {
            return try SigningKeyPair(seed: SecureBytes(randomCount: seedLength))
        } catch {
            fatalError("a random 32-byte seed was refused: \(error)")
        }
    }

    /// The key pair of a 32-byte seed.
    public init(seed: SecureBytes) throws(SealingError) {
        guard seed.count == Self.seedLength else {
            throw .invalidKey(.signerPrivateKey, "\(seed.count) bytes instead of 32")
        }
        var publicBytes = [UInt8](repeating: 0, count: SigningPublicKey.length)
        _ = Self.expand(seed, publicKey: &publicBytes)
        self.publicKey = try SigningPublicKey(bytes: publicBytes)
        self.seed = seed
    }

    /// The key pair of a 64-byte libsodium secret key (seed followed by public key), refusing
    /// one whose two halves do not belong together.
    public init(libsodiumSecretKey secretKey: SecureBytes) throws(SealingError) {
        guard secretKey.count == Self.secretKeyLength else {
            throw .invalidKey(.signerPrivateKey, "\(secretKey.count) bytes instead of 64")
        }
        let seed = secretKey.withUnsafeBytes {
            SecureBytes(copying: UnsafeRawBufferPointer(rebasing: $0[0..<32]))
        }
        let embedded = secretKey.withUnsafeBytes { Array($0[32..<64]) }
        try self.init(seed: seed)
        guard embedded == publicKey.bytes else {
            throw .invalidKey(.signerPrivateKey, "its public half does not match its seed")
        }
    }

    /// The 64-byte libsodium secret key (seed followed by public key).
    public var libsodiumSecretKey: SecureBytes {
        var publicBytes = [UInt8](repeating: 0, count: SigningPublicKey.length)
        return Self.expand(seed, publicKey: &publicBytes)
    }

    /// The detached Ed25519 signature (64 bytes) of `message`.
    public func sign(_ message: some Collection<UInt8>) -> [UInt8] {
        var publicBytes = [UInt8](repeating: 0, count: SigningPublicKey.length)
        let secretKey = Self.expand(seed, publicKey: &publicBytes)
        let message = Array(message)
        var signature = [UInt8](repeating: 0, count: SigningPublicKey.signatureLength)
        let status = message.withUnsafeBytes { text in
            signature.withUnsafeMutableBytes { out in
                secretKey.withUnsafeBytes { key in
                    crypto_sign_detached(out.bytes, nil, text.bytes, UInt64(text.count), key.bytes)
                }
            }
        }
        precondition(status == 0, "crypto_sign_detached failed")
        return signature
    }

    /// `crypto_sign_seed_keypair`: the 64-byte secret key, in secure memory, and the public key.
    private static func expand(_ seed: SecureBytes, publicKey: inout [UInt8]) -> SecureBytes {
        Sodium.ensureInitialised()
        return SecureBytes(capacity: secretKeyLength) { secret in
            let status = seed.withUnsafeBytes { seedBytes in
                publicKey.withUnsafeMutableBytes { pk in
                    crypto_sign_seed_keypair(pk.bytes, secret.bytes, seedBytes.bytes)
                }
            }
            precondition(status == 0, "crypto_sign_seed_keypair failed")
            return secretKeyLength
        }
    }

    public var description: String { "signing key pair \(signerID)" }
}

extension SigningPublicKey {
    /// Reads a signer public key file (`signer.pub`).
    public static func read(from path: String) throws(SealingError) -> SigningPublicKey {
        try SigningPublicKey(bytes: KeyFile.readPublicKey(at: path, kind: .signerPublicKey))
    }

    /// Writes this key to `path` (mode 0644).
    public func write(to path: String, replacing: Bool = false) throws(SealingError) {
        try KeyFile.writePublicKey(bytes, to: path, kind: .signerPublicKey, replacing: replacing)
    }
}

extension SigningKeyPair {
    /// Reads a signer private key file (`signer.key`: base64 of the 32-byte seed, mode 0600).
    public static func read(privateKeyFile path: String) throws(SealingError) -> SigningKeyPair {
        try SigningKeyPair(seed: KeyFile.readPrivateKey(at: path, kind: .signerPrivateKey))
    }

    /// Writes the seed to `path` with mode 0600.
    public func writePrivateKey(to path: String, replacing: Bool = false) throws(SealingError) {
        try KeyFile.writePrivateKey(seed, to: path, kind: .signerPrivateKey, replacing: replacing)
    }

    /// Writes `signer.key` (0600) and `signer.pub` (0644): both or neither (see
    /// `KeyFile.writePair`).
    public func writeFiles(
        privateKey privatePath: String, publicKey publicPath: String, replacing: Bool = false
    )
        throws(SealingError)
    {
        try KeyFile.writePair(
            privateKey: seed, to: privatePath, privateKind: .signerPrivateKey,
            publicKey: publicKey.bytes, to: publicPath, publicKind: .signerPublicKey, replacing: replacing)
    }
}

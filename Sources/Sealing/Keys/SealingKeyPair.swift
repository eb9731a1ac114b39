import CSodium

/// An X25519 public key that values are sealed to (`crypto_box_seal`).
public struct SealingPublicKey: Hashable, Sendable, CustomStringConvertible {
    /// The 32 raw bytes.
    public let bytes: [UInt8]
    /// Its key id.
    public let keyID: KeyID

    /// Length of an X25519 public key in bytes.
    public static let length = 32

    /// A public key from its 32 raw bytes.
    public init(bytes: [UInt8]) throws(SealingError) {
        guard bytes.count == Self.length else {
            throw .invalidKey(.sealingPublicKey, "\(bytes.count) bytes instead of 32")
        }
        self.bytes = bytes
        keyID = KeyID(publicKeyBytes: bytes)
    }

    /// A public key from standard base64 of its 32 bytes (the content of a `.pub` file).
    public init(base64 text: String) throws(SealingError) {
        guard let bytes = Base64.decode(Substring(text), .standard) else {
            throw .invalidKey(.sealingPublicKey, "not standard base64")
        }
        try self.init(bytes: bytes)
    }

    /// Standard base64 of the 32 bytes, as in a `.pub` file.
    public var base64: String { Base64.encode(bytes, .standard) }

    public var description: String { "sealing public key \(keyID)" }
}

/// An X25519 key pair: the agent's, to open envelopes sealed to its public key.
public struct SealingKeyPair: Sendable, CustomStringConvertible {
    public let publicKey: SealingPublicKey
    /// The 32-byte private key.
    public let privateKey: SecureBytes

    /// The key id of the public key.
    public var keyID: KeyID { publicKey.keyID }

    /// A new random key pair (`crypto_box_keypair`).
    public static func generate() -> SealingKeyPair {
        Sodium.ensureInitialised()
        var publicBytes = [UInt8](repeating: 0, count: SealingPublicKey.length)
        let privateKey = SecureBytes(capacity: Int(crypto_box_secretkeybytes())) { secret in
            let status = publicBytes.withUnsafeMutableBufferPointer { pk in
                crypto_box_keypair(pk.bytes, secret.bytes)
            }
            precondition(status == 0, "crypto_box_keypair failed")
            return secret.count
        }
        // 32 bytes by construction.
        guard let publicKey = try? SealingPublicKey(bytes: publicBytes) else {
            fatalError("crypto_box_keypair returned a public key of the wrong length")
        }
        return SealingKeyPair(publicKey: publicKey, privateKey: privateKey)
    }

    /// The key pair of a 32-byte private key; the public key is derived from it.
    public init(privateKey: SecureBytes) throws(SealingError) {
        guard privateKey.count == Int(crypto_box_secretkeybytes()) else {
            throw .invalidKey(.sealingPrivateKey, "\(privateKey.count) bytes instead of 32")
        }
        Sodium.ensureInitialised()
        var publicBytes = [UInt8](repeating: 0, count: SealingPublicKey.length)
        let status = privateKey.withUnsafeBytes { secret in
            publicBytes.withUnsafeMutableBufferPointer { pk in
                crypto_scalarmult_base(pk.bytes, secret.bytes)
            }
        }
        guard status == 0 else { throw .invalidKey(.sealingPrivateKey, "not a usable X25519 key") }
        self.init(publicKey: try SealingPublicKey(bytes: publicBytes), privateKey: privateKey)
    }

    private init(publicKey: SealingPublicKey, privateKey: SecureBytes) {
        self.publicKey = publicKey
        self.privateKey = privateKey
    }

    public var description: String { "sealing key pair \(keyID)" }
}

extension SealingPublicKey {
    /// Reads a public key file (`sealing.pub`).
    public static func read(from path: String) throws(SealingError) -> SealingPublicKey {
        try SealingPublicKey(bytes: KeyFile.readPublicKey(at: path, kind: .sealingPublicKey))
    }

    /// Writes this key to `path` (mode 0644).
    public func write(to path: String, replacing: Bool = false) throws(SealingError) {
        try KeyFile.writePublicKey(bytes, to: path, kind: .sealingPublicKey, replacing: replacing)
    }
}

extension SealingKeyPair {
    /// Reads a private key file (`sealing.key`, mode 0600 or narrower) and derives its public key.
    public static func read(privateKeyFile path: String) throws(SealingError) -> SealingKeyPair {
        try SealingKeyPair(privateKey: KeyFile.readPrivateKey(at: path, kind: .sealingPrivateKey))
    }

    /// Writes the private key to `path` with mode 0600.
    public func writePrivateKey(to path: String, replacing: Bool = false) throws(SealingError) {
        try KeyFile.writePrivateKey(privateKey, to: path, kind: .sealingPrivateKey, replacing: replacing)
    }

    /// Writes `sealing.key` (0600) and `sealing.pub` (0644): both or neither (see
    /// `KeyFile.writePair`).
    public func writeFiles(
        privateKey privatePath: String, publicKey publicPath: String, replacing: Bool = false
    )
        throws(SealingError)
    {
        try KeyFile.writePair(
            privateKey: privateKey, to: privatePath, privateKind: .sealingPrivateKey,
            publicKey: publicKey.bytes, to: publicPath, publicKind: .sealingPublicKey, replacing: replacing)
    }
}

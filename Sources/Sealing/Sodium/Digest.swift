import CSodium

/// SHA-256 (libsodium's `crypto_hash_sha256`), for content hashes and the audit chain, where the
/// format calls for a standard digest that any tool can recompute.
public enum Digest {
    /// The 32-byte SHA-256 of `bytes`.
    public static func sha256(_ bytes: some Collection<UInt8>) -> [UInt8] {
        var output = [UInt8](repeating: 0, count: Int(crypto_hash_sha256_BYTES))
        let input = Array(bytes)
        _ = crypto_hash_sha256(&output, input, UInt64(input.count))
        return output
    }

    /// The lower-hex SHA-256 of `bytes`.
    public static func sha256Hex(_ bytes: some Collection<UInt8>) -> String {
        hex(sha256(bytes))
    }

    /// The lower-hex SHA-256 of the UTF-8 bytes of `text`.
    public static func sha256Hex(_ text: String) -> String {
        hex(sha256(Array(text.utf8)))
    }

    /// An incremental SHA-256, for inputs assembled piece by piece.
    public struct SHA256: Sendable {
        private var state = crypto_hash_sha256_state()

        public init() {
            crypto_hash_sha256_init(&state)
        }

        public mutating func update(_ bytes: some Collection<UInt8>) {
            let input = Array(bytes)
            _ = crypto_hash_sha256_update(&state, input, UInt64(input.count))
        }

        /// The digest; the hasher must not be used afterwards.
        public mutating func finalize() -> [UInt8] {
            var output = [UInt8](repeating: 0, count: Int(crypto_hash_sha256_BYTES))
            _ = crypto_hash_sha256_final(&state, &output)
            return output
        }
    }

    /// Lower-case hexadecimal of `bytes`.
    public static func hex(_ bytes: some Sequence<UInt8>) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        for byte in bytes {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}

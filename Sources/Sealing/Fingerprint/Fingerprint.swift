/// Identifies a value without revealing it: `fp1:` and 32 lower-case hex characters.
///
/// It is BLAKE2b-128 of the value, keyed with BLAKE2b-256 of
/// `"beluga-secrets/fingerprint/v1\0" + namespace + "\0" + secret + "\0" + key`. Two
/// fingerprints for the same namespace, Secret and key are equal exactly when the values are
/// (up to a 2^-128 chance); the same value under another key has an unrelated fingerprint, so
/// fingerprints cannot be matched across keys to find shared values.
public struct Fingerprint: Hashable, Sendable, CustomStringConvertible {
    /// `fp1:<32 hex>`.
    public let text: String

    static let prefix = "fp1:"
    static let domain = "beluga-secrets/fingerprint/v1"

    /// The fingerprint of `value` stored under `binding`.
    public init(of value: SecureBytes, binding: SecretBinding) {
        let context = Array(
            (Self.domain + "\0" + binding.namespace + "\0" + binding.secret + "\0" + binding.key).utf8)
        let key = Hashing.blake2b(context, outputLength: 32)
        let digest = value.withUnsafeBytes { message in
            key.withUnsafeBytes { Hashing.blake2b(message, outputLength: 16, key: $0) }
        }
        text = Self.prefix + Hashing.hex(digest)
    }

    /// Parses `fp1:<32 lower-case hex>`; nil for anything else.
    public init?(_ text: String) {
        guard text.hasPrefix(Self.prefix), Hashing.isLowerHex(text.dropFirst(Self.prefix.count), length: 32)
        else {
            return nil
        }
        self.text = text
    }

    public var description: String { text }
}

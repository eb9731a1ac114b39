/// Where a sealed value belongs: a key of a Secret in a namespace. A payload carries its binding
/// inside the ciphertext, and opening checks it, so an envelope cannot be moved to another key,
/// Secret or namespace.
public struct SecretBinding: Hashable, Sendable, CustomStringConvertible {
    public let namespace: String
    public let secret: String
    public let key: String

    /// The three parts of a binding, for mismatch reports.
    public enum Field: String, Sendable, Equatable {
        case namespace
        case secret = "Secret"
        case key
    }

    /// A binding for `key` of `secret` in `namespace`. The key name must satisfy the rules of
    /// Kubernetes for Secret data keys (`SecretBinding.validateKeyName`).
    public init(namespace: String, secret: String, key: String) throws(SealingError) {
        try Self.validateKeyName(key)
        self.namespace = namespace
        self.secret = secret
        self.key = key
    }

    /// A binding as read from a payload, validated later by comparing it with an expected one.
    init(unchecked namespace: String, secret: String, key: String) {
        self.namespace = namespace
        self.secret = secret
        self.key = key
    }

    public var description: String { "\(namespace)/\(secret)[\(key)]" }

    /// The field where `other` differs from this binding, nil when they are equal. Compared as
    /// UTF-8 bytes: Swift's `==` on strings treats canonically equivalent spellings as equal
    /// (KELVIN SIGN U+212A and `K`), and Kubernetes names are bytes.
    func firstDifference(from other: SecretBinding) -> Field? {
        if !Self.sameBytes(namespace, other.namespace) { return .namespace }
        if !Self.sameBytes(secret, other.secret) { return .secret }
        if !Self.sameBytes(key, other.key) { return .key }
        return nil
    }

    static func sameBytes(_ left: String, _ right: String) -> Bool {
        left.utf8.elementsEqual(right.utf8)
    }

    /// Equal when every part is the same UTF-8 bytes (not merely canonically equivalent).
    public static func == (left: SecretBinding, right: SecretBinding) -> Bool {
        left.firstDifference(from: right) == nil
    }

    public func hash(into hasher: inout Hasher) {
        for part in [namespace, secret, key] {
            hasher.combine(part.utf8.count)
            for byte in part.utf8 { hasher.combine(byte) }
        }
    }

    /// Kubernetes' rule for Secret and ConfigMap data keys: `[-._a-zA-Z0-9]+`, at most 253
    /// characters, and not `.` or `..`.
    public static func validateKeyName(_ name: String) throws(SealingError) {
        let bytes = Array(name.utf8)
        if bytes.isEmpty { throw .invalidKeyName("it is empty") }
        if bytes.count > 253 { throw .invalidKeyName("it has \(bytes.count) characters") }
        if name == "." || name == ".." { throw .invalidKeyName("\"\(name)\" is not allowed") }
        for byte in bytes where !isKeyCharacter(byte) {
            let shown =
                switch byte {
                case 0x20: "a space"
                case 0x21...0x7e: "'\(Character(Unicode.Scalar(byte)))'"
                default: "a control or non-ASCII character"
                }
            throw .invalidKeyName("\"\(printable(name))\" contains \(shown)")
        }
    }

    private static func isKeyCharacter(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"):
            return true
        default:
            return false
        }
    }

    /// The name with anything outside printable ASCII replaced, so an error stays one line.
    private static func printable(_ name: String) -> String {
        String(
            String.UnicodeScalarView(name.unicodeScalars.map { (0x20...0x7e).contains($0.value) ? $0 : "?" }))
    }
}

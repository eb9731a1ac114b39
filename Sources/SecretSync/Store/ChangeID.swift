import Sealing

/// The id of one change made in several clusters at once (`set --context a --context b`): every
/// cluster's version record carries it (`change` in `beluga-ai.io/sealed-versions`) and every
/// cluster's agent writes it into the audit record of the change, so a reviewer can tie the
/// clusters' records together.
///
/// A writer's claim, like the rest of the version record: it correlates, it proves nothing. The
/// agent reads it as untrusted input: exactly 16 lower-case hex characters, or it is ignored, so
/// no free text reaches the audit trail.
public struct ChangeID: Sendable, Hashable, CustomStringConvertible {
    /// The 16 lower-case hex characters.
    public let text: String

    /// Characters in an id.
    public static let length = 16

    /// `nil` unless `text` is exactly 16 lower-case hex characters.
    public init?(_ text: String) {
        let utf8 = text.utf8
        guard utf8.count == Self.length,
            utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) })
        else { return nil }
        self.text = text
    }

    /// A new id: 64 random bits.
    public static func random() -> ChangeID {
        let bytes = SecureBytes(randomCount: length / 2).withUnsafeBytes { Array($0) }
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        for byte in bytes {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0f)])
        }
        // 16 characters from `digits`, so the check cannot fail.
        return ChangeID(uncheckedHex: String(decoding: text, as: UTF8.self))
    }

    private init(uncheckedHex text: String) { self.text = text }

    public var description: String { text }
}

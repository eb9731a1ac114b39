import JSONValue

/// A key's maximum age: how long its current version may stay before it is due for rotation.
/// Kept in the sealed store's annotation `beluga-ai.io/key-max-age` (docs/formats.md), which the
/// chart renders from `apiKeys[].maxAge` and `beluga-secrets max-age` edits: a JSON object of
/// durations by key name, `{"openai-api-key":"90d"}`.
///
/// A duration is whole numbers with units `s`, `m`, `h`, `d` (`90d`, `36h`, `1d12h`), from one
/// second to ten years: the same text in the chart, the CLI and the annotation.
public struct KeyMaxAge: Sendable, Equatable, CustomStringConvertible {
    public static let annotation = "beluga-ai.io/key-max-age"
    /// The longest maximum age accepted: ten years.
    public static let maximumSeconds = 3650 * 86400
    /// The most keys the annotation may name (the Secret's keys are far fewer in practice).
    public static let maximumEntries = 1024
    /// The longest duration text accepted.
    public static let maximumTextBytes = 32

    /// The duration as written (`90d`).
    public let text: String
    public let seconds: Int

    /// Parses `text` (see the type's description); nil when it is not such a duration or out of
    /// range.
    public init?(_ text: String) {
        guard let seconds = Self.seconds(text) else { return nil }
        self.text = text
        self.seconds = seconds
    }

    /// The maximum age of `seconds` (in range), written in its largest whole unit (`90d`).
    public init?(seconds: Int) {
        guard (1...Self.maximumSeconds).contains(seconds) else { return nil }
        self.seconds = seconds
        if seconds % 86400 == 0 {
            text = "\(seconds / 86400)d"
        } else if seconds % 3600 == 0 {
            text = "\(seconds / 3600)h"
        } else if seconds % 60 == 0 {
            text = "\(seconds / 60)m"
        } else {
            text = "\(seconds)s"
        }
    }

    public var description: String { text }

    public var duration: Duration { .seconds(seconds) }

    static func seconds(_ text: String) -> Int? {
        let bytes = Array(text.utf8)
        guard !bytes.isEmpty, bytes.count <= maximumTextBytes else { return nil }
        var total = 0
        var number: Int?
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                let digit = Int(byte - UInt8(ascii: "0"))
                let value = (number ?? 0) * 10 + digit
                guard value <= maximumSeconds else { return nil }
                number = value
            default:
                guard let count = number else { return nil }
                let scale: Int
                switch byte {
                case UInt8(ascii: "s"): scale = 1
                case UInt8(ascii: "m"): scale = 60
                case UInt8(ascii: "h"): scale = 3600
                case UInt8(ascii: "d"): scale = 86400
                default: return nil
                }
                total += count * scale
                guard total <= maximumSeconds else { return nil }
                number = nil
            }
        }
        guard number == nil, total >= 1 else { return nil }
        return total
    }

    /// Reads the annotation's text, within bounds: the entries that are valid, and a problem for
    /// each that is not (or one for the whole annotation when it is not a JSON object of them).
    static func policy(untrusted text: String, at path: UntrustedField.Path) -> (
        policy: [String: KeyMaxAge], problems: [FieldProblem], damaged: Set<String>, whole: Bool
    ) {
        guard text.utf8.count <= maximumEntries * 300, let json = try? JSON(parsing: text),
            let members = json.objectValue
        else {
            return ([:], [path.problem("is not a JSON object of durations by key name")], [], true)
        }
        guard members.count <= maximumEntries else {
            return ([:], [path.problem("names \(members.count) keys, over \(maximumEntries)")], [], true)
        }
        var policy: [String: KeyMaxAge] = [:]
        var problems: [FieldProblem] = []
        var damaged: Set<String> = []
        for (name, value) in members.sorted(by: { $0.key < $1.key }) {
            do throws(FieldProblem) {
                let key = try UntrustedField.keyName(name, at: path)
                guard let raw = value.stringValue else {
                    throw path.member(key).problem("is not a duration string such as \"90d\"")
                }
                guard let maxAge = KeyMaxAge(raw) else {
                    throw path.member(key).problem(
                        "is \(UntrustedField.shortened(raw)), not a duration from 1s to 3650d such as \"90d\""
                    )
                }
                policy[key] = maxAge
            } catch {
                problems.append(error)
                damaged.insert(name)
            }
        }
        return (policy, problems, damaged, false)
    }

    /// The annotation's text for `policy` (compact, sorted by key).
    static func text(_ policy: [String: KeyMaxAge]) -> String {
        JSON.object(policy.mapValues { .string($0.text) }).jsonText
    }
}

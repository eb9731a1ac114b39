import JSONValue
import Sealing
import TimeFormat

/// A field of an object someone else may write that is out of bounds: which object, which
/// field, and what is wrong with it, in one line that never quotes a long or binary value.
public struct FieldProblem: Error, Sendable, Hashable, CustomStringConvertible {
    /// The object, as messages name it (`ConfigMap prod/beluga-ai-secrets-status`).
    public var object: String
    /// The field, as a path (`data[audit-head].seq`, `annotation beluga-ai.io/sealed-versions[k].version`).
    public var field: String
    public var problem: String

    public init(object: String, field: String, problem: String) {
        self.object = object
        self.field = field
        self.problem = problem
    }

    public var description: String {
        field.isEmpty ? "\(object): \(problem)" : "\(object): \(field) \(problem)"
    }
}

/// Bounds-checked reading of JSON fields that the reader does not control (docs/threat-model.md:
/// every byte read from the cluster is untrusted input). Each reader either returns a value in
/// range or throws a `FieldProblem` naming the field; none traps, whatever the input.
///
/// Counters (versions, audit sequence numbers) stay within `counterRange`, so that `+ 1` on any
/// of them, and the sum of two, can never overflow.
public enum UntrustedField {
    /// Versions and sequence numbers: 0 to half of `Int64.max`.
    public static let counterRange = 0...(Int.max / 2)
    /// Longest free text kept (a reason, a `sealedBy`): longer text is an error, not truncated.
    public static let maximumTextBytes = 4096
    /// Longest audit line kept in an audit head.
    public static let maximumLineBytes = 65_536

    /// `json[field]` as a counter in `counterRange` (and in `range` when given).
    public static func counter(
        _ json: JSON?, _ field: String, in range: ClosedRange<Int> = counterRange, at path: Path
    ) throws(FieldProblem) -> Int {
        guard let value = json?[field] else { throw path.problem(field, "is missing") }
        guard let number = value.intValue else {
            throw path.problem(field, "is not a whole number (\(kind(of: value)))")
        }
        guard range.contains(number) else {
            throw path.problem(field, "is \(number), out of range \(range.lowerBound)…\(range.upperBound)")
        }
        return number
    }

    /// `json[field]` as an optional counter: `nil` when absent or null.
    public static func optionalCounter(
        _ json: JSON?, _ field: String, in range: ClosedRange<Int> = counterRange, at path: Path
    ) throws(FieldProblem) -> Int? {
        guard let value = json?[field], !value.isNull else { return nil }
        return try counter(json, field, in: range, at: path)
    }

    /// `json[field]` as text of at most `maximumBytes`; `""` when absent and `required` is false.
    public static func text(
        _ json: JSON?, _ field: String, maximumBytes: Int = maximumTextBytes, required: Bool = false,
        at path: Path
    ) throws(FieldProblem) -> String {
        guard let value = json?[field], !value.isNull else {
            if required { throw path.problem(field, "is missing") }
            return ""
        }
        guard let text = value.stringValue else {
            throw path.problem(field, "is not a string (\(kind(of: value)))")
        }
        guard text.utf8.count <= maximumBytes else {
            throw path.problem(field, "is \(text.utf8.count) bytes long, over \(maximumBytes)")
        }
        return text
    }

    /// `json[field]` as one of the values of a string enum (`state`, `policy`); `otherwise` says
    /// what it may be, after the value read.
    public static func choice<Value: RawRepresentable>(
        _ json: JSON?, _ field: String, otherwise: String, at path: Path
    ) throws(FieldProblem) -> Value where Value.RawValue == String {
        let raw = try text(json, field, maximumBytes: 32, required: true, at: path)
        guard let value = Value(rawValue: raw) else {
            throw path.problem("has \(field) \(shortened(raw)), \(otherwise)")
        }
        return value
    }

    /// `json[field]` as a lower-hex SHA-256 (64 characters); `""` only when `allowEmpty`.
    public static func hash(_ json: JSON?, _ field: String, allowEmpty: Bool = false, at path: Path)
        throws(FieldProblem) -> String
    {
        let text = try text(json, field, maximumBytes: 64, required: !allowEmpty, at: path)
        if text.isEmpty, allowEmpty { return text }
        guard isSHA256Hex(text) else { throw path.problem(field, "is not 64 lower-case hex digits") }
        return text
    }

    /// `json[field]` as a fingerprint (`fp1:` and 32 lower-hex digits), or `""`.
    public static func fingerprint(_ json: JSON?, _ field: String, at path: Path) throws(FieldProblem)
        -> String
    {
        let text = try text(json, field, maximumBytes: 64, at: path)
        guard text.isEmpty || isFingerprint(text) else {
            throw path.problem(field, "is not a fingerprint (fp1: and 32 lower-case hex digits)")
        }
        return text
    }

    /// `json[field]` as an RFC 3339 time, or `""`.
    public static func time(_ json: JSON?, _ field: String, required: Bool = false, at path: Path)
        throws(FieldProblem) -> String
    {
        let text = try text(json, field, maximumBytes: 64, required: required, at: path)
        guard text.isEmpty || RFC3339.parse(text) != nil else {
            throw path.problem(field, "is not an RFC 3339 time")
        }
        return text
    }

    /// Whether `name` is a key a Secret can hold (`[-._a-zA-Z0-9]+`, at most 253 characters).
    public static func isKeyName(_ name: String) -> Bool {
        (try? SecretBinding.validateKeyName(name)) != nil
    }

    /// Checks that `name`, a member name used as a key, is a Secret key name.
    public static func keyName(_ name: String, at path: Path) throws(FieldProblem) -> String {
        guard isKeyName(name) else {
            throw FieldProblem(
                object: path.object, field: path.field,
                problem: "has an entry whose name is not a Secret key name (\(shortened(name)))")
        }
        return name
    }

    static func isSHA256Hex(_ text: String) -> Bool {
        text.utf8.count == 64 && text.utf8.allSatisfy(isLowerHex)
    }

    static func isFingerprint(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        return bytes.count == 36 && text.hasPrefix("fp1:") && bytes[4...].allSatisfy(isLowerHex)
    }

    private static func isLowerHex(_ byte: UInt8) -> Bool {
        (0x30...0x39).contains(byte) || (0x61...0x66).contains(byte)
    }

    /// What a JSON value is, for messages (never its content).
    static func kind(of value: JSON) -> String {
        switch value {
        case .null: return "null"
        case .bool: return "a boolean"
        case .int, .double: return "a number"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }

    /// A name as messages may show it: printable ASCII, at most 64 characters.
    static func shortened(_ name: String) -> String {
        var printable = String(
            String.UnicodeScalarView(name.unicodeScalars.map { (0x20..<0x7F).contains($0.value) ? $0 : "?" }))
        if printable.count > 64 { printable = String(printable.prefix(64)) + "…" }
        return "\"\(printable)\""
    }

    /// Where the fields being read are: the object and the path to the JSON being read.
    public struct Path: Sendable, Hashable {
        public var object: String
        public var field: String

        public init(object: String, field: String) {
            self.object = object
            self.field = field
        }

        /// The path of a member of what this path names.
        public func member(_ name: String) -> Path {
            Path(object: object, field: "\(field)[\(UntrustedField.shortened(name).dropFirst().dropLast())]")
        }

        func problem(_ member: String, _ problem: String) -> FieldProblem {
            FieldProblem(
                object: object, field: field.isEmpty ? member : "\(field).\(member)", problem: problem)
        }

        /// A problem with what this path names as a whole.
        public func problem(_ problem: String) -> FieldProblem {
            FieldProblem(object: object, field: field, problem: problem)
        }
    }
}

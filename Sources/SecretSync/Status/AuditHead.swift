import JSONValue

/// Where the audit chain stands: the last record's sequence number and line hash, and the
/// lines of the last records written, which an agent that takes over prints again (it cannot
/// know whether the agent before it printed them before it stopped).
public struct AuditHead: Sendable, Equatable {
    /// Most lines a head holds (the agent writes records in batches of at most this many).
    public static let maximumLines = 64

    public var seq: Int
    public var hash: String
    public var lines: [String]

    public init(seq: Int, hash: String, lines: [String] = []) {
        self.seq = seq
        self.hash = hash
        self.lines = lines
    }
}

extension AuditHead {
    var json: JSON { ["seq": .int(seq), "hash": .string(hash), "lines": .array(lines.map { .string($0) })] }

    /// Reads a head someone else may have written, within bounds: `seq` a counter (see
    /// `UntrustedField`), `hash` 64 lower-hex digits (empty only at 0), at most `maximumLines`
    /// lines of at most `UntrustedField.maximumLineBytes` each. Whether the lines are what they
    /// claim is checked where they are printed again.
    init(untrusted json: JSON, at path: UntrustedField.Path) throws(FieldProblem) {
        guard json.objectValue != nil else { throw path.problem("is not an object") }
        let seq = try UntrustedField.counter(json, "seq", at: path)
        let hash = try UntrustedField.hash(json, "hash", allowEmpty: seq == 0, at: path)
        var lines: [String] = []
        if let value = json["lines"], !value.isNull {
            guard let array = value.arrayValue else { throw path.problem("lines", "is not an array") }
            guard array.count <= Self.maximumLines else {
                throw path.problem("lines", "holds \(array.count) lines, over \(Self.maximumLines)")
            }
            for element in array {
                guard let line = element.stringValue else {
                    throw path.problem("lines", "holds a non-string")
                }
                guard line.utf8.count <= UntrustedField.maximumLineBytes else {
                    throw path.problem("lines", "holds a line over \(UntrustedField.maximumLineBytes) bytes")
                }
                lines.append(line)
            }
        }
        self.init(seq: seq, hash: hash, lines: lines)
    }
}

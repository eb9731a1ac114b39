import JSONValue

/// One audit record read back from a log, with the exact text it was printed as.
public struct AuditLogEntry: Sendable, Equatable {
    public let record: AuditRecord
    /// The line as it was read (the bytes the next record's `prev` hashes).
    public let text: String
    /// The parsed line, for checking the signature over exactly what was printed.
    public let json: JSON
    /// Where it was read: a file name, `stdin`, or `pod/NAME`.
    public let source: String
    /// 1-based line number in that source.
    public let lineNumber: Int
}

/// A line that looks like an audit record but cannot be read as one.
public struct AuditLogDamage: Sendable, Equatable {
    public let source: String
    public let lineNumber: Int
    public let problem: String
}

/// Reads audit records out of agent output: a file of records, or a pod log where they are
/// interleaved with operational log lines (which never start with `{`).
public struct AuditLog: Sendable {
    public private(set) var entries: [AuditLogEntry] = []
    public private(set) var damaged: [AuditLogDamage] = []

    public init() {}

    /// Adds the lines of `text`, read from `source`.
    public mutating func read(_ text: String, source: String) {
        var number = 0
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
            number += 1
            var line = Substring(raw)
            if line.hasSuffix("\r") { line = line.dropLast() }
            guard line.first == "{" else { continue }
            let text = String(line)
            guard let json = try? JSON(parsing: text) else {
                // Audit records are the only JSON the agent prints on its output; a line that
                // opens like one and does not parse was damaged.
                if text.contains("\"seq\"") || text.contains("\"prev\"") {
                    damaged.append(
                        AuditLogDamage(source: source, lineNumber: number, problem: "not valid JSON"))
                }
                continue
            }
            guard let record = AuditRecord(json: json) else {
                if json["seq"] != nil || json["prev"] != nil || json["sig"] != nil {
                    damaged.append(
                        AuditLogDamage(
                            source: source, lineNumber: number,
                            problem: "lacks the members every audit record has (seq, event, prev)"))
                }
                continue
            }
            entries.append(
                AuditLogEntry(record: record, text: text, json: json, source: source, lineNumber: number))
        }
    }

    /// The records, one per distinct line (a line printed twice, as an agent that takes over
    /// does for the last records it cannot know were printed, counts once), ordered by
    /// namespace and number.
    public var records: [AuditRecord] { uniqueEntries.map(\.record) }

    /// The entries behind `records`: one per distinct line, ordered by namespace and number.
    public var uniqueEntries: [AuditLogEntry] {
        var seen: Set<String> = []
        var unique: [AuditLogEntry] = []
        for entry in entries where seen.insert(entry.text).inserted { unique.append(entry) }
        return unique.sorted { lhs, rhs in
            if lhs.record.namespace != rhs.record.namespace {
                return lhs.record.namespace < rhs.record.namespace
            }
            return lhs.record.seq < rhs.record.seq
        }
    }
}

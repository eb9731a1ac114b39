import JSONValue

/// What the agent holds about one key's maximum age, in its status object's `key-age` part: the
/// maximum age it last accepted from the sealed store (kept when the annotation turns bad), and
/// the version it last reported overdue, so that each version is reported once, across restarts.
public struct KeyAgeRecord: Sendable, Equatable {
    /// The maximum age in seconds; nil when the key has none (only its overdue report is kept).
    public var maxAgeSeconds: Int?
    /// The version reported overdue (audit `key.overdue`, Event `KeyOverdue`), and when.
    public var overdueVersion: Int?
    public var overdueAt: String

    public init(maxAgeSeconds: Int?, overdueVersion: Int? = nil, overdueAt: String = "") {
        self.maxAgeSeconds = maxAgeSeconds
        self.overdueVersion = overdueVersion
        self.overdueAt = overdueAt
    }
}

extension KeyAgeRecord {
    var json: JSON {
        var object: JSON = ["overdueAt": .string(overdueAt)]
        if let maxAgeSeconds { object["maxAgeSeconds"] = .int(maxAgeSeconds) }
        if let overdueVersion { object["overdueVersion"] = .int(overdueVersion) }
        return object
    }

    init(untrusted json: JSON, at path: UntrustedField.Path) throws(FieldProblem) {
        guard json.objectValue != nil else { throw path.problem("is not an object") }
        self.init(
            maxAgeSeconds: try UntrustedField.optionalCounter(
                json, "maxAgeSeconds", in: 1...KeyMaxAge.maximumSeconds, at: path),
            overdueVersion: try UntrustedField.optionalCounter(json, "overdueVersion", at: path),
            overdueAt: try UntrustedField.time(json, "overdueAt", at: path))
    }
}

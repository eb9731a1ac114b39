import JSONValue

/// A key the agent manages that left the sealed store without a deletion (Helm values without
/// it, a careless edit): the agent keeps its value in the Secret and reports it, until
/// `beluga-secrets delete` records a deletion or the key comes back (docs/formats.md, "Deletions").
public struct OrphanedKey: Sendable, Equatable {
    /// When the agent first found it missing.
    public var since: String
    /// The version the Secret holds.
    public var version: Int

    public init(since: String, version: Int) {
        self.since = since
        self.version = version
    }
}

extension OrphanedKey {
    var json: JSON { ["since": .string(since), "version": .int(version)] }

    init(untrusted json: JSON, at path: UntrustedField.Path) throws(FieldProblem) {
        guard json.objectValue != nil else { throw path.problem("is not an object") }
        self.init(
            since: try UntrustedField.time(json, "since", at: path),
            version: try UntrustedField.counter(json, "version", at: path))
    }
}

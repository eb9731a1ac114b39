import JSONValue

/// A previous version of a key, kept in the sealed store so that `rollback` can restore it.
public struct SealedHistoryEntry: Sendable, Equatable {
    public var version: Int
    public var envelope: String
    public var fingerprint: String
    public var sealedBy: String
    public var sealedAt: String
    public var rollbackOf: Int?

    public init(
        version: Int, envelope: String, fingerprint: String, sealedBy: String, sealedAt: String,
        rollbackOf: Int? = nil
    ) {
        self.version = version
        self.envelope = envelope
        self.fingerprint = fingerprint
        self.sealedBy = sealedBy
        self.sealedAt = sealedAt
        self.rollbackOf = rollbackOf
    }
}

/// One key's entry in the annotation `beluga-ai.io/sealed-versions`: its current version, who
/// sealed it, and the previous versions kept for rollback (newest first).
public struct SealedVersion: Sendable, Equatable {
    public var version: Int
    public var fingerprint: String
    public var sealedBy: String
    public var sealedAt: String
    /// Set when this version restored the envelope of an earlier one.
    public var rollbackOf: Int?
    /// The signed request for that restore, when the writer had a signing key.
    public var rollback: RollbackStatement?
    public var history: [SealedHistoryEntry]
    /// The change this version belongs to, when one command made it in several clusters.
    public var change: ChangeID?
    /// Set when this version deleted the key (a tombstone): when, and who said they did.
    public var deletedAt: String?
    public var deletedBy: String?
    /// The signed request for the deletion, when the writer had a signing key.
    public var deletion: DeletionStatement?

    /// Whether this version deleted the key.
    public var isTombstone: Bool { deletedAt != nil }

    public init(
        version: Int, fingerprint: String, sealedBy: String, sealedAt: String, rollbackOf: Int? = nil,
        rollback: RollbackStatement? = nil, history: [SealedHistoryEntry] = [], change: ChangeID? = nil
    ) {
        self.change = change
        self.version = version
        self.fingerprint = fingerprint
        self.sealedBy = sealedBy
        self.sealedAt = sealedAt
        self.rollbackOf = rollbackOf
        self.rollback = rollback
        self.history = history
    }
}

// MARK: - JSON form (docs/formats.md)

extension SealedHistoryEntry {
    var json: JSON {
        var object: JSON = [
            "version": .int(version), "envelope": .string(envelope), "fingerprint": .string(fingerprint),
            "sealedBy": .string(sealedBy), "sealedAt": .string(sealedAt),
        ]
        if let rollbackOf { object["rollbackOf"] = .int(rollbackOf) }
        return object
    }

    /// Reads an entry someone else may have written, within bounds.
    init(untrusted json: JSON, at path: UntrustedField.Path) throws(FieldProblem) {
        guard json.objectValue != nil else { throw path.problem("is not an object") }
        self.init(
            version: try UntrustedField.counter(json, "version", at: path),
            envelope: try UntrustedField.text(
                json, "envelope", maximumBytes: SealedVersion.maximumEnvelopeBytes, required: true, at: path),
            fingerprint: try UntrustedField.text(json, "fingerprint", maximumBytes: 64, at: path),
            sealedBy: try UntrustedField.text(json, "sealedBy", at: path),
            sealedAt: try UntrustedField.text(json, "sealedAt", maximumBytes: 64, at: path),
            rollbackOf: try UntrustedField.optionalCounter(json, "rollbackOf", at: path))
    }
}

extension SealedVersion {
    /// Most history entries read (writers keep `SealedStore.historyLimit`).
    static let maximumHistory = 16
    /// Longest envelope read: a ConfigMap holds 1 MiB in all.
    static let maximumEnvelopeBytes = 1_048_576

    var json: JSON {
        var object: JSON = [
            "version": .int(version), "fingerprint": .string(fingerprint), "sealedBy": .string(sealedBy),
            "sealedAt": .string(sealedAt), "history": .array(history.map(\.json)),
        ]
        if let rollbackOf { object["rollbackOf"] = .int(rollbackOf) }
        if let rollback { object["rollback"] = rollback.json }
        if let change { object["change"] = .string(change.text) }
        if let deletedAt { object["deletedAt"] = .string(deletedAt) }
        if let deletedBy { object["deletedBy"] = .string(deletedBy) }
        if let deletion { object["deletion"] = deletion.json }
        return object
    }

    /// Reads an entry someone else may have written, within bounds: counters in range, texts of
    /// bounded length, the statements' signatures and hashes of the right form.
    init(untrusted json: JSON, at path: UntrustedField.Path) throws(FieldProblem) {
        guard json.objectValue != nil else { throw path.problem("is not an object") }
        var history: [SealedHistoryEntry] = []
        if let value = json["history"], !value.isNull {
            guard let entries = value.arrayValue else { throw path.problem("history", "is not an array") }
            guard entries.count <= Self.maximumHistory else {
                throw path.problem("history", "holds \(entries.count) entries, over \(Self.maximumHistory)")
            }
            for (index, entry) in entries.enumerated() {
                history.append(try SealedHistoryEntry(untrusted: entry, at: path.member("history.\(index)")))
            }
        }
        let deletedAt = try UntrustedField.time(json, "deletedAt", at: path)
        self.init(
            version: try UntrustedField.counter(json, "version", at: path),
            fingerprint: try UntrustedField.text(json, "fingerprint", maximumBytes: 64, at: path),
            sealedBy: try UntrustedField.text(json, "sealedBy", at: path),
            sealedAt: try UntrustedField.text(json, "sealedAt", maximumBytes: 64, at: path),
            rollbackOf: try UntrustedField.optionalCounter(json, "rollbackOf", at: path),
            rollback: try json["rollback"].flatMap { value throws(FieldProblem) in
                value.isNull ? nil : try RollbackStatement(untrusted: value, at: path.member("rollback"))
            },
            history: history,
            // Untrusted: anything but a well-formed id is dropped.
            change: json["change"]?.stringValue.flatMap(ChangeID.init))
        if !deletedAt.isEmpty {
            self.deletedAt = deletedAt
            self.deletedBy = try UntrustedField.text(json, "deletedBy", at: path)
            self.deletion = try json["deletion"].flatMap { value throws(FieldProblem) in
                value.isNull ? nil : try DeletionStatement(untrusted: value, at: path.member("deletion"))
            }
        }
    }
}

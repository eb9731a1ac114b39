import JSONValue

/// The highest signed version the agent applied to a key: what makes a replayed old envelope
/// recognisable (docs/formats.md, annotation `beluga-ai.io/applied-versions` of the Secret).
///
/// It is kept on the live Secret, written in the same update as the value it describes, because
/// whoever can write that Secret can change the value anyway; the sealed store, which more
/// people may write, could not hold it safely.
public struct AppliedVersion: Sendable, Equatable {
    /// The Secret's annotation holding every key's entry.
    public static let annotation = "beluga-ai.io/applied-versions"

    /// The version applied (a signed envelope's version, or a signed rollback's new version); 0
    /// when only a deletion is remembered.
    public var version: Int
    /// The fingerprint of the value applied at `version`.
    public var fingerprint: String
    /// The highest version applied before the key was deleted, and when it was deleted: an
    /// envelope sealed before then with a version up to that one is an old envelope replayed.
    public var deletedVersion: Int?
    public var deletedAt: String?

    public init(version: Int, fingerprint: String, deletedVersion: Int? = nil, deletedAt: String? = nil) {
        self.version = version
        self.fingerprint = fingerprint
        self.deletedVersion = deletedVersion
        self.deletedAt = deletedAt
    }

    /// The entry to keep once the key is deleted from the Secret by the deletion of `tombstone`
    /// (its version).
    func deleted(at time: String, tombstone: Int = 0) -> AppliedVersion {
        AppliedVersion(
            version: 0, fingerprint: "", deletedVersion: max(version, deletedVersion ?? 0, tombstone),
            deletedAt: time)
    }

    /// The entry after `version` with `fingerprint` is applied (never lower than before).
    func applying(version newVersion: Int, fingerprint newFingerprint: String) -> AppliedVersion {
        guard newVersion > version else { return self }
        var next = AppliedVersion(version: newVersion, fingerprint: newFingerprint)
        if let deletedVersion, deletedVersion >= newVersion {
            next.deletedVersion = deletedVersion
            next.deletedAt = deletedAt
        }
        return next
    }

    // MARK: - JSON form

    var json: JSON {
        var object: JSON = ["version": .int(version), "fingerprint": .string(fingerprint)]
        if let deletedVersion, let deletedAt {
            object["deleted"] = ["version": .int(deletedVersion), "at": .string(deletedAt)]
        }
        return object
    }

    /// An entry as the agent writes it: versions are counters (`UntrustedField.counterRange`, so
    /// that they fit the status object's `signedVersion`), and a deletion has both its version and
    /// its time or counts as none (it could not be written back otherwise).
    init?(json: JSON) {
        guard let version = json["version"]?.intValue, UntrustedField.counterRange.contains(version)
        else { return nil }
        var deletedVersion = json[path: "deleted", "version"]?.intValue
        var deletedAt = json[path: "deleted", "at"]?.stringValue
        if deletedVersion.map({ !UntrustedField.counterRange.contains($0) }) ?? true || deletedAt == nil {
            deletedVersion = nil
            deletedAt = nil
        }
        self.init(
            version: version, fingerprint: json["fingerprint"]?.stringValue ?? "",
            deletedVersion: deletedVersion, deletedAt: deletedAt)
    }

    /// Every key's entry from the annotation's text; entries that cannot be read are left out
    /// (the key then has no applied version, as before signatures were used).
    public static func parse(_ text: String?) -> [String: AppliedVersion] {
        guard let text, let object = (try? JSON(parsing: text))?.objectValue else { return [:] }
        return object.compactMapValues(AppliedVersion.init(json:))
    }

    /// The annotation's text; `nil` when there is nothing to remember.
    public static func text(_ entries: [String: AppliedVersion]) -> String? {
        entries.isEmpty ? nil : JSON.object(entries.mapValues(\.json)).jsonText
    }
}

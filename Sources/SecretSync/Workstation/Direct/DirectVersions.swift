import JSONValue

/// The version records of keys written straight into the Secret (`set --direct`), kept in the
/// Secret's annotation `beluga-ai.io/direct-versions` so that `list` and `rotate` work without an
/// agent. Like `sealed-versions`, it holds fingerprints and names, never a value.
///
/// `{"openai-api-key":{"fingerprint":"fp1:…","setAt":"…","setBy":"alice@ws1","version":2}}`
public struct DirectVersions: Sendable, Equatable {
    public static let annotation = "beluga-ai.io/direct-versions"

    /// One key's record.
    public struct Entry: Sendable, Equatable {
        public var version: Int
        public var fingerprint: String
        public var setBy: String
        public var setAt: String

        public init(version: Int, fingerprint: String, setBy: String, setAt: String) {
            self.version = version
            self.fingerprint = fingerprint
            self.setBy = setBy
            self.setAt = setAt
        }
    }

    public var entries: [String: Entry]

    public init(entries: [String: Entry] = [:]) { self.entries = entries }

    /// Reads the annotation of a Secret; entries that are not records are skipped (the next
    /// write of that key starts it again at its next version).
    public init(secret: JSON) {
        entries = [:]
        guard let text = secret[path: "metadata", "annotations", Self.annotation]?.stringValue,
            let members = (try? JSON(parsing: text))?.objectValue
        else { return }
        for (key, value) in members {
            guard let version = value["version"]?.intValue, version >= 0 else { continue }
            entries[key] = Entry(
                version: version, fingerprint: value["fingerprint"]?.stringValue ?? "",
                setBy: value["setBy"]?.stringValue ?? "", setAt: value["setAt"]?.stringValue ?? "")
        }
    }

    /// The annotation's value; `nil` when no key has a record.
    public var text: String? {
        guard !entries.isEmpty else { return nil }
        return JSON.object(
            entries.mapValues { entry in
                [
                    "version": .int(entry.version), "fingerprint": .string(entry.fingerprint),
                    "setBy": .string(entry.setBy), "setAt": .string(entry.setAt),
                ]
            }
        ).jsonText
    }
}

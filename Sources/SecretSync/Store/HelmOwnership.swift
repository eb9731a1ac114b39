import JSONValue

/// Which keys of the sealed store Helm values own: the agent never rewrites their envelopes
/// (the next `helm upgrade` would restore them, or conflict with the agent under server-side
/// apply), it reports them instead (docs/formats.md, "Envelopes Helm owns").
///
/// A key is Helm's when the chart lists it in the annotation `beluga-ai.io/helm-managed-keys`,
/// or when a Helm field manager owns its `data` entry in `metadata.managedFields`. Both are
/// untrusted input: the annotation is bounded (size, count, key names) and ignored as a whole
/// when out of bounds (named in `problems`); managedFields entries that are not Helm's, or not
/// key names, are skipped. A wrong list can only stop a re-seal (which is reported) or let the
/// agent re-seal as it does for any other key (docs/threat-model.md).
public struct HelmOwnership: Sendable, Equatable {
    /// The annotation the chart renders on the sealed store: the keys of `sealedSecrets`, comma
    /// separated.
    public static let annotation = "beluga-ai.io/helm-managed-keys"
    /// The field managers Helm writes with: `helm` is the manager name of Helm 3's updates and of
    /// Helm 4's server-side apply from its command line.
    public static let managers: Set<String> = ["helm"]
    /// Longest annotation read (a sealed store holds at most 1 MiB in all).
    public static let maximumAnnotationBytes = 65_536
    /// Most keys the annotation may name.
    public static let maximumKeys = 1024

    /// The keys Helm owns.
    public var keys: Set<String> = []
    /// What bounded reading left out.
    public var problems: [FieldProblem] = []

    public init(keys: Set<String> = []) {
        self.keys = keys
    }

    /// Reads the ownership of the sealed-store ConfigMap `configMap`.
    public init(configMap: JSON) {
        let path = UntrustedField.Path(
            object: AgentStatus.describe(configMap), field: "annotation \(Self.annotation)")
        if let value = configMap[path: "metadata", "annotations", Self.annotation] {
            do {
                keys = try Self.listed(value, at: path)
            } catch {
                problems.append(error)
            }
        }
        for entry in configMap[path: "metadata", "managedFields"]?.arrayValue ?? [] {
            guard let manager = entry["manager"]?.stringValue, Self.managers.contains(manager),
                let data = entry[path: "fieldsV1", "f:data"]?.objectValue
            else { continue }
            for field in data.keys where field.hasPrefix("f:") {
                let key = String(field.dropFirst(2))
                if UntrustedField.isKeyName(key) { keys.insert(key) }
            }
        }
    }

    /// The keys of the annotation's value, or the problem that makes it unusable.
    static func listed(_ value: JSON, at path: UntrustedField.Path) throws(FieldProblem) -> Set<String> {
        guard let text = value.stringValue else {
            throw path.problem("is not a string (\(UntrustedField.kind(of: value)))")
        }
        guard text.utf8.count <= maximumAnnotationBytes else {
            throw path.problem("is \(text.utf8.count) bytes long, over \(maximumAnnotationBytes)")
        }
        let names = text.split(separator: ",", omittingEmptySubsequences: true).map {
            String($0).trimmingSpaces
        }
        guard names.count <= maximumKeys else {
            throw path.problem("names \(names.count) keys, over \(maximumKeys)")
        }
        var keys: Set<String> = []
        for name in names where !name.isEmpty {
            guard UntrustedField.isKeyName(name) else {
                throw path.problem("names \(UntrustedField.shortened(name)), which is not a Secret key name")
            }
            keys.insert(name)
        }
        return keys
    }
}

extension String {
    /// Without leading and trailing spaces.
    fileprivate var trimmingSpaces: String {
        var slice = Substring(self)
        while slice.first == " " { slice.removeFirst() }
        while slice.last == " " { slice.removeLast() }
        return String(slice)
    }
}

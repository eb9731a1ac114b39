import JSONValue

/// The agent's status object, ConfigMap `<secret>-status` (docs/formats.md): what the agent
/// observed and decided, kept apart from the sealed store (the desired state operators, Helm and
/// GitOps write), as Kubernetes keeps `.status` apart from `.spec`. Only the agent's Role may
/// write it; operators read it (`list`, `status`, `set --wait`, `audit`).
///
/// Each part is one `data` entry of compact JSON with sorted members. Reading is bounded and
/// never fails as a whole: an entry that is not what the agent writes is left out and named in
/// `problems` (an administrator can still edit the object), so the reader can go on with what
/// it can prove. Entries this version does not know are kept as they are.
///
/// To add a part: a property, its `data` key in `Key`, its reading in `init(parts:object:field:)`
/// and one line in `data`.
public struct AgentStatus: Sendable, Equatable {
    /// The `data` keys of the parts.
    public enum Key {
        public static let syncStatus = "sync-status"
        public static let auditHead = "audit-head"
        public static let orphaned = "orphaned"
        public static let signatures = "signatures"
        public static let keyAge = "key-age"
        public static let helmReseal = "helm-reseal"
    }

    /// The label every object the agent creates carries.
    public static let labels = ["app.kubernetes.io/managed-by": "beluga-secrets"]

    /// The agent's last outcome per key.
    public var keys: [String: SyncStatus] = [:]
    /// Where the namespace's audit chain stands.
    public var auditHead: AuditHead?
    /// Keys that left the sealed store without a deletion, kept in the Secret.
    public var orphaned: [String: OrphanedKey] = [:]
    /// Keys whose envelope Helm values own and that are sealed to a previous sealing key.
    public var helmReseal: [String: HelmReseal] = [:]
    /// The signature policy last set by the signers' ConfigMap.
    public var signatures: PolicyRecord?
    /// Each key's maximum age as last accepted, and the version last reported overdue.
    public var keyAge: [String: KeyAgeRecord] = [:]
    /// `data` entries of a later version of the agent, kept as they are.
    var otherData: [String: String] = [:]
    /// What bounded reading left out.
    public internal(set) var problems: [FieldProblem] = []

    /// An empty status.
    public init() {}

    /// Reads the status from the ConfigMap `configMap` (bounded; see the type's description).
    public init(configMap: JSON) {
        var data: [String: String] = [:]
        for (key, value) in configMap["data"]?.objectValue ?? [:] {
            if let text = value.stringValue { data[key] = text }
        }
        self.init(parts: data, object: Self.describe(configMap)) { "data[\($0)]" }
    }

    /// Reads the parts from their texts by `data` key; `field` names a part in messages.
    init(parts: [String: String], object: String, field: (String) -> String) {
        var data = parts
        var problems: [FieldProblem] = []
        func part(_ key: String) -> (JSON, UntrustedField.Path)? {
            guard let text = data.removeValue(forKey: key) else { return nil }
            let path = UntrustedField.Path(object: object, field: field(key))
            guard let json = try? JSON(parsing: text) else {
                problems.append(path.problem("is not JSON"))
                return nil
            }
            return (json, path)
        }
        if let (json, path) = part(Key.syncStatus) {
            keys = Self.entries(json, at: path, &problems) { entry, path throws(FieldProblem) in
                try SyncStatus(untrusted: entry, at: path)
            }
        }
        if let (json, path) = part(Key.orphaned) {
            orphaned = Self.entries(json, at: path, &problems) { entry, path throws(FieldProblem) in
                try OrphanedKey(untrusted: entry, at: path)
            }
        }
        if let (json, path) = part(Key.keyAge) {
            keyAge = Self.entries(json, at: path, &problems) { entry, path throws(FieldProblem) in
                try KeyAgeRecord(untrusted: entry, at: path)
            }
        }
        if let (json, path) = part(Key.helmReseal) {
            helmReseal = Self.entries(json, at: path, &problems) { entry, path throws(FieldProblem) in
                try HelmReseal(untrusted: entry, at: path)
            }
        }
        if let (json, path) = part(Key.signatures) {
            do {
                signatures = try PolicyRecord(untrusted: json, at: path)
            } catch {
                problems.append(error)
            }
        }
        if let (json, path) = part(Key.auditHead) {
            do {
                auditHead = try AuditHead(untrusted: json, at: path)
            } catch {
                problems.append(error)
            }
        }
        otherData = data
        self.problems = problems
    }

    /// The object's `data`.
    public var data: [String: String] {
        var data = otherData
        data[Key.syncStatus] = JSON.object(keys.mapValues(\.json)).jsonText
        if let auditHead { data[Key.auditHead] = auditHead.json.jsonText }
        if !orphaned.isEmpty { data[Key.orphaned] = JSON.object(orphaned.mapValues(\.json)).jsonText }
        if let signatures { data[Key.signatures] = signatures.json.jsonText }
        if !keyAge.isEmpty { data[Key.keyAge] = JSON.object(keyAge.mapValues(\.json)).jsonText }
        if !helmReseal.isEmpty { data[Key.helmReseal] = JSON.object(helmReseal.mapValues(\.json)).jsonText }
        return data
    }

    /// `configMap` with this status as its `data` (every other field kept), or a new status
    /// ConfigMap when `configMap` is nil.
    public func writing(into configMap: JSON?, name: String, namespace: String) -> JSON {
        var object: JSON =
            configMap ?? [
                "apiVersion": "v1", "kind": "ConfigMap",
                "metadata": [
                    "name": .string(name), "namespace": .string(namespace),
                    "labels": .object(Self.labels.mapValues { .string($0) }),
                ],
            ]
        object["data"] = .object(data.mapValues { .string($0) })
        return object
    }

    /// Whether the two hold the same status (what bounded reading kept, not the problems).
    public func sameContent(as other: AgentStatus) -> Bool {
        keys == other.keys && auditHead == other.auditHead && orphaned == other.orphaned
            && signatures == other.signatures && keyAge == other.keyAge && helmReseal == other.helmReseal
            && otherData == other.otherData
    }

    // MARK: - Reading

    /// Reads an object of entries by key name; an entry out of bounds is left out, its problem
    /// recorded, and the others kept.
    static func entries<Entry>(
        _ json: JSON, at path: UntrustedField.Path, _ problems: inout [FieldProblem],
        _ entry: (JSON, UntrustedField.Path) throws(FieldProblem) -> Entry
    ) -> [String: Entry] {
        guard let members = json.objectValue else {
            problems.append(path.problem("is not an object"))
            return [:]
        }
        var result: [String: Entry] = [:]
        for (name, value) in members.sorted(by: { $0.key < $1.key }) {
            do {
                let key = try UntrustedField.keyName(name, at: path)
                result[key] = try entry(value, path.member(key))
            } catch {
                problems.append(error)
            }
        }
        return result
    }

    static func describe(_ configMap: JSON) -> String {
        let namespace = configMap[path: "metadata", "namespace"]?.stringValue ?? ""
        let name = configMap[path: "metadata", "name"]?.stringValue ?? "(unnamed)"
        return "ConfigMap \(namespace.isEmpty ? "" : namespace + "/")\(name)"
    }
}

import JSONValue
import Sealing

/// The sealed store ConfigMap (`<secret>-sealed`) as data: one envelope per key and the writers'
/// version records, the desired state. What the agent observed and decided is not here but in
/// its status object (`AgentStatus`). See docs/formats.md.
///
/// This type only reads and edits the object; callers fetch and write it through the API with
/// the `resourceVersion` they read, and on a conflict read again and replay their edit.
public struct SealedStore: Sendable, Equatable {
    public static let versionsAnnotation = "beluga-ai.io/sealed-versions"
    /// Previous versions kept per key for rollback.
    public static let historyLimit = 3
    /// Writers keep all annotations of the object below this size (Kubernetes allows 256 KiB).
    public static let annotationBudget = 200 * 1024

    /// Current envelope of each key (`data`).
    public var envelopes: [String: String]
    /// Version records of keys (`beluga-ai.io/sealed-versions`).
    public var versions: [String: SealedVersion]
    /// The highest signed version the agent applied per key, from its status object (never
    /// written here): writers number a key's next change above it, see `nextVersion(of:)`.
    public var signedVersions: [String: Int]
    /// Each key's maximum age (`beluga-ai.io/key-max-age`, see `KeyMaxAge`).
    public var maxAges: [String: KeyMaxAge]
    /// Annotations of the object that are not this store's, kept to respect the size budget.
    var otherAnnotationBytes: Int

    /// An empty store.
    public init() {
        envelopes = [:]
        versions = [:]
        signedVersions = [:]
        maxAges = [:]
        otherAnnotationBytes = 0
    }

    /// Reads the store from a ConfigMap object.
    ///
    /// Strict reading (the CLI, before it writes) refuses annotations that are not the JSON of
    /// docs/formats.md, or hold a field out of bounds (see `UntrustedField`), so a writer never
    /// silently drops what it cannot read. Lenient reading (the agent) keeps going: it records
    /// each problem in `problems` and leaves the damaged annotation or entry out, since the
    /// envelopes alone are enough to reconcile.
    public init(configMap: JSON, lenient: Bool = false) throws(SealedStoreError) {
        self.init()
        let name = configMap[path: "metadata", "name"]?.stringValue ?? "(unnamed)"
        let object = AgentStatus.describe(configMap)
        // The API server allows only Secret key names in `data`; a name it would refuse is
        // left out, so that no status entry, audit record or Event carries it.
        let dataPath = UntrustedField.Path(object: object, field: "data")
        for (key, value) in (configMap["data"]?.objectValue ?? [:]).sorted(by: { $0.key < $1.key }) {
            guard let envelope = value.stringValue else { continue }
            do {
                envelopes[try UntrustedField.keyName(key, at: dataPath)] = envelope
            } catch {
                guard lenient else { throw .invalidKeyName(error) }
                problems.append(.invalidKeyName(error))
            }
        }
        let annotations = configMap[path: "metadata", "annotations"]?.objectValue ?? [:]
        for (key, value) in annotations where key != Self.versionsAnnotation && key != KeyMaxAge.annotation {
            otherAnnotationBytes += key.utf8.count + (value.stringValue?.utf8.count ?? 0)
        }
        func members(_ annotation: String) throws(SealedStoreError) -> [String: JSON] {
            guard let text = annotations[annotation]?.stringValue else { return [:] }
            guard let parsed = try? JSON(parsing: text), let object = parsed.objectValue else {
                let problem = SealedStoreError.malformedAnnotation(configMap: name, annotation: annotation)
                if lenient {
                    problems.append(problem)
                    return [:]
                }
                throw problem
            }
            return object
        }
        let path = UntrustedField.Path(object: object, field: "annotation \(Self.versionsAnnotation)")
        for (key, value) in try members(Self.versionsAnnotation).sorted(by: { $0.key < $1.key }) {
            do {
                versions[try UntrustedField.keyName(key, at: path)] = try SealedVersion(
                    untrusted: value, at: path.member(key))
            } catch {
                guard lenient else { throw .outOfBounds(error) }
                problems.append(.outOfBounds(error))
                damagedRecords.insert(key)
            }
        }
        if let text = annotations[KeyMaxAge.annotation]?.stringValue {
            let read = KeyMaxAge.policy(
                untrusted: text,
                at: UntrustedField.Path(object: object, field: "annotation \(KeyMaxAge.annotation)"))
            if let problem = read.problems.first, !lenient { throw .outOfBounds(problem) }
            maxAges = read.policy
            maxAgeProblems = read.problems
            maxAgeDamaged = read.damaged
            maxAgeUnreadable = read.whole
        }
    }

    /// What lenient reading could not understand of `beluga-ai.io/key-max-age`: those entries
    /// are left out of `maxAges` (the agent keeps the maximum age it had for them).
    public private(set) var maxAgeProblems: [FieldProblem] = []
    /// The names of the entries left out for those problems.
    public private(set) var maxAgeDamaged: Set<String> = []
    /// Whether the whole annotation `beluga-ai.io/key-max-age` was unreadable.
    public private(set) var maxAgeUnreadable = false

    /// What lenient reading could not understand.
    public private(set) var problems: [SealedStoreError] = []
    /// Keys whose version record lenient reading left out (out of bounds): their version is not
    /// known, so the agent keeps the one it recorded.
    public private(set) var damagedRecords: Set<String> = []

    /// The key's current version: 0 for an envelope no writer has recorded.
    public func version(of key: String) -> Int { versions[key]?.version ?? 0 }

    /// The version a writer gives the key's next change: one above both the store's numbering and
    /// the highest signed version the agent applied. The two differ when signed envelopes reach
    /// the store without a version record (Helm's `sealedSecrets`, sealed with `seal --version`).
    public func nextVersion(of key: String) -> Int {
        max(version(of: key), signedVersions[key] ?? 0) + 1
    }

    /// Every key the store holds, sorted.
    public var keys: [String] { envelopes.keys.sorted() }
}

// MARK: - Writers' edits

extension SealedStore {
    /// Stores `envelope` as the key's new current version and returns that version. The envelope
    /// it replaces moves into the key's history. `version` is the one `nextVersion(of:)` gave,
    /// when the envelope was made for it.
    @discardableResult
    public mutating func set(
        key: String, envelope: String, fingerprint: String, sealedBy: String, sealedAt: String,
        rollbackOf: Int? = nil, rollback: RollbackStatement? = nil, version: Int? = nil,
        change: ChangeID? = nil
    ) -> Int {
        let previous = versions[key]
        var history = previous?.history ?? []
        if let old = envelopes[key] {
            history.insert(
                SealedHistoryEntry(
                    version: previous?.version ?? 0, envelope: old, fingerprint: previous?.fingerprint ?? "",
                    sealedBy: previous?.sealedBy ?? "", sealedAt: previous?.sealedAt ?? "",
                    rollbackOf: previous?.rollbackOf),
                at: 0)
        }
        let version = version ?? nextVersion(of: key)
        envelopes[key] = envelope
        versions[key] = SealedVersion(
            version: version, fingerprint: fingerprint, sealedBy: sealedBy, sealedAt: sealedAt,
            rollbackOf: rollbackOf, rollback: rollback, history: Array(history.prefix(Self.historyLimit)),
            change: change)
        trimHistoryToBudget()
        return version
    }

    /// Restores the envelope of an earlier version (the one before the current when `version`
    /// is nil) as a new version, and returns the new version.
    ///
    /// With `signer`, the new version carries a rollback statement signed with it (see
    /// `RollbackStatement`), which an agent that requires signatures needs to apply an envelope
    /// older than the one it applied.
    @discardableResult
    public mutating func rollback(
        key: String, to version: Int? = nil, by sealedBy: String, at sealedAt: String,
        signer: RollbackSigner? = nil, change: ChangeID? = nil
    ) throws(SealedStoreError) -> Int {
        guard envelopes[key] != nil, let record = versions[key] else { throw .keyNotFound(key: key) }
        let candidates = record.history
        let entry: SealedHistoryEntry?
        if let version {
            entry = candidates.first { $0.version == version }
        } else {
            entry = candidates.first
        }
        guard let entry else {
            throw .versionNotKept(key: key, version: version, kept: candidates.map(\.version))
        }
        let statement = signer.map {
            RollbackStatement.sign(
                binding: $0.binding, from: record.version, to: entry.version, version: nextVersion(of: key),
                envelope: entry.envelope, key: $0.key, at: sealedAt)
        }
        return set(
            key: key, envelope: entry.envelope, fingerprint: entry.fingerprint, sealedBy: sealedBy,
            sealedAt: sealedAt, rollbackOf: entry.version, rollback: statement, change: change)
    }

    /// Deletes the key: removes its envelope and records the deletion as the key's next version, a
    /// tombstone saying who deleted it and when (signed with `signer` when given), without the
    /// key's history: a deleted value is gone. The agent removes a key from the Secret only for
    /// such a tombstone (under `required`, a signed one). A key already absent from `data` (one the
    /// agent reports orphaned: `known`) can be deleted too. Returns the tombstone's version.
    @discardableResult
    public mutating func delete(
        key: String, by deletedBy: String, at deletedAt: String, signer: RollbackSigner? = nil,
        known: Bool = false, change: ChangeID? = nil
    ) throws(SealedStoreError) -> Int {
        guard envelopes[key] != nil || versions[key] != nil || known else { throw .keyNotFound(key: key) }
        let version = nextVersion(of: key)
        envelopes[key] = nil
        var tombstone = SealedVersion(
            version: version, fingerprint: "", sealedBy: deletedBy, sealedAt: deletedAt)
        tombstone.deletedAt = deletedAt
        tombstone.deletedBy = deletedBy
        tombstone.change = change
        tombstone.deletion = signer.map {
            DeletionStatement.sign(binding: $0.binding, version: version, key: $0.key, at: deletedAt)
        }
        versions[key] = tombstone
        return version
    }

    /// Drops the oldest history entries, largest first, until the annotations fit the budget.
    mutating func trimHistoryToBudget() {
        while annotationBytes > Self.annotationBudget {
            let largest = versions.max { lhs, rhs in
                lhs.value.history.reduce(0) { $0 + $1.envelope.utf8.count }
                    < rhs.value.history.reduce(0) { $0 + $1.envelope.utf8.count }
            }
            guard let largest, !largest.value.history.isEmpty else { return }
            versions[largest.key]?.history.removeLast()
        }
    }

    /// Size of all annotations of the object once written.
    var annotationBytes: Int {
        otherAnnotationBytes
            + Self.versionsAnnotation.utf8.count + versionsText.utf8.count
            + (maxAges.isEmpty ? 0 : KeyMaxAge.annotation.utf8.count + KeyMaxAge.text(maxAges).utf8.count)
    }

    var versionsText: String { JSON.object(versions.mapValues(\.json)).jsonText }
}

// MARK: - Writing back

extension SealedStore {
    /// `configMap` with this store's envelopes and version records written into it. Every other
    /// field, including the agent's annotations as they were read, is kept, so a replace with the
    /// object's `resourceVersion` changes only what the writer meant to change.
    public func writingEnvelopesAndVersions(into configMap: JSON) -> JSON {
        var object = configMap
        object["data"] = .object(envelopes.mapValues { .string($0) })
        if versions.isEmpty {
            object[path: "metadata", "annotations", Self.versionsAnnotation] = nil
        } else {
            object[path: "metadata", "annotations", Self.versionsAnnotation] = .string(versionsText)
        }
        object[path: "metadata", "annotations", KeyMaxAge.annotation] =
            maxAges.isEmpty ? nil : .string(KeyMaxAge.text(maxAges))
        return object
    }

    /// A new sealed store ConfigMap holding this store.
    public func newConfigMap(name: String, namespace: String, labels: [String: String] = [:]) -> JSON {
        var object: JSON = [
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": ["name": .string(name), "namespace": .string(namespace)],
        ]
        if !labels.isEmpty { object[path: "metadata", "labels"] = .object(labels.mapValues { .string($0) }) }
        return writingEnvelopesAndVersions(into: object)
    }

}

/// The key and binding a signed statement is signed with (see `SealedStore.rollback` and
/// `SealedStore.delete`).
public struct RollbackSigner: Sendable {
    public let key: SigningKeyPair
    /// Where the key is: the statement is bound to it.
    public let binding: SecretBinding

    public init(key: SigningKeyPair, binding: SecretBinding) {
        self.key = key
        self.binding = binding
    }
}

/// What is wrong with a sealed store or an edit of it.
public enum SealedStoreError: Error, Sendable, Equatable, CustomStringConvertible {
    case malformedAnnotation(configMap: String, annotation: String)
    /// A field of an annotation is out of bounds.
    case outOfBounds(FieldProblem)
    /// A `data` entry is named what no Secret key can be.
    case invalidKeyName(FieldProblem)
    case keyNotFound(key: String)
    case versionNotKept(key: String, version: Int?, kept: [Int])

    /// The problem as bad input the agent reports; `nil` for errors of an edit.
    public var fieldProblem: FieldProblem? {
        switch self {
        case .outOfBounds(let problem), .invalidKeyName(let problem): return problem
        case .malformedAnnotation(let configMap, let annotation):
            return FieldProblem(
                object: "ConfigMap \(configMap)", field: "annotation \(annotation)",
                problem: "is not a JSON object")
        case .keyNotFound, .versionNotKept: return nil
        }
    }

    public var description: String {
        switch self {
        case .malformedAnnotation(let configMap, let annotation):
            let consequence: String
            switch annotation {
            case SealedStore.versionsAnnotation: consequence = "versions restart at the next set"
            default: consequence = "beluga-secrets writes it again"
            }
            return
                "annotation \(annotation) of ConfigMap \"\(configMap)\" is not the JSON beluga-secrets writes; "
                + "restore it from a backup or remove the annotation (\(consequence))"
        case .outOfBounds(let problem) where problem.field.hasPrefix("annotation \(KeyMaxAge.annotation)"):
            return
                "\(problem): set the key's maximum age again with `beluga-secrets max-age KEY DURATION`, or "
                + "remove the entry from the annotation"
        case .outOfBounds(let problem):
            return
                "\(problem): restore the annotation from a backup, or remove the entry (its versions restart "
                + "at the next set)"
        case .invalidKeyName(let problem):
            return
                "\(problem): remove that entry (a Secret key name is letters, digits, '-', '_' and '.', at most 253 "
                + "characters)"
        case .keyNotFound(let key):
            return "key \"\(key)\" is not in the sealed store; run `beluga-secrets list` to see the keys"
        case .versionNotKept(let key, let version, let kept):
            let which = version.map { "version \($0)" } ?? "a previous version"
            let keptText =
                kept.isEmpty ? "none is kept" : "kept: " + kept.map(String.init).joined(separator: ", ")
            return "\(which) of key \"\(key)\" is not kept in the sealed store (\(keptText))"
        }
    }
}

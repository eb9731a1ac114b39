import Foundation
import JSONValue

/// The kind of a watch event, as written in `WatchEvent.type`.
enum WatchEventType: String, Sendable {
    case added = "ADDED"
    case modified = "MODIFIED"
    case deleted = "DELETED"
    case bookmark = "BOOKMARK"
    case error = "ERROR"
}

/// One committed change, kept in the bounded history that watches resume from.
struct StoredChange: Sendable {
    var revision: Int
    var resource: GroupResource
    var type: WatchEventType
    /// The object after the change (for a deletion: its last state, at the deletion's revision).
    var object: JSON
    /// The object before the change, so that selector-filtered watches can tell an object that
    /// left their selection (seen as DELETED) from one that entered it (seen as ADDED).
    var previous: JSON?
}

/// A namespace/name pair; ordering follows the real server's storage keys.
struct ObjectName: Sendable, Hashable, Comparable {
    var namespace: String
    var name: String

    static func < (lhs: ObjectName, rhs: ObjectName) -> Bool {
        (lhs.namespace, lhs.name) < (rhs.namespace, rhs.name)
    }
}

/// The cluster's state: every object, one resourceVersion counter, the bounded change history
/// and the open watches. All reads and writes go through this actor, so a request's
/// read-modify-write is atomic, as etcd's compare-and-swap makes it on a real server.
actor ClusterStore {
    let catalog: ResourceCatalog
    let settings: StoreSettings
    private(set) var revision = 0
    var objects: [GroupResource: [ObjectName: JSON]] = [:]
    var history: [StoredChange] = []
    /// Changes at or below this revision are no longer in `history`.
    var compactedRevision = 0
    var watchers: [Int: Watcher] = [:]
    var nextWatcherID = 0
    /// Template changes per Deployment (namespace/name), for tests and benchmarks.
    var rolloutCounts: [ObjectName: Int] = [:]
    /// How workloads run (start delay, time scale, images), set before the controllers start.
    var simulation = WorkloadSimulation(startDelay: .milliseconds(200), timeScale: 1, images: ImageCatalog())
    /// The simulated kubelet's and controllers' memory between syncs.
    var workloads = WorkloadState()
    /// Callbacks the controllers register to hear about committed changes.
    var observers: [@Sendable (StoredChange) -> Void] = []

    init(catalog: ResourceCatalog, settings: StoreSettings) {
        self.catalog = catalog
        self.settings = settings
    }

    /// Settings that shape the store's behaviour.
    struct StoreSettings: Sendable {
        var historyLimit: Int
        var bookmarkInterval: Duration
        /// The API's schemas, when the emulator has them: write bodies are decoded by them.
        var schemas: OpenAPISchemas? = nil
        /// What writes that do not say `fieldValidation` get.
        var defaultFieldValidation = FieldValidation.strict
    }

    func addObserver(_ observer: @escaping @Sendable (StoredChange) -> Void) {
        observers.append(observer)
    }

    // MARK: - Reading

    func object(_ resource: GroupResource, _ name: ObjectName) -> JSON? {
        objects[resource]?[name]
    }

    /// Objects of a resource (in one namespace, or all when `namespace` is nil), sorted by key.
    func objects(of resource: GroupResource, namespace: String?) -> [(ObjectName, JSON)] {
        guard let all = objects[resource] else { return [] }
        return all.filter { namespace == nil || $0.key.namespace == namespace }.sorted { $0.key < $1.key }
    }

    // MARK: - Committing

    /// Stores `object` (or removes it for `.deleted`) under a new resourceVersion, records the
    /// change and tells the watches. Returns the object as stored.
    @discardableResult
    func commit(_ type: WatchEventType, _ resource: GroupResource, _ object: JSON, previous: JSON?) -> JSON {
        revision += 1
        var stored = object
        stored[path: "metadata", "resourceVersion"] = .string(String(revision))
        let name = ObjectName(
            namespace: stored[path: "metadata", "namespace"]?.stringValue ?? "",
            name: stored[path: "metadata", "name"]?.stringValue ?? "")
        if type == .deleted {
            objects[resource]?[name] = nil
        } else {
            objects[resource, default: [:]][name] = stored
        }
        let change = StoredChange(
            revision: revision, resource: resource, type: type, object: stored, previous: previous)
        history.append(change)
        if history.count > settings.historyLimit {
            let drop = history.count - settings.historyLimit
            compactedRevision = history[drop - 1].revision
            history.removeFirst(drop)
        }
        deliver(change)
        for observer in observers { observer(change) }
        return stored
    }

    /// Drops the whole history, as an etcd compaction does: watches must relist, and continue
    /// tokens of earlier lists expire. The real server's compactor writes a key before it
    /// compacts, so the revision moves on: a list made just before is compacted too.
    func compactHistory() {
        revision += 1
        compactedRevision = revision
        history.removeAll()
    }
}

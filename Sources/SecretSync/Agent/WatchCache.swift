import JSONValue
import KubeAPI

/// The objects the agent's watches hold, served to its reads as controller-runtime's cached
/// client serves them: a read of a watched object costs no request once its watch has listed,
/// and a namespace the listing did not include has no such object.
///
/// A cached object may lag behind the server (a change not yet delivered). That is safe because
/// every write of the agent is conditioned on the `resourceVersion` it read: a write based on a
/// stale object conflicts, and the reads of the retry go to the server (`NamespaceReads`). The
/// agent's own successful writes are stored as they come back, so that its next read does not
/// start from the version its write replaced.
actor WatchCache {
    private struct Watched: Hashable {
        var resource: String
        var name: String
    }

    /// Per watched object: the objects by namespace, once the watch has listed.
    private var listed: [Watched: [String: JSON]] = [:]

    /// The object `name` of `namespace`: `.some(nil)` when the watch knows it does not exist,
    /// `nil` when no watch has listed it (ask the server).
    func lookup<T: KubeObject>(_ type: T.Type, namespace: String, name: String) -> T?? {
        guard let objects = listed[Watched(resource: T.resource.plural, name: name)] else { return nil }
        return .some(objects[namespace].map { T(json: $0) })
    }

    /// What a watch of the objects `name` (one namespace, or all) holds now.
    func replace<T: KubeObject>(_ type: T.Type, name: String, with objects: [String: T]) {
        let key = Watched(resource: T.resource.plural, name: name)
        var current: [String: JSON] = [:]
        for (namespace, object) in objects {
            // A version the agent wrote and the watch has not delivered yet stays.
            if let known = listed[key]?[namespace], Self.isNewer(known, than: object.json) {
                current[namespace] = known
            } else {
                current[namespace] = object.json
            }
        }
        listed[key] = current
    }

    /// The watch of the objects `name` stopped: reads go to the server until it lists again.
    func forget<T: KubeObject>(_ type: T.Type, name: String) {
        listed[Watched(resource: T.resource.plural, name: name)] = nil
    }

    /// The watches stopped (leadership ended): nothing is served until they list again.
    func clear() {
        listed = [:]
    }

    /// The agent wrote `object`: what the server answered is the newest version it knows of.
    func wrote<T: KubeObject>(_ object: T, namespace: String) {
        let key = Watched(resource: T.resource.plural, name: object.name)
        guard listed[key] != nil else { return }
        if let known = listed[key]?[namespace], Self.isNewer(known, than: object.json) { return }
        listed[key]?[namespace] = object.json
    }

    /// Whether `first` is a later version of the object than `second`. Versions are opaque to
    /// clients; the API server's (etcd revisions) and the emulator's are numbers that grow, so
    /// when both are numbers the larger is later, and otherwise neither is taken as later.
    static func isNewer(_ first: JSON, than second: JSON) -> Bool {
        guard let a = first[path: "metadata", "resourceVersion"]?.stringValue.flatMap({ UInt64($0) }),
            let b = second[path: "metadata", "resourceVersion"]?.stringValue.flatMap({ UInt64($0) })
        else { return false }
        return a > b
    }
}

import JSONValue
import Synchronization

/// One kind of request, as counted: verb × group × resource (with subresource) × namespace × name.
public struct RequestKey: Sendable, Hashable, CustomStringConvertible {
    public var verb: String
    public var group: String
    /// `secrets`, or `pods/log` for a subresource; for non-resource requests the path.
    public var resource: String
    public var namespace: String
    /// The object name (for list/watch: the name a `metadata.name` field selector pins).
    public var name: String

    public var description: String {
        let qualified = group.isEmpty ? resource : "\(resource).\(group)"
        var text = "\(verb) \(qualified)"
        if !namespace.isEmpty { text += " -n \(namespace)" }
        if !name.isEmpty { text += " \(name)" }
        return text
    }
}

/// Counts of the requests an emulator has received, by kind.
public struct RequestCounts: Sendable, Equatable {
    public var counts: [RequestKey: Int]

    /// All requests.
    public var total: Int { counts.values.reduce(0, +) }

    /// Requests matching every given attribute (nil = any). `resource` may name a subresource
    /// (`pods/log`); `group` nil matches any group.
    public func count(
        verb: String? = nil, resource: String? = nil, group: String? = nil, namespace: String? = nil,
        name: String? = nil
    ) -> Int {
        counts.filter { key, _ in
            (verb == nil || key.verb == verb) && (resource == nil || key.resource == resource)
                && (group == nil || key.group == group) && (namespace == nil || key.namespace == namespace)
                && (name == nil || key.name == name)
        }.values.reduce(0, +)
    }

    /// Requests that change state (create, update, patch, delete, deletecollection).
    public var writes: Int {
        counts.filter { ["create", "update", "patch", "delete", "deletecollection"].contains($0.key.verb) }
            .values.reduce(0, +)
    }

    /// `[{"verb":…,"group":…,"resource":…,"namespace":…,"name":…,"count":N}]`, sorted.
    public var json: JSON {
        .array(
            counts.sorted { $0.key.description < $1.key.description }.map { key, count in
                [
                    "verb": .string(key.verb), "group": .string(key.group), "resource": .string(key.resource),
                    "namespace": .string(key.namespace), "name": .string(key.name), "count": .int(count),
                ]
            })
    }
}

/// Thread-safe request accounting.
final class RequestCounter: Sendable {
    private let state = Mutex<[RequestKey: Int]>([:])

    func record(_ info: RequestInfo) {
        let key = RequestKey(
            verb: info.verb, group: info.apiGroup,
            resource: info.isResourceRequest ? info.resourcePath : info.path,
            namespace: info.namespace, name: info.name)
        state.withLock { $0[key, default: 0] += 1 }
    }

    var snapshot: RequestCounts { RequestCounts(counts: state.withLock { $0 }) }

    func reset() { state.withLock { $0 = [:] } }
}

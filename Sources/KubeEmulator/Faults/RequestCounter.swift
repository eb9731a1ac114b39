import JSONValue
import Synchronization

/// One kind of request, as counted: verb × group × resource (with subresource) × namespace × name,
/// who sent it and the status code it got.
public struct RequestKey: Sendable, Hashable, CustomStringConvertible {
    public var verb: String
    public var group: String
    /// `secrets`, or `pods/log` for a subresource; for non-resource requests the path.
    public var resource: String
    public var namespace: String
    /// The object name (for list/watch: the name a `metadata.name` field selector pins).
    public var name: String
    /// The authenticated user (`system:serviceaccount:<namespace>:<name>` for a service account);
    /// empty when authentication failed.
    public var user: String
    /// The HTTP status of the answer (for a watch or a followed log: of its start); 0 for a
    /// request the fault plan left hanging.
    public var code: Int

    public init(
        verb: String, group: String, resource: String, namespace: String, name: String, user: String = "",
        code: Int = 200
    ) {
        self.verb = verb
        self.group = group
        self.resource = resource
        self.namespace = namespace
        self.name = name
        self.user = user
        self.code = code
    }

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
        name: String? = nil, user: String? = nil, code: Int? = nil
    ) -> Int {
        counts.filter { key, _ in
            (verb == nil || key.verb == verb) && (resource == nil || key.resource == resource)
                && (group == nil || key.group == group) && (namespace == nil || key.namespace == namespace)
                && (name == nil || key.name == name) && (user == nil || key.user == user)
                && (code == nil || key.code == code)
        }.values.reduce(0, +)
    }

    /// Requests that change state (create, update, patch, delete, deletecollection).
    public var writes: Int {
        counts.filter { ["create", "update", "patch", "delete", "deletecollection"].contains($0.key.verb) }
            .values.reduce(0, +)
    }

    /// One row per verb × group × resource × namespace × name × user, sorted:
    /// `[{"verb","group","resource","namespace","name","user","count":N,"codes":{"200":N}}]`.
    /// `count` is the total of `codes`, so readers that ignore users and codes see what they
    /// saw before those were recorded.
    public var json: JSON {
        struct Row: Hashable {
            var verb, group, resource, namespace, name, user: String
        }
        var rows: [Row: [Int: Int]] = [:]
        for (key, count) in counts {
            let row = Row(
                verb: key.verb, group: key.group, resource: key.resource, namespace: key.namespace,
                name: key.name, user: key.user)
            rows[row, default: [:]][key.code, default: 0] += count
        }
        let ordered = rows.sorted {
            ($0.key.verb, $0.key.group, $0.key.resource, $0.key.namespace, $0.key.name, $0.key.user)
                < ($1.key.verb, $1.key.group, $1.key.resource, $1.key.namespace, $1.key.name, $1.key.user)
        }
        return .array(
            ordered.map { row, codes in
                var byCode: [String: JSON] = [:]
                for (code, count) in codes { byCode[String(code)] = .int(count) }
                return [
                    "verb": .string(row.verb), "group": .string(row.group), "resource": .string(row.resource),
                    "namespace": .string(row.namespace), "name": .string(row.name), "user": .string(row.user),
                    "count": .int(codes.values.reduce(0, +)), "codes": .object(byCode),
                ]
            })
    }
}

/// Thread-safe request accounting.
final class RequestCounter: Sendable {
    private let state = Mutex<[RequestKey: Int]>([:])
    private let protocols = Mutex<[String: Int]>([:])

    func record(_ info: RequestInfo, user: String, code: Int, httpVersion: String) {
        let key = RequestKey(
            verb: info.verb, group: info.apiGroup,
            resource: info.isResourceRequest ? info.resourcePath : info.path,
            namespace: info.namespace, name: info.name, user: user, code: code)
        state.withLock { $0[key, default: 0] += 1 }
        protocols.withLock { $0[httpVersion, default: 0] += 1 }
    }

    var snapshot: RequestCounts { RequestCounts(counts: state.withLock { $0 }) }

    /// Requests by HTTP version (`HTTP/1.1`, `HTTP/2`).
    var byProtocol: [String: Int] { protocols.withLock { $0 } }

    func reset() {
        state.withLock { $0 = [:] }
        protocols.withLock { $0 = [:] }
    }
}

/// A kind of API resource: where its objects live (`group`/`version`/`plural`) and whether
/// they belong to a namespace. The typed models name theirs; any other resource can be
/// described with `init` and used through the generic calls.
public struct ResourceType: Sendable, Hashable, CustomStringConvertible {
    /// API group; empty for the core group (`v1`).
    public var group: String
    public var version: String
    /// Lower-case plural used in paths, e.g. `secrets`.
    public var plural: String
    public var kind: String
    public var namespaced: Bool

    public init(group: String, version: String, plural: String, kind: String, namespaced: Bool) {
        self.group = group
        self.version = version
        self.plural = plural
        self.kind = kind
        self.namespaced = namespaced
    }

    /// `v1` or `apps/v1`: the objects' `apiVersion`.
    public var apiVersion: String { group.isEmpty ? version : "\(group)/\(version)" }

    /// As kubectl names it in `auth can-i`: `secrets`, `deployments.apps`.
    public var description: String { group.isEmpty ? plural : "\(plural).\(group)" }

    /// The request path of the collection or of one object.
    func path(namespace: String?, name: String? = nil, subresource: String? = nil) -> String {
        var path = group.isEmpty ? "/api/\(version)" : "/apis/\(group)/\(version)"
        if namespaced, let namespace { path += "/namespaces/\(PathEscaping.segment(namespace))" }
        path += "/\(plural)"
        if let name { path += "/\(PathEscaping.segment(name))" }
        if let subresource { path += "/\(subresource)" }
        return path
    }

    public static let secrets = ResourceType(
        group: "", version: "v1", plural: "secrets", kind: "Secret", namespaced: true)
    public static let configMaps = ResourceType(
        group: "", version: "v1", plural: "configmaps", kind: "ConfigMap", namespaced: true)
    public static let pods = ResourceType(
        group: "", version: "v1", plural: "pods", kind: "Pod", namespaced: true)
    public static let events = ResourceType(
        group: "", version: "v1", plural: "events", kind: "Event", namespaced: true)
    public static let namespaces = ResourceType(
        group: "", version: "v1", plural: "namespaces", kind: "Namespace", namespaced: false)
    public static let deployments = ResourceType(
        group: "apps", version: "v1", plural: "deployments", kind: "Deployment", namespaced: true)
    public static let leases = ResourceType(
        group: "coordination.k8s.io", version: "v1", plural: "leases", kind: "Lease", namespaced: true)
}

/// Percent-encoding for path segments and query values.
enum PathEscaping {
    private static let unreserved = Set(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~".utf8)

    static func segment(_ text: String) -> String { escape(text) }

    static func query(_ text: String) -> String { escape(text) }

    private static func escape(_ text: String) -> String {
        var result = ""
        for byte in text.utf8 {
            if unreserved.contains(byte) {
                result.append(Character(UnicodeScalar(byte)))
            } else {
                result += "%" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
            }
        }
        return result
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}

import Crypto
import Foundation
import JSONValue

/// A resource type the emulator serves: its group/version, kind, plural name, scope, verbs and
/// subresources, as discovery describes it.
public struct APIResource: Sendable, Hashable {
    public var group: String
    public var version: String
    public var kind: String
    /// The plural resource name used in URLs (`secrets`).
    public var name: String
    public var singularName: String
    public var namespaced: Bool
    public var shortNames: [String]
    public var categories: [String]
    public var verbs: [String]
    /// Subresources served under `<name>/<subresource>` (`status`, `scale`, `log`, ...).
    public var subresources: [String]
    /// Field selectors the real server supports beyond `metadata.name`/`metadata.namespace`.
    public var extraFieldSelectors: [String]

    public var groupResource: GroupResource { GroupResource(group: group, resource: name) }
    public var groupVersion: String { group.isEmpty ? version : "\(group)/\(version)" }
    public var apiVersion: String { groupVersion }
    public var listKind: String { kind + "List" }

    /// Objects the API writes (not only reads): false for review-style resources that are created
    /// and answered but never stored.
    var isStored: Bool { verbs.contains("get") || verbs.contains("list") }

    static let crudVerbs = [
        "create", "delete", "deletecollection", "get", "list", "patch", "update", "watch",
    ]

    init(
        group: String = "", version: String = "v1", kind: String, name: String, namespaced: Bool = true,
        shortNames: [String] = [], categories: [String] = [], verbs: [String] = APIResource.crudVerbs,
        subresources: [String] = [], fieldSelectors: [String] = []
    ) {
        self.group = group
        self.version = version
        self.kind = kind
        self.name = name
        self.singularName = kind.lowercased()
        self.namespaced = namespaced
        self.shortNames = shortNames
        self.categories = categories
        self.verbs = verbs
        self.subresources = subresources
        self.extraFieldSelectors = fieldSelectors
    }

    /// The kind a subresource answers with (`Scale` for `scale`, the parent kind otherwise).
    func subresourceKind(_ subresource: String) -> (group: String, version: String, kind: String) {
        switch subresource {
        case "scale": return ("autoscaling", "v1", "Scale")
        case "token": return ("authentication.k8s.io", "v1", "TokenRequest")
        case "eviction": return ("policy", "v1", "Eviction")
        default: return (group, version, kind)
        }
    }

    /// Discovery's `storageVersionHash`: a stable, opaque 8-byte digest of the storage version.
    var storageVersionHash: String {
        let digest = SHA256.hash(data: Data("\(groupVersion)/\(kind)".utf8))
        return Data(digest.prefix(8)).base64EncodedString()
    }

    /// The `APIResource` entries of `/api/v1` or `/apis/<group>/<version>` for this resource.
    var discoveryEntries: [JSON] {
        var main: JSON = [
            "name": .string(name), "singularName": .string(singularName), "namespaced": .bool(namespaced),
            "kind": .string(kind), "verbs": .array(verbs.map { .string($0) }),
        ]
        if !shortNames.isEmpty { main["shortNames"] = .array(shortNames.map { .string($0) }) }
        if !categories.isEmpty { main["categories"] = .array(categories.map { .string($0) }) }
        if isStored { main["storageVersionHash"] = .string(storageVersionHash) }
        var entries = [main]
        for subresource in subresources {
            let (group, version, kind) = subresourceKind(subresource)
            var entry: JSON = [
                "name": .string("\(name)/\(subresource)"), "singularName": "",
                "namespaced": .bool(namespaced),
                "kind": .string(kind),
            ]
            if group != self.group || version != self.version {
                entry["group"] = .string(group)
                entry["version"] = .string(version)
            }
            switch subresource {
            case "status", "scale": entry["verbs"] = ["get", "patch", "update"]
            case "log": entry["verbs"] = ["get"]
            case "token", "eviction": entry["verbs"] = ["create"]
            case "finalize": entry["verbs"] = ["update"]
            default: entry["verbs"] = ["get"]
            }
            entries.append(entry)
        }
        return entries
    }
}

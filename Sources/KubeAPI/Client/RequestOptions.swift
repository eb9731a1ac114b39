import JSONValue

/// Query options of a list: selectors and pagination.
public struct ListOptions: Sendable, Equatable {
    /// `-l`, e.g. `app=beluga,tier!=db`.
    public var labelSelector: String?
    /// e.g. `metadata.name=beluga-ai-secrets` (how RBAC `resourceNames` apply to list/watch).
    public var fieldSelector: String?
    /// Page size; the server returns a `continueToken` when more remain.
    public var limit: Int?
    /// The `continue` token of the previous page.
    public var continueToken: String?
    /// `resourceVersion` semantics of a list (`0`: any cached version is fine).
    public var resourceVersion: String?

    public init(
        labelSelector: String? = nil, fieldSelector: String? = nil, limit: Int? = nil,
        continueToken: String? = nil,
        resourceVersion: String? = nil
    ) {
        self.labelSelector = labelSelector
        self.fieldSelector = fieldSelector
        self.limit = limit
        self.continueToken = continueToken
        self.resourceVersion = resourceVersion
    }

    /// Selects the single object `name` (so a Role with `resourceNames` allows the call).
    public static func named(_ name: String) -> ListOptions {
        ListOptions(fieldSelector: "metadata.name=\(name)")
    }

    var queryItems: [(String, String)] {
        var items: [(String, String)] = []
        if let labelSelector, !labelSelector.isEmpty { items.append(("labelSelector", labelSelector)) }
        if let fieldSelector, !fieldSelector.isEmpty { items.append(("fieldSelector", fieldSelector)) }
        if let limit { items.append(("limit", String(limit))) }
        if let continueToken { items.append(("continue", continueToken)) }
        if let resourceVersion { items.append(("resourceVersion", resourceVersion)) }
        return items
    }
}

/// A patch and its content type.
public enum Patch: Sendable, Equatable {
    /// RFC 7386 JSON merge patch (`application/merge-patch+json`).
    case merge(JSON)
    /// Kubernetes strategic merge patch (`application/strategic-merge-patch+json`); lists
    /// merge by their key (e.g. containers by name). Built-in types only.
    case strategicMerge(JSON)
    /// RFC 6902 JSON patch: an array of operations (`application/json-patch+json`).
    case json([JSON])
    /// Server-side apply (`application/apply-patch+yaml`, JSON is valid YAML); `force` takes
    /// over fields owned by other managers.
    case apply(JSON, force: Bool = false)

    var contentType: String {
        switch self {
        case .merge: return "application/merge-patch+json"
        case .strategicMerge: return "application/strategic-merge-patch+json"
        case .json: return "application/json-patch+json"
        case .apply: return "application/apply-patch+yaml"
        }
    }

    var body: [UInt8] {
        switch self {
        case .merge(let json), .strategicMerge(let json), .apply(let json, _): return json.serialized()
        case .json(let operations): return JSON.array(operations).serialized()
        }
    }
}

/// Options of a delete.
public struct DeleteOptions: Sendable, Equatable {
    /// Delete only if the object still has this `resourceVersion` (else 409 Conflict).
    public var preconditionResourceVersion: String?
    /// Delete only if the object still has this `uid`.
    public var preconditionUID: String?
    /// `Orphan`, `Background` or `Foreground`.
    public var propagationPolicy: String?
    public var gracePeriodSeconds: Int?

    public init(
        preconditionResourceVersion: String? = nil, preconditionUID: String? = nil,
        propagationPolicy: String? = nil,
        gracePeriodSeconds: Int? = nil
    ) {
        self.preconditionResourceVersion = preconditionResourceVersion
        self.preconditionUID = preconditionUID
        self.propagationPolicy = propagationPolicy
        self.gracePeriodSeconds = gracePeriodSeconds
    }

    var body: JSON? {
        var json: JSON = ["apiVersion": "v1", "kind": "DeleteOptions"]
        var any = false
        if let preconditionResourceVersion {
            json[path: "preconditions", "resourceVersion"] = .string(preconditionResourceVersion)
            any = true
        }
        if let preconditionUID {
            json[path: "preconditions", "uid"] = .string(preconditionUID)
            any = true
        }
        if let propagationPolicy {
            json["propagationPolicy"] = .string(propagationPolicy)
            any = true
        }
        if let gracePeriodSeconds {
            json["gracePeriodSeconds"] = .int(gracePeriodSeconds)
            any = true
        }
        return any ? json : nil
    }
}

/// Options of a pod-log read.
public struct PodLogOptions: Sendable, Equatable {
    public var container: String?
    public var tailLines: Int?
    public var sinceSeconds: Int?
    public var timestamps: Bool
    public var previous: Bool

    public init(
        container: String? = nil, tailLines: Int? = nil, sinceSeconds: Int? = nil, timestamps: Bool = false,
        previous: Bool = false
    ) {
        self.container = container
        self.tailLines = tailLines
        self.sinceSeconds = sinceSeconds
        self.timestamps = timestamps
        self.previous = previous
    }

    var queryItems: [(String, String)] {
        var items: [(String, String)] = []
        if let container { items.append(("container", container)) }
        if let tailLines { items.append(("tailLines", String(tailLines))) }
        if let sinceSeconds { items.append(("sinceSeconds", String(sinceSeconds))) }
        if timestamps { items.append(("timestamps", "true")) }
        if previous { items.append(("previous", "true")) }
        return items
    }
}

func makeQuery(_ items: [(String, String)]) -> String {
    guard !items.isEmpty else { return "" }
    return "?" + items.map { "\($0.0)=\(PathEscaping.query($0.1))" }.joined(separator: "&")
}

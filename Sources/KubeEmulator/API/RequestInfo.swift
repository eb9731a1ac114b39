/// What a request asks for, parsed from its method, path and query the way the real server's
/// `RequestInfoFactory` does it, so that authorization and accounting see the same attributes
/// (for example, a list with `fieldSelector=metadata.name=x` carries the name `x`).
struct RequestInfo: Sendable, Equatable {
    var isResourceRequest = false
    var path: String
    /// get, list, watch, create, update, patch, delete, deletecollection; for non-resource
    /// requests the lower-case HTTP method.
    var verb: String
    var apiGroup = ""
    var apiVersion = ""
    var namespace = ""
    var resource = ""
    var subresource = ""
    var name = ""
    /// The name in the URL (empty for collections, even when a field selector pins a name).
    var pathName = ""

    /// `resource` or `resource/subresource`.
    var resourcePath: String { subresource.isEmpty ? resource : "\(resource)/\(subresource)" }

    init(method: String, path: String, query: (String) -> String?) {
        self.path = path
        self.verb = method.lowercased()
        var parts = path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        guard let prefix = parts.first, prefix == "api" || prefix == "apis" else { return }
        parts.removeFirst()
        if prefix == "apis" {
            guard parts.count >= 3 else { return }
            apiGroup = parts.removeFirst()
        } else {
            guard parts.count >= 2 else { return }
        }
        apiVersion = parts.removeFirst()
        isResourceRequest = true
        var explicitWatch = false
        if parts.first == "watch" {
            explicitWatch = true
            parts.removeFirst()
            verb = "watch"
        } else {
            switch method {
            case "POST": verb = "create"
            case "GET", "HEAD": verb = "get"
            case "PUT": verb = "update"
            case "PATCH": verb = "patch"
            case "DELETE": verb = "delete"
            default: verb = ""
            }
        }
        if parts.first == "namespaces" {
            if parts.count > 1 {
                namespace = parts[1]
                if parts.count > 2 && !["status", "finalize"].contains(parts[2]) {
                    parts = Array(parts.dropFirst(2))
                }
            }
        }
        if parts.count >= 3 { subresource = parts[2] }
        if parts.count >= 2 { name = parts[1] }
        if parts.count >= 1 { resource = parts[0] }
        if parts.count > 3 { subresource = parts[2...].joined(separator: "/") }
        pathName = name

        if name.isEmpty && verb == "get" {
            let watch = query("watch").map { ["1", "t", "T", "true", "TRUE", "True"].contains($0) } ?? false
            verb = watch ? "watch" : "list"
        }
        if name.isEmpty && (verb == "list" || verb == "watch"), let selector = query("fieldSelector"),
            let parsed = try? FieldSelector(parsing: selector), let pinned = parsed.pinnedName,
            Validation.pathSegmentProblems(pinned).isEmpty
        {
            name = pinned
        }
        if explicitWatch && !name.isEmpty && parts.count >= 2 {
            // `/watch/.../name` is a watch of one object.
            verb = "watch"
        }
        if name.isEmpty && verb == "delete" { verb = "deletecollection" }
    }
}

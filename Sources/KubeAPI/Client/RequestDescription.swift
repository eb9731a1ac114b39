/// What a request does, in RBAC terms, for messages and logs: `get secrets "x" in "ns"`.
struct RequestDescription: Sendable {
    /// RBAC verb: get, list, watch, create, update, patch, delete.
    var verb: String
    var resource: ResourceType
    var namespace: String?
    var name: String?
    var subresource: String?

    /// `secrets "x"` or `secrets`.
    var target: String {
        let resourceName = subresource.map { "\(resource.description)/\($0)" } ?? resource.description
        return name.map { "\(resourceName) \"\($0)\"" } ?? resourceName
    }

    var namespacePhrase: String { namespace.map { " in namespace \"\($0)\"" } ?? "" }

    /// The `kubectl auth can-i` command that checks this permission.
    var canICommand: String {
        var command = "kubectl auth can-i \(verb) \(resource.description)"
        if let subresource { command += " --subresource=\(subresource)" }
        if let name { command += " \(name)" }
        if let namespace { command += " -n \(namespace)" }
        return command
    }
}

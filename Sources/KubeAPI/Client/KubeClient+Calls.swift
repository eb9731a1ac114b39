import JSONValue

extension KubeClient {
    // MARK: Generic calls by resource

    /// Reads one object. `namespace` defaults to the configuration's namespace.
    public func get<T: KubeObjectView>(
        _ type: T.Type = T.self, resource: ResourceType, name: String, namespace: String? = nil
    ) async throws(KubeError) -> T {
        let namespace = resolveNamespace(resource, namespace)
        let description = RequestDescription(
            verb: "get", resource: resource, namespace: namespace, name: name)
        return T(
            json: try await sendExpectingJSON(
                request(.get, resource.path(namespace: namespace, name: name)), description))
    }

    /// Reads one page of objects (all namespaces when `allNamespaces`).
    public func list<T: KubeObjectView>(
        _ type: T.Type = T.self, resource: ResourceType, namespace: String? = nil,
        allNamespaces: Bool = false,
        options: ListOptions = ListOptions()
    ) async throws(KubeError) -> ObjectList<T> {
        let namespace = allNamespaces ? nil : resolveNamespace(resource, namespace)
        let description = RequestDescription(verb: "list", resource: resource, namespace: namespace)
        let json = try await sendExpectingJSON(
            request(.get, resource.path(namespace: namespace), query: options.queryItems), description)
        return ObjectList(json: json)
    }

    /// Reads every page (following `continue` tokens) and returns all items with the
    /// `resourceVersion` of the list (to watch from).
    public func listAll<T: KubeObjectView>(
        _ type: T.Type = T.self, resource: ResourceType, namespace: String? = nil,
        allNamespaces: Bool = false,
        options: ListOptions = ListOptions()
    ) async throws(KubeError) -> ObjectList<T> {
        var options = options
        if options.limit == nil { options.limit = 500 }
        var items: [T] = []
        var resourceVersion: String?
        while true {
            let page: ObjectList<T> = try await list(
                resource: resource, namespace: namespace, allNamespaces: allNamespaces, options: options)
            items += page.items
            resourceVersion = page.resourceVersion
            guard let token = page.continueToken else { break }
            options.continueToken = token
        }
        return ObjectList(items: items, resourceVersion: resourceVersion)
    }

    /// Creates `object`; its namespace is `namespace`, else its own, else the default.
    public func create<T: KubeObjectView>(
        _ object: T, resource: ResourceType, namespace: String? = nil
    ) async throws(KubeError) -> T {
        let namespace = resolveNamespace(resource, namespace ?? object.namespace)
        var body = object.json
        if let namespace { body[path: "metadata", "namespace"] = .string(namespace) }
        let description = RequestDescription(
            verb: "create", resource: resource, namespace: namespace,
            name: object.name.isEmpty ? nil : object.name)
        return T(
            json: try await sendExpectingJSON(
                request(
                    .post, resource.path(namespace: namespace), query: [("fieldManager", fieldManager)],
                    body: body),
                description))
    }

    /// Replaces `object` (PUT). With `metadata.resourceVersion` set, the server refuses with
    /// `conflict` when the object changed since it was read.
    public func replace<T: KubeObjectView>(
        _ object: T, resource: ResourceType, namespace: String? = nil
    ) async throws(KubeError) -> T {
        let namespace = resolveNamespace(resource, namespace ?? object.namespace)
        let description = RequestDescription(
            verb: "update", resource: resource, namespace: namespace, name: object.name)
        guard !object.name.isEmpty else {
            throw KubeError(.invalid, "cannot replace a \(resource.kind) without a name")
        }
        return T(
            json: try await sendExpectingJSON(
                request(
                    .put, resource.path(namespace: namespace, name: object.name),
                    query: [("fieldManager", fieldManager)], body: object.json),
                description))
    }

    /// Patches one object (merge, strategic-merge, JSON patch or server-side apply).
    public func patch<T: KubeObjectView>(
        _ type: T.Type = T.self, resource: ResourceType, name: String, namespace: String? = nil, patch: Patch,
        subresource: String? = nil
    ) async throws(KubeError) -> T {
        let namespace = resolveNamespace(resource, namespace)
        let description = RequestDescription(
            verb: "patch", resource: resource, namespace: namespace, name: name, subresource: subresource)
        var query = [("fieldManager", fieldManager)]
        if case .apply(_, let force) = patch, force { query.append(("force", "true")) }
        return T(
            json: try await sendExpectingJSON(
                request(
                    .patch, resource.path(namespace: namespace, name: name, subresource: subresource),
                    query: query,
                    contentType: patch.contentType, bodyBytes: patch.body),
                description))
    }

    /// Deletes one object. A missing object is `notFound`.
    public func delete(
        resource: ResourceType, name: String, namespace: String? = nil,
        options: DeleteOptions = DeleteOptions()
    ) async throws(KubeError) {
        let namespace = resolveNamespace(resource, namespace)
        let description = RequestDescription(
            verb: "delete", resource: resource, namespace: namespace, name: name)
        _ = try await sendExpectingJSON(
            request(.delete, resource.path(namespace: namespace, name: name), body: options.body), description
        )
    }

    // MARK: Typed calls (the resource comes from the model)

    public func get<T: KubeObject>(_ type: T.Type, name: String, namespace: String? = nil)
        async throws(KubeError) -> T
    {
        try await get(type, resource: T.resource, name: name, namespace: namespace)
    }

    /// Like `get`, but `nil` when the object does not exist.
    public func getIfPresent<T: KubeObject>(_ type: T.Type, name: String, namespace: String? = nil)
        async throws(KubeError)
        -> T?
    {
        do {
            return try await get(type, resource: T.resource, name: name, namespace: namespace)
        } catch  where error.category == .notFound {
            return nil
        }
    }

    public func list<T: KubeObject>(
        _ type: T.Type, namespace: String? = nil, allNamespaces: Bool = false,
        options: ListOptions = ListOptions()
    ) async throws(KubeError) -> ObjectList<T> {
        try await list(
            type, resource: T.resource, namespace: namespace, allNamespaces: allNamespaces, options: options)
    }

    public func listAll<T: KubeObject>(
        _ type: T.Type, namespace: String? = nil, allNamespaces: Bool = false,
        options: ListOptions = ListOptions()
    ) async throws(KubeError) -> ObjectList<T> {
        try await listAll(
            type, resource: T.resource, namespace: namespace, allNamespaces: allNamespaces, options: options)
    }

    public func create<T: KubeObject>(_ object: T, namespace: String? = nil) async throws(KubeError) -> T {
        try await create(object, resource: T.resource, namespace: namespace)
    }

    public func replace<T: KubeObject>(_ object: T, namespace: String? = nil) async throws(KubeError) -> T {
        try await replace(object, resource: T.resource, namespace: namespace)
    }

    public func patch<T: KubeObject>(
        _ type: T.Type, name: String, namespace: String? = nil, patch: Patch
    ) async throws(KubeError) -> T {
        try await self.patch(type, resource: T.resource, name: name, namespace: namespace, patch: patch)
    }

    public func delete<T: KubeObject>(
        _ type: T.Type, name: String, namespace: String? = nil, options: DeleteOptions = DeleteOptions()
    ) async throws(KubeError) {
        try await delete(resource: T.resource, name: name, namespace: namespace, options: options)
    }

    // MARK: Server

    /// `GET /version`: the server's version (`gitVersion`, e.g. `v1.32.0`); a cheap check that
    /// the cluster is reachable and the credentials work.
    public func serverVersion() async throws(KubeError) -> JSON {
        let description = RequestDescription(
            verb: "get",
            resource: ResourceType(group: "", version: "", plural: "version", kind: "", namespaced: false))
        return try await sendExpectingJSON(request(.get, "/version"), description)
    }
}

import JSONValue

/// The resource endpoints: get, list, watch, create, update, patch, delete, deletecollection and
/// the subresources (`status`, `scale`, `log`, `token`, `finalize`).
extension APIServer {
    func handleResource(_ request: HTTPRequest, info: RequestInfo, user: UserInfo) async throws(APIError)
        -> HTTPResponse
    {
        guard
            let resource = catalog.resource(
                group: info.apiGroup, version: info.apiVersion, name: info.resource)
        else { throw APIError.notFoundPath() }
        if !resource.namespaced && !info.namespace.isEmpty && resource.name != "namespaces" {
            throw APIError.notFoundPath()
        }
        let collectionVerbs = ["list", "watch", "deletecollection"]
        if resource.namespaced && info.namespace.isEmpty && !collectionVerbs.contains(info.verb) {
            throw APIError.notFoundPath()
        }
        if !info.subresource.isEmpty && !resource.subresources.contains(info.subresource) {
            throw APIError.notFoundPath()
        }
        guard resource.verbs.contains(info.verb) || !info.subresource.isEmpty else {
            throw APIError.methodNotAllowed()
        }
        let output = try BodyCodec.output(for: request.header("accept"))
        if resource.group == APIServer.eventsV1Group && resource.name == "events" {
            return try await handleEventsV1(request, info: info, view: resource, output: output)
        }
        let namespace = resource.namespaced ? info.namespace : ""
        let name = info.pathName
        let subresource = info.subresource.isEmpty ? nil : info.subresource

        switch info.verb {
        case "get":
            switch subresource {
            case nil, "status":
                let object = try await store.get(resource, namespace: namespace, name: name)
                if output == .table {
                    return .json(
                        TablePrinters.table(
                            [object], resource: resource,
                            listMetadata: [
                                "resourceVersion": object[path: "metadata", "resourceVersion"] ?? ""
                            ],
                            includeObject: request.query("includeObject")))
                }
                return encode(object, output: output)
            case "scale":
                let object = try await store.get(resource, namespace: namespace, name: name)
                return encode(ScaleView.scale(of: object), output: output)
            case "log":
                return try await podLog(request, namespace: namespace, pod: name)
            default:
                throw APIError.methodNotAllowed()
            }
        case "list":
            return try await list(
                request, resource: resource, namespace: info.namespace.isEmpty ? nil : namespace,
                output: output)
        case "watch":
            return try await watch(
                request, resource: resource, namespace: info.namespace.isEmpty ? nil : namespace, name: name,
                asTable: output == .table)
        case "create":
            let body = try BodyCodec.decode(request)
            if let review = try await review(resource, body: body, user: user, namespace: namespace) {
                return encode(review, status: 201, output: output)
            }
            if subresource == "token" {
                return encode(
                    try await issueToken(body, namespace: namespace, serviceAccount: name), status: 201,
                    output: output)
            }
            // Only the collection takes POST; an object's URL has no create route.
            if subresource != nil || !name.isEmpty { throw APIError.methodNotAllowed() }
            let options = try writeOptions(request)
            let created = try await store.create(resource, namespace: namespace, body: body, options: options)
            return encode(created, status: 201, output: output)
        case "update":
            let body = try BodyCodec.decode(request)
            let options = try writeOptions(request)
            switch subresource {
            case "scale":
                return encode(
                    try await updateScale(
                        resource, namespace: namespace, name: name, scale: body, options: options),
                    output: output)
            case "finalize":
                return encode(try await finalizeNamespace(name, body: body, options: options), output: output)
            default:
                let existed =
                    await store.object(resource.groupResource, ObjectName(namespace: namespace, name: name))
                    != nil
                let updated = try await store.update(
                    resource, namespace: namespace, name: name, subresource: subresource, body: body,
                    options: options)
                return encode(updated, status: existed ? 200 : 201, output: output)
            }
        case "patch":
            let options = try writeOptions(request)
            if request.contentType == "application/apply-patch+yaml" {
                guard let manager = options.fieldManager, !manager.isEmpty else {
                    throw APIError.badRequest(
                        "PATCH, application/apply-patch+yaml: fieldManager is required for apply requests")
                }
                let configuration = try BodyCodec.decodeYAMLOrJSON(request.body)
                let (object, created) = try await store.apply(
                    resource, namespace: namespace, name: name, subresource: subresource,
                    configuration: configuration,
                    force: request.queryFlag("force"), options: options)
                return encode(object, status: created ? 201 : 200, output: output)
            }
            return encode(
                try await patch(
                    request, resource: resource, namespace: namespace, name: name, subresource: subresource,
                    options: options), output: output)
        case "delete":
            let options = try deleteOptions(request)
            let (body, _) = try await store.delete(
                resource, namespace: namespace, name: name, options: options)
            return encode(body, output: output)
        case "deletecollection":
            let options = try deleteOptions(request)
            let labels = try LabelSelector(parsing: request.query("labelSelector") ?? "")
            let fields = try fieldSelector(request, resource: resource)
            let deleted = try await store.deleteCollection(
                resource, namespace: info.namespace.isEmpty ? nil : namespace, labels: labels, fields: fields,
                options: options)
            return encode(
                listObject(resource, items: deleted, revision: await store.revision), output: output)
        default:
            throw APIError.methodNotAllowed()
        }
    }

    // MARK: - Encoding

    func encode(_ object: JSON, status: Int = 200, output: BodyCodec.Output) -> HTTPResponse {
        switch output {
        case .yaml:
            return .text(YAMLConversion.yaml(object), status: status, contentType: "application/yaml")
        case .json, .table:
            return .json(object, status: status)
        }
    }

    /// A list object; items carry no kind/apiVersion, as the real server writes built-in lists.
    func listObject(
        _ resource: APIResource, items: [JSON], revision: Int, continueToken: String? = nil,
        remaining: Int? = nil
    )
        -> JSON
    {
        var metadata: JSON = ["resourceVersion": .string(String(revision))]
        if let continueToken { metadata["continue"] = .string(continueToken) }
        if let remaining { metadata["remainingItemCount"] = .int(remaining) }
        let stripped: [JSON] = items.map { item in
            var item = item
            item["kind"] = nil
            item["apiVersion"] = nil
            return item
        }
        return [
            "kind": .string(resource.listKind), "apiVersion": .string(resource.apiVersion),
            "metadata": metadata,
            "items": .array(stripped),
        ]
    }

    // MARK: - Query options

    func writeOptions(_ request: HTTPRequest) throws(APIError) -> WriteOptions {
        var options = WriteOptions()
        options.userAgent = request.header("user-agent")
        for item in request.queryItems where item.name == "dryRun" {
            guard item.value == "All" else {
                throw APIError.badRequest(
                    "Invalid dryRun value: \(goQuote(item.value)); supported values: \"All\"")
            }
            options.dryRun = true
        }
        if let manager = request.query("fieldManager") {
            if manager.count > 128 {
                throw APIError.invalid(
                    group: "", kind: "", name: "",
                    [.tooLong("fieldManager", max: 128)])
            }
            options.fieldManager = manager
        }
        if let validation = request.query("fieldValidation"), !validation.isEmpty {
            guard let parsed = FieldValidation(rawValue: validation) else {
                throw APIError.badRequest(
                    "fieldValidation parameter unsupported: \(validation). Must be one of: Ignore, Warn, Strict"
                )
            }
            options.fieldValidation = parsed
        }
        options.warnings = request.warnings
        return options
    }

    func deleteOptions(_ request: HTTPRequest) throws(APIError) -> DeleteOptions {
        var options = DeleteOptions()
        if !request.body.isEmpty {
            let body = try BodyCodec.decode(request)
            if let policy = body["propagationPolicy"]?.stringValue {
                guard let parsed = DeleteOptions.Propagation(rawValue: policy) else {
                    throw APIError.invalid(
                        group: "", kind: "DeleteOptions", name: "",
                        [
                            .notSupported(
                                "propagationPolicy", .string(policy),
                                ["Foreground", "Background", "Orphan", "nil"])
                        ])
                }
                options.propagation = parsed
            }
            if body["orphanDependents"]?.boolValue == true { options.propagation = .orphan }
            options.preconditionUID = body[path: "preconditions", "uid"]?.stringValue
            options.preconditionResourceVersion = body[path: "preconditions", "resourceVersion"]?.stringValue
            if (body["dryRun"]?.arrayValue ?? []).contains("All") { options.dryRun = true }
        }
        if let policy = request.query("propagationPolicy") {
            options.propagation = DeleteOptions.Propagation(rawValue: policy)
        }
        if request.queryItems.contains(where: { $0.name == "dryRun" && $0.value == "All" }) {
            options.dryRun = true
        }
        return options
    }

    func fieldSelector(_ request: HTTPRequest, resource: APIResource) throws(APIError) -> FieldSelector {
        let selector = try FieldSelector(parsing: request.query("fieldSelector") ?? "")
        let supported = ["metadata.name", "metadata.namespace"] + resource.extraFieldSelectors
        for term in selector.terms where !supported.contains(term.field) {
            throw APIError.badRequest("field label not supported: \(term.field)")
        }
        return selector
    }

    // MARK: - List

    func list(_ request: HTTPRequest, resource: APIResource, namespace: String?, output: BodyCodec.Output)
        async throws(APIError) -> HTTPResponse
    {
        let options = try ListOptions(request, fields: try fieldSelector(request, resource: resource))
        try await waitUntilFresh(options)
        let page = try await store.list(resource, namespace: namespace, options)
        let list = listObject(
            resource, items: page.items, revision: page.resourceVersion, continueToken: page.continueToken,
            remaining: page.remainingItemCount)
        if output == .table {
            return .json(
                TablePrinters.table(
                    page.items, resource: resource, listMetadata: list["metadata"] ?? [:],
                    includeObject: request.query("includeObject")))
        }
        return encode(list, output: output)
    }

    // MARK: - Patch

    static let patchTypes = [
        "application/json-patch+json", "application/merge-patch+json",
        "application/strategic-merge-patch+json",
    ]

    func patch(
        _ request: HTTPRequest, resource: APIResource, namespace: String, name: String, subresource: String?,
        options: WriteOptions
    ) async throws(APIError) -> JSON {
        let type = request.contentType
        guard APIServer.patchTypes.contains(type) else {
            throw APIError(
                code: 415, reason: "UnsupportedMediaType",
                message:
                    "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json"
            )
        }
        let patch = try BodyCodec.parseJSON(request.body)
        let schema = PatchSchema.forKind(subresource == "scale" ? "Scale" : resource.kind)
        let apply: @Sendable (JSON) throws(APIError) -> JSON = { current throws(APIError) in
            try APIServer.applyPatch(patch, type: type, to: current, schema: schema)
        }
        if subresource == "scale" {
            let current = try await store.get(resource, namespace: namespace, name: name)
            let scale = try apply(ScaleView.scale(of: current))
            return try await updateScale(
                resource, namespace: namespace, name: name, scale: scale, options: options)
        }
        return try await store.patch(
            resource, namespace: namespace, name: name, subresource: subresource, options: options, apply)
    }

    static func applyPatch(_ patch: JSON, type: String, to current: JSON, schema: PatchSchema)
        throws(APIError) -> JSON
    {
        switch type {
        case "application/json-patch+json":
            do {
                return try JSONPatch.apply(patch, to: current)
            } catch {
                throw APIError(
                    code: 422, reason: "Invalid",
                    message: "the server rejected our request due to an error in our request",
                    details: ["causes": [["reason": "FieldValueInvalid", "message": .string(error.message)]]])
            }
        case "application/merge-patch+json":
            guard patch.objectValue != nil else {
                throw APIError.badRequest(
                    "error decoding patch: json: cannot unmarshal \(goTypeName(patch)) into Go value of type map[string]interface {}"
                )
            }
            return MergePatch.apply(patch, to: current)
        default:
            do {
                return try StrategicMergePatch(schema: schema).apply(patch, to: current)
            } catch {
                if error.code == 400 { throw APIError.badRequest(error.message) }
                throw APIError.internalError(error.message)
            }
        }
    }

    // MARK: - Scale

    func updateScale(
        _ resource: APIResource, namespace: String, name: String, scale: JSON, options: WriteOptions
    )
        async throws(APIError) -> JSON
    {
        guard let replicas = scale[path: "spec", "replicas"]?.intValue else {
            throw APIError.invalid(
                group: "autoscaling", kind: "Scale", name: name, [.required("spec.replicas")])
        }
        if replicas < 0 {
            throw APIError.invalid(
                group: "autoscaling", kind: "Scale", name: name,
                [.invalid("spec.replicas", .int(replicas), "must be greater than or equal to 0")])
        }
        let expectedVersion = scale[path: "metadata", "resourceVersion"]?.stringValue
        var options = options
        options.recordedSubresource = "scale"
        let updated = try await store.patch(
            resource, namespace: namespace, name: name, subresource: nil, options: options
        ) {
            current throws(APIError) in
            if let expectedVersion, !expectedVersion.isEmpty,
                expectedVersion != current[path: "metadata", "resourceVersion"]?.stringValue
            {
                throw APIError.conflict(resource.groupResource, name, APIError.staleObjectMessage)
            }
            var object = current
            object[path: "spec", "replicas"] = .int(replicas)
            return object
        }
        return ScaleView.scale(of: updated)
    }

    // MARK: - Namespace finalize

    func finalizeNamespace(_ name: String, body: JSON, options: WriteOptions) async throws(APIError) -> JSON {
        let finalizers = body[path: "spec", "finalizers"] ?? []
        return try await store.setNamespaceFinalizers(name, finalizers: finalizers, dryRun: options.dryRun)
    }
}

/// The `autoscaling/v1` Scale view of a workload.
enum ScaleView {
    static func scale(of object: JSON) -> JSON {
        var metadata: JSON = [:]
        for key in ["name", "namespace", "uid", "resourceVersion", "creationTimestamp"] {
            metadata[key] = object[path: "metadata", key]
        }
        let selector = object[path: "spec", "selector"].map { LabelSelector(object: $0).text } ?? ""
        return [
            "kind": "Scale", "apiVersion": "autoscaling/v1", "metadata": metadata,
            "spec": ["replicas": object[path: "spec", "replicas"] ?? 0],
            "status": ["replicas": object[path: "status", "replicas"] ?? 0, "selector": .string(selector)],
        ]
    }
}

extension ClusterStore {
    /// The `finalize` subresource: replaces `spec.finalizers`; a terminating namespace with none
    /// left is removed.
    func setNamespaceFinalizers(_ name: String, finalizers: JSON, dryRun: Bool) throws(APIError) -> JSON {
        let resource = GroupResource(group: "", resource: "namespaces")
        guard let current = object(resource, ObjectName(namespace: "", name: name)) else {
            throw APIError.notFound(resource, name)
        }
        var updated = current
        updated[path: "spec", "finalizers"] = finalizers
        if dryRun || updated == current { return updated }
        if current[path: "metadata", "deletionTimestamp"] != nil, (finalizers.arrayValue ?? []).isEmpty {
            return commit(.deleted, resource, updated, previous: current)
        }
        return commit(.modified, resource, updated, previous: current)
    }
}

import JSONValue

/// `events.k8s.io/v1` Events are a second view of the core/v1 Events, as on a real server: one
/// storage, converted field by field (`regarding` ⇄ `involvedObject`, `note` ⇄ `message`,
/// `deprecatedCount` ⇄ `count`, ...), so an event written through either API is seen by both.
extension APIServer {
    static let eventsV1Group = "events.k8s.io"

    /// core/v1 → events.k8s.io/v1.
    static func eventToV1(_ core: JSON) -> JSON {
        var event: JSON = [
            "apiVersion": "events.k8s.io/v1", "kind": "Event", "metadata": core["metadata"] ?? [:],
        ]
        let renames: [(String, String)] = [
            ("involvedObject", "regarding"), ("message", "note"), ("source", "deprecatedSource"),
            ("firstTimestamp", "deprecatedFirstTimestamp"), ("lastTimestamp", "deprecatedLastTimestamp"),
            ("count", "deprecatedCount"), ("reportingComponent", "reportingController"),
        ]
        for (from, to) in renames { event[to] = core[from] }
        for same in ["eventTime", "series", "reportingInstance", "action", "reason", "related", "type"] {
            event[same] = core[same]
        }
        return event.droppingNulls()
    }

    /// events.k8s.io/v1 → core/v1.
    static func eventToCore(_ event: JSON) -> JSON {
        var core: JSON = ["apiVersion": "v1", "kind": "Event", "metadata": event["metadata"] ?? [:]]
        let renames: [(String, String)] = [
            ("regarding", "involvedObject"), ("note", "message"), ("deprecatedSource", "source"),
            ("deprecatedFirstTimestamp", "firstTimestamp"), ("deprecatedLastTimestamp", "lastTimestamp"),
            ("deprecatedCount", "count"), ("reportingController", "reportingComponent"),
        ]
        for (from, to) in renames { core[to] = event[from] }
        for same in ["eventTime", "series", "reportingInstance", "action", "reason", "related", "type"] {
            core[same] = event[same]
        }
        return core.droppingNulls()
    }

    /// What events.k8s.io/v1 requires of a new event (`ValidateEventCreate` for that version).
    static func validateEventV1(_ event: JSON) -> [FieldError] {
        var errors: [FieldError] = []
        if event["eventTime"] == nil { errors.append(.required("eventTime")) }
        for field in ["reportingController", "reportingInstance", "action", "reason"] {
            let value = event[field]?.stringValue ?? ""
            if value.isEmpty {
                errors.append(.required(field))
            } else if value.utf8.count > 128 && field != "reportingController" {
                errors.append(.tooLong(field, max: 128))
            }
        }
        if let type = event["type"]?.stringValue, type != "Normal" && type != "Warning" {
            errors.append(.notSupported("type", .string(type), ["Normal", "Warning"]))
        }
        return errors
    }

    /// Rewrites errors of the core storage so that they name the events.k8s.io resource.
    static func eventsV1Error(_ error: APIError) -> APIError {
        var mapped = error
        if mapped.message.hasPrefix("events \"") {
            mapped.message = "events.events.k8s.io" + mapped.message.dropFirst("events".count)
            mapped.details?["group"] = .string(eventsV1Group)
        } else if mapped.message.hasPrefix("Event \"") {
            mapped.message = "Event.events.k8s.io" + mapped.message.dropFirst("Event".count)
            mapped.details?["group"] = .string(eventsV1Group)
        }
        return mapped
    }

    func handleEventsV1(
        _ request: HTTPRequest, info: RequestInfo, view: APIResource, output: BodyCodec.Output
    )
        async throws(APIError) -> HTTPResponse
    {
        guard let core = catalog.resource(group: "", version: "v1", name: "events") else {
            throw APIError.notFoundPath()
        }
        do {
            return try await eventsV1(request, info: info, view: view, core: core, output: output)
        } catch {
            throw APIServer.eventsV1Error(error)
        }
    }

    private func eventsV1(
        _ request: HTTPRequest, info: RequestInfo, view: APIResource, core: APIResource,
        output: BodyCodec.Output
    ) async throws(APIError) -> HTTPResponse {
        let namespace = info.namespace
        let name = info.pathName
        let scope: String? = namespace.isEmpty ? nil : namespace
        func respond(_ object: JSON, status: Int = 200) -> HTTPResponse {
            if output == .table {
                return .json(
                    TablePrinters.table(
                        [object], resource: view,
                        listMetadata: ["resourceVersion": object[path: "metadata", "resourceVersion"] ?? ""],
                        includeObject: request.query("includeObject")))
            }
            return encode(object, status: status, output: output)
        }
        switch info.verb {
        case "get":
            return respond(APIServer.eventToV1(try await store.get(core, namespace: namespace, name: name)))
        case "list":
            let options = try ListOptions(request, fields: try fieldSelector(request, resource: view))
            try await waitUntilFresh(options)
            let page = try await store.list(core, namespace: scope, options)
            let items = page.items.map(APIServer.eventToV1)
            let list = listObject(
                view, items: items, revision: page.resourceVersion, continueToken: page.continueToken,
                remaining: page.remainingItemCount)
            if output == .table {
                return .json(
                    TablePrinters.table(
                        items, resource: view, listMetadata: list["metadata"] ?? [:],
                        includeObject: request.query("includeObject")))
            }
            return encode(list, output: output)
        case "watch":
            return try await watch(
                request, resource: core, namespace: scope, name: name, asTable: output == .table, view: view,
                transform: APIServer.eventToV1)
        case "create":
            if !name.isEmpty { throw APIError.methodNotAllowed() }
            let options = try writeOptions(request)
            let body = try await decodedEventV1(try BodyCodec.decode(request), options: options)
            let errors = APIServer.validateEventV1(body)
            if !errors.isEmpty {
                throw APIError.invalid(
                    group: view.group, kind: view.kind,
                    name: body[path: "metadata", "name"]?.stringValue ?? "", errors)
            }
            let created = try await store.create(
                core, namespace: namespace, body: APIServer.eventToCore(body), options: options)
            return respond(APIServer.eventToV1(created), status: 201)
        case "update":
            let options = try writeOptions(request)
            let body = try await decodedEventV1(try BodyCodec.decode(request), options: options)
            let updated = try await store.update(
                core, namespace: namespace, name: name, subresource: nil, body: APIServer.eventToCore(body),
                options: options)
            return respond(APIServer.eventToV1(updated))
        case "patch":
            let type = request.contentType
            guard APIServer.patchTypes.contains(type) else {
                throw APIError(
                    code: 415, reason: "UnsupportedMediaType",
                    message:
                        "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json"
                )
            }
            let patch = try BodyCodec.parseJSON(request.body)
            let schema = PatchSchema.forKind("Event")
            let patched = try await store.patch(
                core, namespace: namespace, name: name, subresource: nil, options: try writeOptions(request)
            ) { current throws(APIError) in
                APIServer.eventToCore(
                    try APIServer.applyPatch(
                        patch, type: type, to: APIServer.eventToV1(current), schema: schema))
            }
            return respond(APIServer.eventToV1(patched))
        case "delete":
            var (body, removed) = try await store.delete(
                core, namespace: namespace, name: name, options: try deleteOptions(request))
            if removed {
                body[path: "details", "group"] = .string(view.group)
            } else {
                body = APIServer.eventToV1(body)
            }
            return encode(body, output: output)
        case "deletecollection":
            let deleted = try await store.deleteCollection(
                core, namespace: scope,
                labels: try LabelSelector(parsing: request.query("labelSelector") ?? ""),
                fields: try fieldSelector(request, resource: view), options: try deleteOptions(request))
            return encode(
                listObject(view, items: deleted.map(APIServer.eventToV1), revision: await store.revision),
                output: output)
        default:
            throw APIError.methodNotAllowed()
        }
    }

    /// An events.k8s.io body decoded by its own schema before it becomes a core Event.
    private func decodedEventV1(_ body: JSON, options: WriteOptions) async throws(APIError) -> JSON {
        guard body.objectValue != nil else { return body }
        return try await store.decodeWithSchema(
            body.droppingNulls(), kind: "Event", group: APIServer.eventsV1Group, version: "v1",
            options: options)
    }
}

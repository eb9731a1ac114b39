import JSONValue

/// Watch streams: newline-delimited `WatchEvent` JSON, resumable from a resourceVersion, with
/// bookmarks, `timeoutSeconds`, selectors and the watch faults of the fault plan.
extension APIServer {
    func watch(
        _ request: HTTPRequest, resource: APIResource, namespace: String?, name: String,
        asTable: Bool = false,
        view: APIResource? = nil, transform: (@Sendable (JSON) -> JSON)? = nil
    ) async throws(APIError) -> HTTPResponse {
        let shown = view ?? resource
        let labels = try LabelSelector(parsing: request.query("labelSelector") ?? "")
        var fields = try fieldSelector(request, resource: resource)
        if !name.isEmpty { fields.terms.append(.init(field: "metadata.name", value: name, equal: true)) }
        let bookmarks = request.queryFlag("allowWatchBookmarks")
        let version = request.query("resourceVersion") ?? ""
        let start: WatchStart
        if request.queryFlag("sendInitialEvents") {
            guard request.query("resourceVersionMatch") == "NotOlderThan", bookmarks else {
                throw APIError.invalid(
                    group: "meta.k8s.io", kind: "ListOptions", name: "",
                    [
                        .forbidden(
                            "sendInitialEvents",
                            "sendInitialEvents is forbidden for watch unless the WatchList feature gate is enabled and allowWatchBookmarks is true and resourceVersionMatch is NotOlderThan"
                        )
                    ])
            }
            start = .initialEvents
        } else if version.isEmpty || version == "0" {
            start = .currentState
        } else if let number = Int(version), number >= 0 {
            start = .after(number)
        } else {
            throw APIError.badRequest("invalid resource version: \(goQuote(version))")
        }
        var timeout = Double.random(in: 1800...3600)
        if let text = request.query("timeoutSeconds"), let seconds = Int(text), seconds > 0 {
            timeout = Double(seconds)
        }
        // The fault plan is read while the watch runs, so that a plan set later drops the
        // watches already open too (counted from when each opened).
        let faults = self.faults

        let includeObject = request.query("includeObject")
        let connection = request.connection
        let filter = WatchFilter(resource: resource, namespace: namespace, labels: labels, fields: fields)
        let source = try await store.openWatch(filter, from: start, bookmarks: bookmarks)
        let (stream, continuation) = AsyncStream.makeStream(of: [UInt8].self)
        let pump = emulatorTask {
            var events = 0
            for await output in source {
                continuation.yield(
                    APIServer.encodeWatchOutput(
                        output, resource: shown, transform: transform,
                        table: asTable ? (headers: events == 0, includeObject: includeObject) : nil))
                if case .event = output {
                    events += 1
                    let plan = faults.plan
                    if let dropAfterEvents = plan.dropWatchAfterEvents, events >= dropAfterEvents {
                        break
                    }
                    if let goAwayAfterEvents = plan.goAwayAfterWatchEvents, events >= goAwayAfterEvents {
                        connection?.goAway()
                        break
                    }
                }
            }
            continuation.finish()
        }
        let timer = emulatorTask {
            let opened = ContinuousClock.now
            while !Task.isCancelled {
                let limit = min(timeout, faults.plan.dropWatchAfterSeconds ?? timeout)
                let left = .milliseconds(Int(limit * 1000)) - (ContinuousClock.now - opened)
                if left <= .zero {
                    continuation.finish()
                    return
                }
                // Looks at the plan again at least every quarter second.
                try? await Task.sleep(for: min(left, .milliseconds(250)))
            }
        }
        continuation.onTermination = { _ in
            pump.cancel()
            timer.cancel()
        }
        return HTTPResponse(
            status: 200, headers: [("Content-Type", "application/json")], body: .stream(stream))
    }

    static func encodeWatchOutput(
        _ output: WatchOutput, resource: APIResource, transform: (@Sendable (JSON) -> JSON)? = nil,
        table: (headers: Bool, includeObject: String?)? = nil
    ) -> [UInt8] {
        let event: JSON
        switch output {
        case .event(let type, let stored):
            let object = transform?(stored) ?? stored
            if let table {
                let rendered = TablePrinters.table(
                    [object], resource: resource,
                    listMetadata: ["resourceVersion": object[path: "metadata", "resourceVersion"] ?? ""],
                    includeObject: table.includeObject, headers: table.headers)
                event = ["type": .string(type.rawValue), "object": rendered]
            } else {
                event = ["type": .string(type.rawValue), "object": object]
            }
        case .bookmark(let revision, let initialEventsEnd):
            var metadata: JSON = ["resourceVersion": .string(String(revision)), "creationTimestamp": .null]
            if initialEventsEnd { metadata["annotations"] = ["k8s.io/initial-events-end": "true"] }
            event = [
                "type": "BOOKMARK",
                "object": [
                    "kind": .string(resource.kind), "apiVersion": .string(resource.apiVersion),
                    "metadata": metadata,
                ],
            ]
        case .error(let error):
            event = ["type": "ERROR", "object": error.status]
        }
        var bytes = event.serialized()
        bytes.append(0x0A)
        return bytes
    }
}

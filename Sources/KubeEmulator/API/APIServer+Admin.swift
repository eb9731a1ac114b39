import JSONValue

/// The emulator's own endpoints under `/_emulator/`, for tests and tools in other processes.
/// Only the admin token may call them.
///
/// - `GET|PUT|DELETE /_emulator/faults`: read, replace (body: `FaultPlan.json`) or clear faults.
/// - `GET|DELETE /_emulator/requests`: request counts (`RequestCounts.json`), or reset them.
/// - `GET /_emulator/protocols`: `{"HTTP/1.1":N,"HTTP/2":M}`, API requests by HTTP version.
/// - `GET /_emulator/rollouts?namespace=N&name=D`: `{"rollouts":K}`, pod-template changes of a
///   Deployment since it was created.
/// - `POST /_emulator/podlogs` with `{"namespace","pod","container","path"}`: serve `pods/log`
///   of that container from the file at `path` (`"selector"` instead of `"pod"`: every pod
///   that label selector matches).
/// - `POST /_emulator/compact`: drop the watch history (watches resuming from before get 410).
/// - `GET|PUT|POST|DELETE /_emulator/images`: the images that are missing or crash (`PUT`
///   replaces the list `{"images":[…]}`, `POST` sets one `{"image","behaviour","exitCode","log"}`,
///   `DELETE` makes every image run).
extension APIServer {
    func handleAdmin(_ request: HTTPRequest) async -> HTTPResponse {
        guard let header = request.header("authorization"), header.hasPrefix("Bearer "),
            authenticator.isAdmin(token: String(header.dropFirst("Bearer ".count)))
        else {
            return .error(.unauthorized)
        }
        do {
            return try await adminRoute(request)
        } catch {
            return .error(error)
        }
    }

    private func adminRoute(_ request: HTTPRequest) async throws(APIError) -> HTTPResponse {
        let path = request.path.hasSuffix("/") ? String(request.path.dropLast()) : request.path
        do {
            switch (request.method, path) {
            case ("GET", "/_emulator/faults"):
                return .json(faults.plan.json)
            case ("PUT", "/_emulator/faults"), ("POST", "/_emulator/faults"):
                faults.plan = FaultPlan(json: try BodyCodec.parseJSON(request.body))
                return .json(faults.plan.json)
            case ("DELETE", "/_emulator/faults"):
                faults.reset()
                return .json(faults.plan.json)
            case ("GET", "/_emulator/requests"):
                return .json(counter.snapshot.json)
            case ("GET", "/_emulator/protocols"):
                var byProtocol: [String: JSON] = [:]
                for (version, count) in counter.byProtocol { byProtocol[version] = .int(count) }
                return .json(.object(byProtocol))
            case ("DELETE", "/_emulator/requests"):
                counter.reset()
                return .json([])
            case ("GET", "/_emulator/rollouts"):
                let namespace = request.query("namespace") ?? "default"
                let name = request.query("name") ?? ""
                let count = await store.rolloutCount(namespace: namespace, deployment: name)
                return .json([
                    "namespace": .string(namespace), "name": .string(name), "rollouts": .int(count),
                ])
            case ("POST", "/_emulator/podlogs"):
                let body = try BodyCodec.parseJSON(request.body)
                guard let namespace = body["namespace"]?.stringValue, let file = body["path"]?.stringValue
                else {
                    throw APIError.badRequest(
                        "podlogs needs namespace, path and pod or selector (container is optional)")
                }
                let container = body["container"]?.stringValue ?? ""
                if let pod = body["pod"]?.stringValue {
                    _ = podLogs.attach(namespace: namespace, pod: pod, container: container, path: file)
                } else if let selector = body["selector"]?.stringValue {
                    _ = podLogs.attach(
                        namespace: namespace, selector: try LabelSelector(parsing: selector),
                        container: container,
                        path: file)
                } else {
                    throw APIError.badRequest("podlogs needs pod or selector")
                }
                return .json(body, status: 201)
            case ("GET", "/_emulator/images"):
                return .json(images.json)
            case ("PUT", "/_emulator/images"):
                let body = try BodyCodec.parseJSON(request.body)
                guard let list = body["images"]?.arrayValue else {
                    throw APIError.badRequest("images needs {\"images\": [{\"image\", \"behaviour\"}, …]}")
                }
                let entries = try list.map { entry throws(APIError) in try ImageCatalog.entry(from: entry) }
                images.reset()
                for (image, behaviour) in entries { images.set(image, behaviour) }
                return .json(images.json)
            case ("POST", "/_emulator/images"):
                let (image, behaviour) = try ImageCatalog.entry(from: try BodyCodec.parseJSON(request.body))
                images.set(image, behaviour)
                return .json(images.json)
            case ("DELETE", "/_emulator/images"):
                images.reset()
                return .json(images.json)
            case ("POST", "/_emulator/compact"):
                await store.compactHistory()
                return .json(["compactedRevision": .int(await store.revision)])
            default:
                return .error(.notFoundPath())
            }
        }
    }
}

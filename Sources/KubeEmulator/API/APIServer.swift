import Foundation
import JSONValue

/// The API server: authenticates, counts, injects faults, authorizes and routes each request to
/// discovery, OpenAPI, the admin endpoints or the resource handlers.
final class APIServer: Sendable {
    let store: ClusterStore
    let catalog: ResourceCatalog
    let discovery: Discovery
    let authenticator: Authenticator
    let authorizer: Authorizer
    let faults: FaultInjector
    let counter: RequestCounter
    let podLogs: PodLogRegistry
    let images: ImageCatalog
    let openAPI: OpenAPIDocuments
    /// How long a list at a resourceVersion not reached yet waits before answering 504.
    let freshnessWait: Duration

    /// The reserved path prefix of the emulator's own endpoints.
    static let adminPrefix = "/_emulator/"

    init(
        store: ClusterStore, catalog: ResourceCatalog, authenticator: Authenticator,
        authorizer: Authorizer, faults: FaultInjector, podLogs: PodLogRegistry, freshnessWait: Duration,
        schemas: OpenAPISchemas?, images: ImageCatalog = ImageCatalog()
    ) {
        self.freshnessWait = freshnessWait
        self.store = store
        self.catalog = catalog
        self.discovery = Discovery(catalog: catalog)
        self.authenticator = authenticator
        self.authorizer = authorizer
        self.faults = faults
        self.counter = RequestCounter()
        self.podLogs = podLogs
        self.images = images
        self.openAPI = OpenAPIDocuments(catalog: catalog, schemas: schemas)
    }

    func handle(_ request: HTTPRequest) async -> HTTPResponse {
        var response = await route(request)
        for warning in request.warnings.headerValues { response.headers.append(("Warning", warning)) }
        response.headers.append(("Audit-Id", UUID().uuidString.lowercased()))
        response.headers.append(("Cache-Control", "no-cache, private"))
        if request.method == "HEAD", case .bytes = response.body { response.body = .bytes([]) }
        return response
    }

    private func route(_ request: HTTPRequest) async -> HTTPResponse {
        if request.path.hasPrefix(APIServer.adminPrefix) || request.path == "/_emulator" {
            return await handleAdmin(request)
        }
        let info = RequestInfo(method: request.method, path: request.path, query: request.query)
        guard let user = authenticator.authenticate(request) else {
            counter.record(info, user: "", code: 401, httpVersion: request.httpVersion)
            return .error(.unauthorized)
        }
        let (response, actor) = await serve(request, info: info, user: user)
        // A request the fault plan leaves hanging is never answered: counted with code 0.
        let answered: Bool
        if case .never = response.body { answered = false } else { answered = true }
        counter.record(
            info, user: actor.name, code: answered ? response.status : 0, httpVersion: request.httpVersion)
        return response
    }

    /// Serves an authenticated request; returns the answer and the user it ran as (the
    /// impersonated one, once the requester was allowed to impersonate).
    private func serve(_ request: HTTPRequest, info: RequestInfo, user requester: UserInfo) async
        -> (HTTPResponse, UserInfo)
    {
        switch faults.decide(info) {
        case .hang:
            return (HTTPResponse(status: 200, body: .never), requester)
        case .fail(let error, let latency):
            await sleep(milliseconds: latency)
            return (.error(error), requester)
        case .serve(let latency):
            await sleep(milliseconds: latency)
        }
        let impersonation: Impersonation?
        do {
            impersonation = try Impersonation(request)
        } catch {
            return (.error(error), requester)
        }
        // Administrators skip the RBAC lookup; everyone else is checked against the stored roles.
        let needsRBAC =
            !requester.groups.contains("system:masters")
            || impersonation.map { !$0.user.groups.contains("system:masters") } ?? false
        let rbac = needsRBAC ? await store.rbacSnapshot() : Authorizer.RBACSnapshot()
        var user = requester
        if let impersonation {
            for target in impersonation.targets {
                let asking = Impersonation.requestInfo(for: target)
                guard authorizer.allows(requester, asking, rbac: rbac) else {
                    return (.error(forbidden(requester, asking)), requester)
                }
            }
            user = impersonation.user
        }
        guard authorizer.allows(user, info, rbac: rbac) else {
            return (.error(forbidden(user, info)), user)
        }
        return (await dispatch(request, info: info, user: user), user)
    }

    private func dispatch(_ request: HTTPRequest, info: RequestInfo, user: UserInfo) async -> HTTPResponse {
        do {
            if info.isResourceRequest {
                return try await handleResource(request, info: info, user: user)
            }
            return try await handleNonResource(request, info: info)
        } catch {
            return .error(error)
        }
    }

    private func sleep(milliseconds: Int) async {
        if milliseconds > 0 { try? await Task.sleep(for: .milliseconds(milliseconds)) }
    }

    /// The real authorizer's 403 (`responsewriters.Forbidden`).
    func forbidden(_ user: UserInfo, _ info: RequestInfo) -> APIError {
        guard info.isResourceRequest else {
            return APIError(
                code: 403, reason: "Forbidden",
                message: "forbidden: User \"\(user.name)\" cannot \(info.verb) path \"\(info.path)\"",
                details: [:])
        }
        let scope =
            info.namespace.isEmpty
            ? "at the cluster scope" : "in the namespace \"\(info.namespace)\""
        let why =
            "User \"\(user.name)\" cannot \(info.verb) resource \"\(info.resourcePath)\" in API group \"\(info.apiGroup)\" \(scope)"
        return .forbidden(GroupResource(group: info.apiGroup, resource: info.resource), info.name, why)
    }

    // MARK: - Non-resource paths

    private func handleNonResource(_ request: HTTPRequest, info: RequestInfo) async throws(APIError)
        -> HTTPResponse
    {
        guard request.method == "GET" || request.method == "HEAD" else {
            throw APIError.methodNotAllowed()
        }
        let path =
            request.path.count > 1 && request.path.hasSuffix("/")
            ? String(request.path.dropLast()) : request.path
        let accept = request.header("accept")
        switch path {
        case "/version":
            return .json(Discovery.version)
        case "/healthz", "/livez", "/readyz":
            return .text("ok")
        case "/api":
            if Discovery.wantsAggregated(accept) {
                return aggregatedResponse(discovery.aggregated(core: true))
            }
            return .json(discovery.coreVersions(serverAddress: request.header("host") ?? "127.0.0.1"))
        case "/apis":
            if Discovery.wantsAggregated(accept) {
                return aggregatedResponse(discovery.aggregated(core: false))
            }
            return .json(discovery.groupList)
        case "/api/v1":
            if let list = discovery.resourceList(group: "", version: "v1") { return .json(list) }
        case "/openapi/v2":
            return openAPI.v2Response(accept: accept)
        case "/openapi/v3":
            return .json(openAPI.v3Index)
        default:
            if path.hasPrefix("/openapi/v3/") {
                let groupVersion = String(path.dropFirst("/openapi/v3/".count))
                if let document = openAPI.v3Document(path: groupVersion) { return .json(document) }
            }
            let parts = path.split(separator: "/").map(String.init)
            if parts.count == 2, parts[0] == "apis" {
                let group = parts[1]
                let versions = catalog.versions(of: group)
                if !versions.isEmpty {
                    let entries: [JSON] = versions.map {
                        ["groupVersion": .string("\(group)/\($0)"), "version": .string($0)]
                    }
                    return .json([
                        "kind": "APIGroup", "apiVersion": "v1", "name": .string(group),
                        "versions": .array(entries),
                        "preferredVersion": entries[0],
                    ])
                }
            }
            if parts.count == 3, parts[0] == "apis",
                let list = discovery.resourceList(group: parts[1], version: parts[2])
            {
                return .json(list)
            }
        }
        return HTTPResponse.error(.notFoundPath())
    }

    private func aggregatedResponse(_ document: JSON) -> HTTPResponse {
        var response = HTTPResponse.json(document)
        response.headers = [("Content-Type", Discovery.aggregatedContentType)]
        return response
    }
}

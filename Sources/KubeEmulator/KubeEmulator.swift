import Foundation
import JSONValue

/// An in-memory Kubernetes API server on 127.0.0.1, for tests, benchmarks and demonstrations.
///
/// It serves discovery, OpenAPI, CRUD, patch and watch for the core, apps, batch, coordination,
/// events, networking, policy and RBAC resources with the real server's rules (resourceVersion,
/// generation, validation, `Status` errors, 409 conflicts, 410 on compacted watches), bearer
/// token and client-certificate authentication, RBAC-style authorization, simulated Deployment
/// rollouts, pod logs from files, fault injection and request accounting. `kubectl` works
/// against it without special flags.
///
/// ```swift
/// let emulator = try await KubeEmulator.start()
/// try emulator.writeKubeconfig(to: path)
/// // ... run clients ...
/// await emulator.stop()
/// ```
public final class KubeEmulator: Sendable {
    /// How to start an emulator.
    public struct Options: Sendable {
        /// The port on 127.0.0.1; 0 picks a free one.
        public var port: Int
        /// The admin bearer token (may do everything); nil makes a random one.
        public var token: String?
        /// Users, tokens and their permissions besides the admin.
        public var policy: AccessPolicy
        /// Serve HTTPS with a certificate from a CA generated at start.
        public var tls: Bool
        /// How long a pod takes from creation to running containers, and so each step of a
        /// Deployment's rollout.
        public var rolloutDelay: Duration
        /// Emulated seconds per real second for the simulated kubelet's back-offs and retries and
        /// for Deployments' `progressDeadlineSeconds`: at 60, a rollout that cannot progress ends
        /// in `ProgressDeadlineExceeded` 10 real seconds after its last progress (600 s emulated).
        public var timeScale: Double
        /// Images that are missing from their registry or crash, from the start.
        public var images: [String: ImageBehaviour]
        /// How many changes the watch history keeps; a watch resuming from before that gets an
        /// `ERROR` event with a 410 `Status`.
        public var watchHistoryLimit: Int
        /// How often watches with `allowWatchBookmarks=true` get a BOOKMARK.
        public var bookmarkInterval: Duration
        /// Faults active from the start.
        public var faults: FaultPlan
        /// How plain-HTTP requests without credentials are treated. kubectl (client-go) never
        /// sends tokens over plain HTTP, so by default they are served as the admin, as the real
        /// API server's former insecure port did; `.unauthorized` answers them 401. With TLS,
        /// requests without credentials always get 401.
        public var anonymousHTTP: AnonymousAccess
        /// How long a list at a resourceVersion the emulator has not reached yet waits for it
        /// before answering 504 Timeout (3 s, as the real watch cache).
        public var freshnessWait: Duration
        /// The API's schemas: write bodies are decoded by them (field types, unknown fields, times)
        /// and the OpenAPI documents carry them. Without them (nil) only the kinds' own rules
        /// apply. By default those `make test` provides (`OpenAPISchemas.standard`).
        public var schemas: OpenAPISchemas?
        /// What writes that do not say `fieldValidation` get. The real server's default is
        /// `.warn`; the emulator's is `.strict`, so that a client writing a field its kind does not
        /// have fails the test that made it, instead of losing the field with a warning.
        public var defaultFieldValidation: FieldValidation

        public init(
            port: Int = 0, token: String? = nil, policy: AccessPolicy = AccessPolicy(), tls: Bool = false,
            rolloutDelay: Duration = .milliseconds(200), watchHistoryLimit: Int = 10_000,
            bookmarkInterval: Duration = .seconds(60), faults: FaultPlan = .none,
            anonymousHTTP: AnonymousAccess = .admin, freshnessWait: Duration = .seconds(3),
            schemas: OpenAPISchemas? = OpenAPISchemas.standard,
            defaultFieldValidation: FieldValidation = .strict, timeScale: Double = 1,
            images: [String: ImageBehaviour] = [:]
        ) {
            self.freshnessWait = freshnessWait
            self.schemas = schemas
            self.defaultFieldValidation = defaultFieldValidation
            self.port = port
            self.token = token
            self.policy = policy
            self.tls = tls
            self.rolloutDelay = rolloutDelay
            self.watchHistoryLimit = watchHistoryLimit
            self.bookmarkInterval = bookmarkInterval
            self.faults = faults
            self.anonymousHTTP = anonymousHTTP
            self.timeScale = timeScale
            self.images = images
        }
    }

    /// What an unauthenticated plain-HTTP request is.
    public enum AnonymousAccess: String, Sendable, CaseIterable {
        /// Served as the admin (the real server's former insecure port).
        case admin
        /// Answered 401 Unauthorized.
        case unauthorized
    }

    /// The server's base URL, e.g. `http://127.0.0.1:41234` or `https://127.0.0.1:41234`.
    public let url: String
    public let port: Int
    /// The admin token: cluster-admin (user `kubernetes-admin`, group `system:masters`) and the
    /// only token the `/_emulator/` endpoints accept.
    public let adminToken: String
    /// The CA that signed the server certificate (TLS only).
    public let certificateAuthority: CertificateAuthority?
    /// The live fault plan.
    public let faults: FaultInjector
    /// Images that are missing or crash (`/_emulator/images`); every other image runs.
    public let images: ImageCatalog

    let api: APIServer
    let store: ClusterStore
    let http: HTTPServer
    let controllers: ControllerManager

    private init(
        url: String, port: Int, adminToken: String, certificateAuthority: CertificateAuthority?,
        api: APIServer,
        store: ClusterStore, http: HTTPServer, controllers: ControllerManager
    ) {
        self.url = url
        self.port = port
        self.adminToken = adminToken
        self.certificateAuthority = certificateAuthority
        self.faults = api.faults
        self.images = api.images
        self.api = api
        self.store = store
        self.http = http
        self.controllers = controllers
    }

    /// Starts an emulator; it serves until `stop()`.
    public static func start(_ options: Options = Options()) async throws -> KubeEmulator {
        let authority = options.tls ? try CertificateAuthority() : nil
        let catalog = ResourceCatalog.standard
        let store = ClusterStore(
            catalog: catalog,
            settings: .init(
                historyLimit: max(1, options.watchHistoryLimit), bookmarkInterval: options.bookmarkInterval,
                schemas: options.schemas, defaultFieldValidation: options.defaultFieldValidation))
        let images = ImageCatalog()
        for (image, behaviour) in options.images { images.set(image, behaviour) }
        let simulation = WorkloadSimulation(
            startDelay: options.rolloutDelay, timeScale: options.timeScale > 0 ? options.timeScale : 1,
            images: images)
        let controllers = ControllerManager(
            store: store, simulation: simulation, caCertificatePEM: authority?.certificatePEM)
        await controllers.start()
        await store.bootstrap()
        let token =
            options.token ?? "emulator-admin."
            + ObjectMetaRules.newUID().replacingOccurrences(of: "-", with: "")
        let api = APIServer(
            store: store, catalog: catalog,
            authenticator: Authenticator(
                adminToken: token, policy: options.policy,
                anonymousIsAdmin: !options.tls && options.anonymousHTTP == .admin),
            authorizer: Authorizer(policy: options.policy), faults: FaultInjector(options.faults),
            podLogs: PodLogRegistry(), freshnessWait: options.freshnessWait, schemas: options.schemas,
            images: images)
        let http = try await HTTPServer.start(port: options.port, tls: try authority?.serverContext()) {
            request in
            await api.handle(request)
        }
        let scheme = options.tls ? "https" : "http"
        return KubeEmulator(
            url: "\(scheme)://127.0.0.1:\(http.port)", port: http.port, adminToken: token,
            certificateAuthority: authority, api: api, store: store, http: http, controllers: controllers)
    }

    /// Stops serving: open watches and followed logs end, connections close.
    public func stop() async {
        await store.closeAllWatches()
        await api.podLogs.stopAll()
        await http.stop()
    }

    // MARK: - Credentials

    /// Makes `token` authenticate as `user` from now on.
    public func addToken(_ token: String, user: UserInfo) {
        api.authenticator.addToken(token, user: user)
    }

    /// Replaces the policy's rules (tokens of the new policy's users are added).
    public func setPolicy(_ policy: AccessPolicy) {
        api.authorizer.replacePolicy(policy)
        for user in policy.users {
            if let token = user.token { api.authenticator.addToken(token, user: user.info) }
        }
    }

    /// A client certificate for `user` with `groups` (TLS only).
    public func issueClientCertificate(user: String, groups: [String] = []) throws -> CertificateAndKey {
        guard let certificateAuthority else { throw KubeEmulatorError.tlsRequired }
        return try certificateAuthority.issueClientCertificate(user: user, groups: groups)
    }

    // MARK: - Accounting and rollouts

    /// How many requests of each kind the emulator has received since start or the last reset.
    public func requestCounts() -> RequestCounts { api.counter.snapshot }

    public func resetRequestCounts() { api.counter.reset() }

    /// How many API requests came over each HTTP version (`HTTP/1.1`, `HTTP/2`) since start or
    /// the last reset of the counts.
    public func requestsByProtocol() -> [String: Int] { api.counter.byProtocol }

    /// How many connections the emulator has accepted, by protocol (`HTTP/1.1`, `HTTP/2`).
    public func connectionsByProtocol() -> [String: Int] { http.connections.acceptedConnections }

    /// How many times a Deployment's pod template changed (each change is one rollout) since it
    /// was created.
    public func rollouts(namespace: String, deployment: String) async -> Int {
        await store.rolloutCount(namespace: namespace, deployment: deployment)
    }

    /// How many watch streams are open (a client that went away no longer counts).
    public func openWatchCount() async -> Int { await store.openWatchCount }

    /// The cluster's current resourceVersion.
    public func currentResourceVersion() async -> Int { await store.revision }

    /// Drops the watch history, as an etcd compaction does: watches resuming from an older
    /// resourceVersion get an `ERROR` event with 410 Expired.
    public func compactWatchHistory() async { await store.compactHistory() }

    /// Serves `pods/log` of a pod's container (any container when nil) from the file at `path`,
    /// followed as it grows; each line is stamped with the time it was first read.
    public func attachPodLog(namespace: String, pod: String, container: String? = nil, path: String) {
        _ = api.podLogs.attach(namespace: namespace, pod: pod, container: container ?? "", path: path)
    }

    /// Serves `pods/log` of every pod that `selector` (label selector syntax, e.g. `app=agent`)
    /// matches, now or later, from the file at `path` (for pods whose names are not known in
    /// advance, such as a Deployment's). A log attached to the pod itself wins.
    public func attachPodLog(namespace: String, selector: String, container: String? = nil, path: String)
        throws
    {
        let parsed: LabelSelector
        do {
            parsed = try LabelSelector(parsing: selector)
        } catch {
            throw KubeEmulatorError.invalidSelector(selector, reason: error.message)
        }
        _ = api.podLogs.attach(namespace: namespace, selector: parsed, container: container ?? "", path: path)
    }

    // MARK: - Direct object access (test setup and assertions)

    /// The stored object, or nil. `resource` is a plural name, short name or kind, optionally
    /// qualified by its group (`deployments.apps`).
    public func object(_ resource: String, namespace: String = "", name: String) async throws -> JSON? {
        let type = try resolve(resource)
        return await store.object(
            type.groupResource, ObjectName(namespace: type.namespaced ? namespace : "", name: name))
    }

    /// Every stored object of a resource, in one namespace or (nil) all.
    public func objects(_ resource: String, namespace: String? = nil) async throws -> [JSON] {
        let type = try resolve(resource)
        return await store.objects(of: type.groupResource, namespace: namespace).map(\.1)
    }

    /// Creates or replaces an object given with `apiVersion`, `kind` and `metadata`, through the
    /// same rules as an API request (defaults, validation, resourceVersion, watch events).
    @discardableResult
    public func put(_ object: JSON) async throws -> JSON {
        guard let apiVersion = object["apiVersion"]?.stringValue, let kind = object["kind"]?.stringValue,
            let type = api.catalog.resource(apiVersion: apiVersion, kind: kind)
        else {
            throw KubeEmulatorError.unknownResource(
                "\(object["apiVersion"]?.stringValue ?? "?")/\(object["kind"]?.stringValue ?? "?")")
        }
        let namespace =
            type.namespaced ? (object[path: "metadata", "namespace"]?.stringValue ?? "default") : ""
        let name = object[path: "metadata", "name"]?.stringValue ?? ""
        if let stored = await store.object(type.groupResource, ObjectName(namespace: namespace, name: name)) {
            // A replacement without a resourceVersion replaces whatever is stored, for every
            // kind (the API refuses that for Leases; a test's setup need not race).
            var replacement = object
            if (object[path: "metadata", "resourceVersion"]?.stringValue ?? "").isEmpty {
                replacement[path: "metadata", "resourceVersion"] = stored[path: "metadata", "resourceVersion"]
            }
            return try await store.update(
                type, namespace: namespace, name: name, subresource: nil, body: replacement,
                options: WriteOptions())
        }
        return try await store.create(type, namespace: namespace, body: object, options: WriteOptions())
    }

    /// Replaces an object's `status` (as a controller would).
    @discardableResult
    public func putStatus(_ object: JSON) async throws -> JSON {
        guard let apiVersion = object["apiVersion"]?.stringValue, let kind = object["kind"]?.stringValue,
            let type = api.catalog.resource(apiVersion: apiVersion, kind: kind)
        else { throw KubeEmulatorError.unknownResource("\(object["kind"]?.stringValue ?? "?")") }
        let namespace =
            type.namespaced ? (object[path: "metadata", "namespace"]?.stringValue ?? "default") : ""
        return try await store.update(
            type, namespace: namespace, name: object[path: "metadata", "name"]?.stringValue ?? "",
            subresource: "status",
            body: object, options: WriteOptions())
    }

    /// Deletes an object (background propagation, as `kubectl delete`).
    public func delete(_ resource: String, namespace: String = "", name: String) async throws {
        let type = try resolve(resource)
        _ = try await store.delete(
            type, namespace: type.namespaced ? namespace : "", name: name,
            options: DeleteOptions(propagation: .background))
    }

    private func resolve(_ name: String) throws(KubeEmulatorError) -> APIResource {
        let parts = name.split(separator: ".", maxSplits: 1).map(String.init)
        if parts.count == 2,
            let type = api.catalog.resources.first(where: { $0.name == parts[0] && $0.group == parts[1] })
        {
            return type
        }
        if let type = api.catalog.resource(named: name)
            ?? api.catalog.resources.first(where: { $0.kind == name })
        {
            return type
        }
        throw KubeEmulatorError.unknownResource(name)
    }
}

/// Errors of the emulator's library API.
public enum KubeEmulatorError: Error, Sendable, CustomStringConvertible, Equatable {
    case unknownResource(String)
    case tlsRequired
    case cannotWrite(path: String, reason: String)
    case invalidSelector(String, reason: String)

    public var description: String {
        switch self {
        case .unknownResource(let name): "the emulator does not serve the resource \(name)"
        case .tlsRequired: "client certificates need an emulator started with TLS"
        case .cannotWrite(let path, let reason): "cannot write \(path): \(reason)"
        case .invalidSelector(let selector, let reason): "invalid label selector \"\(selector)\": \(reason)"
        }
    }
}

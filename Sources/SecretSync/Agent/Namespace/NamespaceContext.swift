import JSONValue
import KubeAPI
import Logging

/// What the collaborators of one namespace's sync share: where they act, through which client,
/// how they report (Events, audit lines, logs), and the few ways every one of them calls the
/// API (announced to `OwnWrites`, replayed after conflicts by the agent's one rule).
struct NamespaceContext: Sendable {
    let namespace: String
    let settings: NamespaceSync.Settings
    let client: KubeClient
    let events: EventRecorder
    let sink: any AuditSink
    let logger: Logger
    let ownWrites: OwnWrites
    /// Every read of the namespace's objects goes through here.
    let reads: NamespaceReads

    var names: ObjectNames { settings.names }

    init(
        namespace: String, settings: NamespaceSync.Settings, client: KubeClient, events: EventRecorder,
        sink: any AuditSink, logger: Logger, ownWrites: OwnWrites, cache: WatchCache
    ) {
        self.namespace = namespace
        self.settings = settings
        self.client = client
        self.events = events
        self.sink = sink
        var logger = logger
        logger[metadataKey: "namespace"] = "\(namespace)"
        self.logger = logger
        self.ownWrites = ownWrites
        reads = NamespaceReads(client: client, namespace: namespace, names: settings.names, cache: cache)
    }

    /// One API call; its failure as a `SyncError`.
    func api<T>(
        isolation: isolated (any Actor)? = #isolation, _ call: () async throws(KubeError) -> T
    ) async throws(SyncError) -> T {
        do {
            return try await call()
        } catch {
            throw .api(error)
        }
    }

    /// Makes one write of an object the agent watches, announced to `ownWrites` so that the
    /// watch event echoing it starts no reconcile, and stored in the watches' cache.
    func ownWrite<T: KubeObject>(
        isolation: isolated (any Actor)? = #isolation, _ type: T.Type, name: String,
        _ call: () async throws(KubeError) -> T
    ) async throws(KubeError) -> T {
        await ownWrites.begin(T.self, namespace: namespace, name: name)
        do {
            let result = try await call()
            await ownWrites.end(T.self, namespace: namespace, name: name, version: result.resourceVersion)
            await reads.cache.wrote(result, namespace: namespace)
            return result
        } catch {
            await ownWrites.end(T.self, namespace: namespace, name: name, version: nil)
            throw error
        }
    }

    /// One read-modify-write of the object `kind`/`name`, replayed after conflicts by the
    /// agent's rule, the replays reading from the server; when the conflicts outlast it,
    /// `conflictPersisted`, which the agent reports (a Warning Event, a metric) and tries again
    /// later.
    func retryOnConflict<T>(
        isolation: isolated (any Actor)? = #isolation, kind: String, name: String,
        exhausted: () -> Void = {}, _ body: () async throws(SyncError) -> T
    ) async throws(SyncError) -> T {
        let object = InvolvedObject(kind: kind, apiVersion: "v1", namespace: namespace, name: name)
        return try await ConflictRetry.agent.run(
            isConflict: \.isConflict,
            exhausted: { attempts, _ in
                exhausted()
                return .conflictPersisted(object: object, attempts: attempts)
            }
        ) { (attempt: Int) async throws(SyncError) -> T in
            try await readingFromServer(when: attempt > 1, body)
        }
    }

    /// Runs `body` with its reads going to the server when `fromServer` (or an enclosing call)
    /// says so: a write was refused because the cache was behind.
    func readingFromServer<T>(
        isolation: isolated (any Actor)? = #isolation, when fromServer: Bool = true,
        _ body: () async throws(SyncError) -> T
    ) async throws(SyncError) -> T {
        let result: Result<T, SyncError> = await NamespaceReads.$fromServer.withValue(
            NamespaceReads.fromServer || fromServer
        ) {
            do throws(SyncError) {
                return .success(try await body())
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    /// The store as the agent reads it (`ReconcileInputs.store`).
    func readStore(_ json: JSON) -> SealedStore {
        ReconcileInputs.store(json)
    }

    /// The object `kind`/`name` of this namespace as an Event names it.
    func involved(_ json: JSON?, kind: String, name: String) -> InvolvedObject {
        json.map { InvolvedObject($0, kind: kind, apiVersion: "v1") }
            ?? InvolvedObject(kind: kind, apiVersion: "v1", namespace: namespace, name: name)
    }
}

/// Why a namespace could not be brought in line (it is tried again).
enum SyncError: Error, CustomStringConvertible {
    case api(KubeError)
    case keys(AgentKeysError)
    /// Another agent extended the audit chain: this one must not act as leader.
    case chainMoved(seq: Int)
    /// Other writers kept changing `object` while the agent wrote it, past its conflict retries.
    case conflictPersisted(object: InvolvedObject, attempts: Int)
    /// The agent's own object (`kind` `name`) is marked as another release's (`owner`).
    case otherRelease(kind: String, name: String, owner: String, release: String)

    /// A 409 from the API (retried by `ConflictRetry`).
    var isConflict: Bool {
        if case .api(let error) = self { return error.isConflict }
        return false
    }

    var description: String {
        switch self {
        case .api(let error): return error.description
        case .keys(let error): return error.description
        case .chainMoved(let seq):
            return
                "another agent extended the audit chain (to \(seq)); stepping back until the lease is settled"
        case .conflictPersisted(let object, let attempts):
            return
                "\(object.kind) \(object.name) kept changing while the agent wrote it (\(attempts) attempts); "
                + "trying again later"
        case .otherRelease(let kind, let name, let owner, let release):
            return
                "\(kind) \(name) belongs to release \(owner), not \(release): this agent never uses another "
                + "release's keys or signers; give it its own objects (--sealing-key-secret, "
                + "--public-key-config-map, --signers-config-map, --lease, as the chart does)"
        }
    }
}

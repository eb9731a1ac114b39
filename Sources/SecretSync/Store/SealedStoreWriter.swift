import JSONValue
import KubeAPI

/// Writes the sealed store ConfigMap the way docs/formats.md asks of every writer: read it,
/// apply one edit, replace the whole object with the `resourceVersion` read (or create it when
/// it does not exist yet), and on a conflict read again and replay the edit. Two workstations
/// setting different keys at the same moment therefore both succeed, and neither overwrites the
/// other's key.
public struct SealedStoreWriter: Sendable {
    public let client: KubeClient
    public let namespace: String
    /// The sealed store's name (`<secret>-sealed`).
    public let name: String
    /// Reads and writes in all before giving up with `conflictPersisted`.
    public var maximumAttempts = 100
    /// How long to keep trying after conflicts. Every conflict means another writer succeeded,
    /// so many writers at once (a pipeline setting dozens of keys in parallel) all get through
    /// in time; a count of attempts alone gives up too early on a slow or busy server.
    public var conflictBudget: Duration = .seconds(30)

    public init(client: KubeClient, namespace: String, name: String) {
        self.client = client
        self.namespace = namespace
        self.name = name
    }

    /// What one edit did.
    public struct Outcome<Result: Sendable>: Sendable {
        /// What the edit returned (e.g. the new version).
        public var result: Result
        /// The store as written (or, in a dry run, as it would be written).
        public var store: SealedStore
        /// The store as it was before the edit.
        public var previous: SealedStore
        /// Whether the ConfigMap did not exist and was (or would be) created.
        public var created: Bool
        /// Attempts it took (1 without conflicts).
        public var attempts: Int
    }

    /// Applies `edit` to the current store and writes the result; with `dryRun`, reads and
    /// edits but writes nothing.
    ///
    /// `edit` may run more than once (after a conflict it replays on the newer store), so it must
    /// depend only on the store it is given. A missing store is edited as an empty one and
    /// created when the edit succeeds; edits that need an existing key throw `keyNotFound`.
    public func update<Result: Sendable>(
        dryRun: Bool = false,
        _ edit: (inout SealedStore) throws(ChangeError) -> Result
    ) async throws(ChangeError) -> Outcome<Result> {
        var attempt = 0
        let started = ContinuousClock.now
        while true {
            attempt += 1
            let object = try await read()
            let previous: SealedStore
            do {
                previous =
                    try object.map { configMap throws(SealedStoreError) in
                        try SealedStore(configMap: configMap.json)
                    } ?? SealedStore()
            } catch {
                throw .store(error)
            }
            var store = previous
            let result = try edit(&store)
            // The API server refuses a ConfigMap over 1 MiB with a bare "Too long"; say what it is.
            let bytes = store.envelopes.reduce(0) { $0 + $1.key.utf8.count + $1.value.utf8.count }
            if bytes > Self.maximumDataBytes {
                throw .storeTooLarge(object: "the sealed store ConfigMap \(namespace)/\(name)", bytes: bytes)
            }
            let outcome = Outcome(
                result: result, store: store, previous: previous, created: object == nil, attempts: attempt)
            if dryRun { return outcome }
            do {
                if let object {
                    let written = ConfigMap(json: store.writingEnvelopesAndVersions(into: object.json))
                    _ = try await client.replace(written, namespace: namespace)
                } else {
                    let created = ConfigMap(
                        json: store.newConfigMap(
                            name: name, namespace: namespace,
                            labels: ["app.kubernetes.io/managed-by": "beluga-secrets"]))
                    _ = try await client.create(created, namespace: namespace)
                }
                return outcome
            } catch  where error.category == .conflict || error.category == .alreadyExists {
                guard attempt < maximumAttempts, ContinuousClock.now - started < conflictBudget else {
                    throw .conflictPersisted(object: "ConfigMap \(namespace)/\(name)", attempts: attempt)
                }
                await Self.pause(beforeAttempt: attempt + 1)
            } catch {
                throw .api(error)
            }
        }
    }

    /// What Kubernetes allows in a ConfigMap's data in all.
    static let maximumDataBytes = 1_048_576

    /// The sealed store as it is now, `nil` when it does not exist.
    public func read() async throws(ChangeError) -> ConfigMap? {
        do {
            return try await client.getIfPresent(ConfigMap.self, name: name, namespace: namespace)
        } catch {
            throw .api(error)
        }
    }

    /// A short random pause, growing with the attempts, so that writers that collided do not
    /// collide again in lockstep.
    static func pause(beforeAttempt attempt: Int) async {
        let ceiling = min(20 * (1 << min(attempt, 5)), 500)
        try? await Task.sleep(for: .milliseconds(Int.random(in: ceiling / 4...ceiling)))
    }
}

import JSONValue
import KubeAPI

/// Writes the sealed store ConfigMap the way docs/formats.md asks of every writer: read it,
/// apply one edit, replace the whole object with the `resourceVersion` read (or create it when
/// it does not exist yet), and on a conflict read again and replay the edit. Two workstations
/// setting different keys at the same moment therefore both succeed, and neither overwrites the
/// other's key.
public struct SealedStoreWriter: Sendable {
    /// The sealed store ConfigMap (`<secret>-sealed`) and how conflicts on it are retried.
    public var configMap: ConfigMapEdit
    /// The agent's status object, read for the signed versions it applied (see
    /// `SealedStore.nextVersion(of:)`).
    public var status: AgentStatusReader

    public init(client: KubeClient, namespace: String, name: String, statusName: String) {
        configMap = ConfigMapEdit(client: client, namespace: namespace, name: name)
        status = AgentStatusReader(client: client, namespace: namespace, name: statusName)
    }

    /// What one edit did.
    public struct Outcome<Result: Sendable>: Sendable {
        /// What the edit returned (e.g. the new version).
        public var result: Result
        /// The store as written (or, in a dry run, as it would be written).
        public var store: SealedStore
        /// The store as it was before the edit.
        public var previous: SealedStore
        /// The agent's status before the edit; `nil` when there is none or it may not be read.
        public var status: AgentStatus?
        /// Whether the ConfigMap did not exist and was (or would be) created.
        public var created: Bool
        /// Attempts it took (1 without conflicts).
        public var attempts: Int
        /// The keys Helm values own (`HelmOwnership`) in the store as read.
        public var helmOwned: Set<String> = []
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
        let namespace = configMap.namespace
        let name = configMap.name
        let status: AgentStatus?
        do throws(KubeError) {
            status = try await self.status.readIfPermitted()
        } catch {
            throw .api(error)
        }
        let signedVersions = status?.keys.compactMapValues(\.signedVersion) ?? [:]
        return try await configMap.run(
            api: ChangeError.api, conflictPersisted: ChangeError.conflictPersisted
        ) {
            (object: ConfigMap?, attempt: Int) throws(ChangeError) -> (
                write: ConfigMap?, result: Outcome<Result>
            ) in
            let previous: SealedStore
            do throws(SealedStoreError) {
                var read =
                    try object.map { configMap throws(SealedStoreError) in
                        try SealedStore(configMap: configMap.json)
                    } ?? SealedStore()
                read.signedVersions = signedVersions
                previous = read
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
                result: result, store: store, previous: previous, status: status, created: object == nil,
                attempts: attempt, helmOwned: object.map { HelmOwnership(configMap: $0.json).keys } ?? [])
            if dryRun { return (nil, outcome) }
            let written =
                object.map { ConfigMap(json: store.writingEnvelopesAndVersions(into: $0.json)) }
                ?? ConfigMap(
                    json: store.newConfigMap(
                        name: name, namespace: namespace,
                        labels: ["app.kubernetes.io/managed-by": "beluga-secrets"]))
            return (written, outcome)
        }
    }

    /// What Kubernetes allows in a ConfigMap's data in all.
    static let maximumDataBytes = 1_048_576

    /// The sealed store as it is now, `nil` when it does not exist.
    public func read() async throws(ChangeError) -> ConfigMap? {
        do throws(KubeError) { return try await configMap.read() } catch { throw .api(error) }
    }
}

import KubeAPI

/// The agent's reads of the objects of one namespace, in one place. The objects the agent
/// watches are served from the watches' cache (`WatchCache`) once their watch has listed; the
/// others, and every read made while a conflict is being retried (`fromServer`), are GETs.
struct NamespaceReads: Sendable {
    let client: KubeClient
    let namespace: String
    let names: ObjectNames
    let cache: WatchCache

    /// Set while a write that conflicted is replayed: the conflict says the cache was behind,
    /// so the replay reads what the server holds.
    @TaskLocal static var fromServer = false

    /// The sealed store (desired state: envelopes and version records).
    func sealedStore() async throws(SyncError) -> ConfigMap? {
        try await watched(ConfigMap.self, names.sealedStore)
    }

    /// The agent's status object (per-key status, audit head), written by the agent only. Not
    /// watched: the agent reads it when it takes a namespace over and after a write of it
    /// conflicted, and both times what the server holds is what counts, so it is a GET.
    func status() async throws(SyncError) -> ConfigMap? {
        try await get(ConfigMap.self, names.status)
    }

    func secret() async throws(SyncError) -> Secret? {
        try await watched(Secret.self, names.secret)
    }

    func settings() async throws(SyncError) -> ConfigMap? {
        try await watched(ConfigMap.self, names.configMap)
    }

    func publicKeys() async throws(SyncError) -> ConfigMap? {
        try await watched(ConfigMap.self, names.publicKeyConfigMap)
    }

    func sealingKeys() async throws(SyncError) -> Secret? {
        try await get(Secret.self, names.sealingKeySecret)
    }

    /// The allowed signers; the error as the API gave it (a Role may not grant this read).
    /// Another release's signers are refused like an unreadable list.
    func signers() async throws(KubeError) -> ConfigMap? {
        let object: ConfigMap?
        if let cached = await cached(ConfigMap.self, names.signers) {
            object = cached
        } else {
            object = try await client.getIfPresent(ConfigMap.self, name: names.signers, namespace: namespace)
        }
        if let object, let owner = AgentObjectsResolver.otherRelease(object.metadata, than: names.release) {
            throw KubeError(
                .forbidden,
                "ConfigMap \(names.signers) belongs to release \(owner), not \(names.release): this agent never "
                    + "uses another release's signers")
        }
        return object
    }

    /// The Deployments named `names`, those that exist (watched by name, so from the cache); with
    /// no names, every Deployment that opts in with the reload annotation (listed: not watched).
    func deployments(named names: [String]) async throws(SyncError) -> [Deployment] {
        if !names.isEmpty {
            var found: [Deployment] = []
            for name in names {
                if let deployment = try await watched(Deployment.self, name) { found.append(deployment) }
            }
            return found
        }
        let list = try await call { () async throws(KubeError) in
            try await client.listAll(Deployment.self, namespace: namespace)
        }
        return list.items.filter { $0.metadata.annotations[ReloadAnnotation.name] != nil }
    }

    /// An object a watch follows: from the cache when it has listed, else from the server.
    private func watched<T: KubeObject>(_ type: T.Type, _ name: String) async throws(SyncError) -> T? {
        if let cached = await cached(T.self, name) { return cached }
        return try await get(T.self, name)
    }

    /// The cache's answer (`.some(nil)`: the object does not exist), `nil` when the server must
    /// be asked.
    private func cached<T: KubeObject>(_ type: T.Type, _ name: String) async -> T?? {
        guard !Self.fromServer else { return nil }
        return await cache.lookup(T.self, namespace: namespace, name: name)
    }

    private func get<T: KubeObject>(_ type: T.Type, _ name: String) async throws(SyncError) -> T? {
        try await call { () async throws(KubeError) in
            try await client.getIfPresent(T.self, name: name, namespace: namespace)
        }
    }

    private func call<T>(_ body: () async throws(KubeError) -> T) async throws(SyncError) -> T {
        do {
            return try await body()
        } catch {
            throw .api(error)
        }
    }
}

import KubeAPI

/// The agent's reads of the objects of one namespace, in one place: each is one GET
/// today, and this is the seam where they can be served from the watches' caches instead.
struct NamespaceReads: Sendable {
    let client: KubeClient
    let namespace: String
    let names: ObjectNames

    /// The sealed store (desired state, and today the agent's status and audit head).
    func sealedStore() async throws(SyncError) -> ConfigMap? {
        try await configMap(names.sealedStore)
    }

    func secret() async throws(SyncError) -> Secret? {
        try await get(Secret.self, names.secret)
    }

    func settings() async throws(SyncError) -> ConfigMap? {
        try await configMap(names.configMap)
    }

    func publicKeys() async throws(SyncError) -> ConfigMap? {
        try await configMap(names.publicKeyConfigMap)
    }

    func sealingKeys() async throws(SyncError) -> Secret? {
        try await get(Secret.self, names.sealingKeySecret)
    }

    /// The allowed signers; the error as the API gave it (a Role may not grant this read).
    func signers() async throws(KubeError) -> ConfigMap? {
        try await client.getIfPresent(ConfigMap.self, name: names.signers, namespace: namespace)
    }

    /// The Deployments named `names`, those that exist; with no names, every Deployment that
    /// opts in with the reload annotation.
    func deployments(named names: [String]) async throws(SyncError) -> [Deployment] {
        if !names.isEmpty {
            var found: [Deployment] = []
            for name in names {
                if let deployment = try await get(Deployment.self, name) { found.append(deployment) }
            }
            return found
        }
        let list = try await call { () async throws(KubeError) in
            try await client.listAll(Deployment.self, namespace: namespace)
        }
        return list.items.filter { $0.metadata.annotations[ReloadAnnotation.name] != nil }
    }

    private func configMap(_ name: String) async throws(SyncError) -> ConfigMap? {
        try await get(ConfigMap.self, name)
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

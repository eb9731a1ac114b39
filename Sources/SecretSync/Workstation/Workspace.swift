import KubeAPI

/// What a workstation command works with: a client, the namespace and the release's object
/// names, and the writers and followers of those objects.
public struct Workspace: Sendable {
    public let client: KubeClient
    public let namespace: String
    public let names: ObjectNames
    /// The API server's address, under which the agent's identity is pinned.
    public let server: String

    public init(client: KubeClient, namespace: String, names: ObjectNames, server: String) {
        self.client = client
        self.namespace = namespace
        self.names = names
        self.server = server
    }

    public var sealedStore: SealedStoreWriter {
        SealedStoreWriter(
            client: client, namespace: namespace, name: names.sealedStore, statusName: names.status)
    }
    public var directSecret: DirectSecretWriter {
        DirectSecretWriter(client: client, namespace: namespace, names: names)
    }
    public var settings: SettingsWriter {
        SettingsWriter(client: client, namespace: namespace, name: names.configMap)
    }
    public var restarter: DeploymentRestarter {
        DeploymentRestarter(client: client, namespace: namespace, names: names)
    }
    public var rollout: RolloutFollower {
        RolloutFollower(client: client, namespace: namespace, deployment: names.deployment)
    }
    public var syncStatus: SyncStatusWaiter {
        SyncStatusWaiter(client: client, namespace: namespace, name: names.status)
    }
    public var agentStatus: AgentStatusReader {
        AgentStatusReader(client: client, namespace: namespace, name: names.status)
    }

    /// The workspace with the agent's objects of its release as they are in the namespace (the
    /// derived names, or the fixed ones the release owns), and the public-key ConfigMap read
    /// under them (`AgentObjectsResolver`).
    public func resolvingAgentObjects() async throws(KubeError) -> (Workspace, publicKeys: ConfigMap?) {
        let resolution = try await AgentObjectsResolver.resolve(names, client: client, namespace: namespace)
        return (
            Workspace(client: client, namespace: namespace, names: resolution.names, server: server),
            resolution.publicKeys
        )
    }

    /// `ConfigMap prod/beluga-ai-secrets-sealed`, as messages name objects.
    public func describe(_ kind: String, _ name: String) -> String { "\(kind) \(namespace)/\(name)" }
}

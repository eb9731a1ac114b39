import KubeAPI

/// Reads the agent's status object (`<secret>-status`) for workstation commands: what the agent
/// applied or refused per key, and where its audit chain stands. Only the agent writes it, so it
/// is what `list`, `status`, `set --wait` and `audit` trust; an agent older than the status
/// object writes none, and these commands then show every key as pending.
public struct AgentStatusReader: Sendable {
    public let client: KubeClient
    public let namespace: String
    /// The status object's name.
    public let name: String

    public init(client: KubeClient, namespace: String, name: String) {
        self.client = client
        self.namespace = namespace
        self.name = name
    }

    /// The status, `nil` when the agent has written none.
    public func read() async throws(KubeError) -> AgentStatus? {
        try await client.getIfPresent(ConfigMap.self, name: name, namespace: namespace).map {
            AgentStatus(configMap: $0.json)
        }
    }

    /// As `read()`, but `nil` also when this user may not read it: writers only use the status
    /// to number versions above the agent's, and go on without it as before an agent ran.
    public func readIfPermitted() async throws(KubeError) -> AgentStatus? {
        do {
            return try await read()
        } catch  where error.category == .forbidden {
            return nil
        }
    }
}

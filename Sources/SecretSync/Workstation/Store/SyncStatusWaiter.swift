import KubeAPI

/// Waits for the agent's verdict on one version of a key: it watches the agent's status object
/// (`<secret>-status`, which only the agent writes) by name until its `sync-status` covers that
/// version. A status written anywhere else, such as an annotation of the sealed store, which
/// operators may write, is not believed.
public struct SyncStatusWaiter: Sendable {
    public let client: KubeClient
    public let namespace: String
    /// The status object's name.
    public let name: String

    public init(client: KubeClient, namespace: String, name: String) {
        self.client = client
        self.namespace = namespace
        self.name = name
    }

    /// The agent's status once it reached `version` of `key` (a later version counts too: it
    /// replaced this one). Throws `rejectedByAgent` when it refused that version, `timedOut`
    /// after `timeout`. A status object that does not exist yet is waited for (an agent writes
    /// it on its first change).
    public func waitForSync(key: String, version: Int, timeout: Duration) async throws(ChangeError)
        -> SyncStatus
    {
        let client = self.client
        let namespace = self.namespace
        let name = self.name
        return try await Deadline.run(timeout, waitingFor: "the agent to apply version \(version) of \(key)")
        {
            for try await object in client.watchObject(ConfigMap.self, name: name, namespace: namespace) {
                guard let object else { continue }
                let status = AgentStatus(configMap: object.json)
                guard let entry = status.keys[key], entry.version >= version else { continue }
                if entry.state == .rejected, entry.version == version {
                    throw ChangeError.rejectedByAgent(key: key, version: version, reason: entry.reason)
                }
                return entry
            }
            throw ChangeError.disappeared(object: "status ConfigMap \(namespace)/\(name)")
        }
    }
}

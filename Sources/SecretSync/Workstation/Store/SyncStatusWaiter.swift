import KubeAPI

/// Waits for the agent's verdict on one version of a key: it watches the sealed store by name
/// until the agent's `sync-status` covers that version.
public struct SyncStatusWaiter: Sendable {
    public let client: KubeClient
    public let namespace: String
    /// The sealed store's name.
    public let name: String

    public init(client: KubeClient, namespace: String, name: String) {
        self.client = client
        self.namespace = namespace
        self.name = name
    }

    /// The agent's status once it reached `version` of `key` (a later version counts too: it
    /// replaced this one). Throws `rejectedByAgent` when it refused that version, `timedOut`
    /// after `timeout`.
    public func waitForSync(key: String, version: Int, timeout: Duration) async throws(ChangeError)
        -> SyncStatus
    {
        let client = self.client
        let namespace = self.namespace
        let name = self.name
        return try await Deadline.run(timeout, waitingFor: "the agent to apply version \(version) of \(key)")
        {
            for try await object in client.watchObject(ConfigMap.self, name: name, namespace: namespace) {
                guard let object else {
                    throw ChangeError.disappeared(object: "sealed store \(namespace)/\(name)")
                }
                let store = try SealedStore(configMap: object.json, lenient: true)
                guard store.envelopes[key] != nil else {
                    throw ChangeError.keyNotFound(
                        key: key, object: "sealed store \(namespace)/\(name)",
                        hint: "it was deleted while waiting for the agent")
                }
                guard let status = store.status[key], status.version >= version else { continue }
                if status.state == .rejected, status.version == version {
                    throw ChangeError.rejectedByAgent(key: key, version: version, reason: status.reason)
                }
                return status
            }
            throw ChangeError.disappeared(object: "sealed store \(namespace)/\(name)")
        }
    }
}

import KubeAPI
import Sealing

/// Reads audit records and what checks them from a cluster: the logs of the agent pods
/// (current and previous containers), the audit heads in the agents' status objects, and the identity
/// keys in the public-key ConfigMaps.
public enum ClusterAuditLogs {
    /// The label the chart gives agent pods.
    public static let agentSelector = "app.kubernetes.io/component=secrets-agent"
    /// The name of the agent container in the chart (deployment and sidecar mode alike).
    public static let agentContainer = "beluga-secrets-agent"

    /// Adds the logs of every pod matching `selector` in `namespace` to `log`; returns the pods
    /// read. The agent container is read when the pod has one of that name, else its only
    /// container.
    public static func read(
        into log: inout AuditLog, client: KubeClient, namespace: String, selector: String = agentSelector,
        container: String = agentContainer
    ) async throws(KubeError) -> [String] {
        let pods = try await client.listAll(
            Pod.self, namespace: namespace, options: ListOptions(labelSelector: selector))
        var read: [String] = []
        for pod in pods.items {
            let names = pod.containerNames
            let chosen = names.contains(container) ? container : (names.count == 1 ? names.first : nil)
            guard let chosen else { continue }
            for previous in [true, false] {
                do {
                    let text = try await client.podLogs(
                        name: pod.name, namespace: namespace,
                        options: PodLogOptions(container: chosen, previous: previous))
                    log.read(text, source: "pod/\(pod.name)\(previous ? " (previous container)" : "")")
                } catch  where previous && (error.category == .invalid || error.category == .notFound) {
                    // No previous container: nothing to read.
                }
            }
            read.append(pod.name)
        }
        return read
    }

    /// The audit head of each namespace's agent status object (`status` names it).
    public static func heads(
        client: KubeClient, namespaces: [String], status: String
    ) async throws(KubeError) -> [String: AuditVerifier.Head] {
        var heads: [String: AuditVerifier.Head] = [:]
        for namespace in namespaces {
            let reader = AgentStatusReader(client: client, namespace: namespace, name: status)
            guard let head = try await reader.read()?.auditHead else { continue }
            heads[namespace] = AuditVerifier.Head(seq: head.seq, hash: head.hash)
        }
        return heads
    }

    /// The identity key each namespace's agent publishes (`identity.pub`).
    public static func identityKeys(
        client: KubeClient, namespaces: [String], names: ObjectNames
    ) async throws(KubeError) -> [String: (key: SigningPublicKey, configMap: String)] {
        var keys: [String: (key: SigningPublicKey, configMap: String)] = [:]
        for namespace in namespaces {
            // Each namespace's agent of the release: derived names, or the fixed ones it owns.
            let resolution = try await AgentObjectsResolver.resolve(
                names, client: client, namespace: namespace)
            guard
                let object = resolution.publicKeys,
                let text = object[AgentKeys.identityPublicKeyDataKey],
                let key = try? SigningPublicKey(base64: text.trimmingWhitespace())
            else { continue }
            keys[namespace] = (key, resolution.names.publicKeyConfigMap)
        }
        return keys
    }
}

import KubeAPI
import Sealing
import SecretSync

/// The key new values are sealed to, fetched from the agent's public-key ConfigMap and trusted
/// only when signed by the agent identity this user pinned for the cluster and namespace.
enum SealingKeySource {
    /// The current sealing key, after checking its signature and the pinned identity. The first
    /// use pins the identity (said once, on standard error); a changed identity is refused
    /// unless `acceptNewIdentity`. A dry run pins nothing.
    static func trustedKey(
        in workspace: Workspace, acceptNewIdentity: Bool, dryRun: Bool
    ) async throws -> SealingPublicKey {
        let name = workspace.names.publicKeyConfigMap
        let object: ConfigMap
        do {
            object = try await workspace.client.get(
                ConfigMap.self, name: name, namespace: workspace.namespace)
        } catch {
            guard error.category == .notFound else { throw error }
            throw CommandError(
                "no ConfigMap \(name) in namespace \(workspace.namespace): the agent publishes its public key "
                    + "there when it starts; install or start it, or write the Secret yourself with --direct",
                .notFound)
        }
        let published = try PublishedKeys(configMap: object.json)
        let identity = published.identity
        let pins = try AgentIdentityPins.standard()
        let server = workspace.server
        let namespace = workspace.namespace
        switch try pins.check(identity, server: server, namespace: namespace) {
        case .known:
            break
        case .firstUse:
            if !dryRun { try pins.pin(identity, server: server, namespace: namespace) }
            StandardError.writeLine(
                "\(dryRun ? "would pin" : "pinned") the agent identity \(identity.signerID) for namespace \(namespace) "
                    + "of \(server) (first use); a different identity will be refused")
        case .changed(let pinned):
            let pinnedID =
                (try? SigningPublicKey(base64: pinned.identity)).map { $0.signerID.hex } ?? "(unreadable)"
            guard acceptNewIdentity else {
                throw CommandError(
                    "the agent identity of namespace \(namespace) on \(server) changed: pinned \(pinnedID) "
                        + "(\(pinned.pinnedAt)), now \(identity.signerID) in ConfigMap \(name). Someone may have "
                        + "replaced the agent's keys; if the agent was reinstalled on purpose, run again with "
                        + "--accept-new-identity", .rejected)
            }
            if !dryRun { try pins.pin(identity, server: server, namespace: namespace) }
            StandardError.writeLine(
                "\(dryRun ? "would accept" : "accepted") the new agent identity \(identity.signerID) for namespace "
                    + "\(namespace) of \(server) (was \(pinnedID))")
        }
        return published.current
    }
}

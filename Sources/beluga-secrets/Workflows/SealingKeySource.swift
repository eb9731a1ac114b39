import KubeAPI
import Sealing
import SecretSync

/// The key new values are sealed to, fetched from the agent's public-key ConfigMap and trusted
/// only when the identity this user pinned for the cluster and namespace signed it and signed
/// that it is current.
enum SealingKeySource {
    /// The current sealing key, after checking its signatures, the pinned identity and the
    /// current-key counter. The first use pins the identity (said once, on standard error); a
    /// changed identity or a replayed current key is refused unless `acceptNewIdentity`. A dry
    /// run pins nothing.
    static func trustedKey(
        in workspace: Workspace, acceptNewIdentity: Bool, dryRun: Bool
    ) async throws -> SealingPublicKey {
        let (published, configMap) = try await PublishedKeysTrust.read(workspace)
        try PublishedKeysTrust.require(
            published, server: workspace.server, namespace: workspace.namespace,
            configMap: configMap, firstUse: .pin, accept: acceptNewIdentity,
            dryRun: dryRun)
        return published.current
    }
}

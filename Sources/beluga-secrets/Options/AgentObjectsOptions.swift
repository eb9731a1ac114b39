import ArgumentParser
import KubeAPI
import SecretSync

/// The release whose agent a command talks to (`keys`, `signer`): its public-key ConfigMap,
/// signers ConfigMap and Lease, found the way `--release` finds them for every command.
struct AgentObjectsOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "Helm release whose agent this is: its objects are <release>-public-key and <release>-signers, "
                + "or the fixed names beluga-secrets-public-key and beluga-secrets-signers of a release "
                + "installed with them.", valueName: "name"))
    var release: String = ObjectNames.defaultRelease

    @Option(
        name: .customLong("public-key-config-map"),
        help: ArgumentHelp(
            "Name of the public-key ConfigMap (default: found from --release).", valueName: "name"))
    var publicKeyConfigMap: String?

    @Option(
        name: .customLong("signers-config-map"),
        help: ArgumentHelp(
            "Name of the signers ConfigMap (default: found from --release).", valueName: "name"))
    var signersConfigMap: String?

    /// The release's agent objects in the client's namespace, with the names given explicitly.
    func names(_ client: KubeClient) async throws -> ObjectNames {
        var names = ObjectNames.derived(release: release)
        if publicKeyConfigMap == nil || signersConfigMap == nil {
            names = try await AgentObjectsResolver.resolve(names, client: client, namespace: client.namespace)
                .names
        }
        if let publicKeyConfigMap {
            try KubernetesNames.validateObjectName(publicKeyConfigMap, kind: "ConfigMap")
            names.publicKeyConfigMap = publicKeyConfigMap
        }
        if let signersConfigMap {
            try KubernetesNames.validateObjectName(signersConfigMap, kind: "ConfigMap")
            names.signers = signersConfigMap
        }
        return names
    }
}

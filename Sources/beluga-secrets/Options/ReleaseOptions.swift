import ArgumentParser
import KubeAPI
import SecretSync

/// kubectl's global options plus the Helm release whose objects a command works on, with the
/// name overrides the agent also takes.
struct ReleaseOptions: ParsableArguments {
    @OptionGroup var cluster: ClusterOptions

    @Option(help: ArgumentHelp("Helm release the object names derive from.", valueName: "name"))
    var release: String = ObjectNames.defaultRelease

    @Option(help: ArgumentHelp("Name of the Secret (default: <release>-secrets).", valueName: "name"))
    var secret: String?

    @Option(
        name: .customLong("config-map"),
        help: ArgumentHelp("Name of the settings ConfigMap (default: <release>-config).", valueName: "name"))
    var configMap: String?

    @Option(
        help: ArgumentHelp("Name of the Deployment to restart (default: <release>).", valueName: "name"))
    var deployment: String?

    /// The names derived from the release; commands that use the agent's objects resolve them
    /// against the namespace (`Workspace.resolvingAgentObjects`), which keeps the fixed names of
    /// a release installed before names derived from the release.
    var names: ObjectNames {
        ObjectNames.derived(release: release, secret: secret, configMap: configMap, deployment: deployment)
    }

    /// The same options for one of several contexts.
    func with(context: String) -> ReleaseOptions {
        var copy = self
        copy.cluster = cluster.with(context: context)
        return copy
    }

    /// The client, namespace and object names, after checking the names as the API server would.
    func connect() throws -> Workspace {
        let names = self.names
        try KubernetesNames.validateSecretName(names.secret)
        try KubernetesNames.validateObjectName(names.configMap, kind: "ConfigMap")
        try KubernetesNames.validateObjectName(names.deployment, kind: "Deployment")
        let configuration = try cluster.configuration()
        try KubernetesNames.validateNamespace(configuration.namespace)
        return Workspace(
            client: try KubeClient(configuration: configuration), namespace: configuration.namespace,
            names: names, server: configuration.transport.server)
    }
}

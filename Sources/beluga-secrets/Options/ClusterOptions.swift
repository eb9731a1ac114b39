import ArgumentParser
import KubeAPI

/// kubectl's global options for commands that talk to a cluster.
struct ClusterOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config).", valueName: "file"))
    var kubeconfig: String?

    @Option(help: ArgumentHelp("The kubeconfig context to use.", valueName: "name"))
    var context: String?

    @Option(
        name: [.short, .long],
        help: ArgumentHelp("Namespace (default: the context's).", valueName: "namespace"))
    var namespace: String?

    /// A client configured as kubectl would be (in a pod without a kubeconfig: the service account).
    func client() throws(KubeError) -> KubeClient {
        try KubeClient(
            options: ClientConfiguration.Options(
                kubeconfig: kubeconfig, context: context, namespace: namespace))
    }
}

extension KubeError: ReportableError {
    var message: String { description }

    var exitStatus: ExitStatus {
        switch category {
        case .configuration, .cancelled: return .usage
        case .notFound: return .notFound
        case .conflict, .alreadyExists: return .conflict
        case .unauthorized, .forbidden: return .denied
        case .unreachable, .timeout, .throttled, .server, .gone: return .unreachable
        case .invalid: return .rejected
        }
    }
}

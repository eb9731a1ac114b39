import ArgumentParser
import KubeAPI

/// kubectl's global options for commands that talk to a cluster. They may also come before the
/// command (`GlobalOptions`).
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

    @Option(
        name: .customLong("request-timeout"),
        help: ArgumentHelp(
            "Give up on a request the server has not answered within this time (e.g. 10s), without retrying "
                + "(default: 30s, with retries).", valueName: "duration"))
    var requestTimeout: DurationArgument?

    func validate() throws {
        if let requestTimeout, requestTimeout.duration <= .zero {
            throw ValidationError("--request-timeout must be more than 0 (e.g. 10s)")
        }
    }

    /// The configuration kubectl would use (in a pod without a kubeconfig: the service account).
    func configuration() throws(KubeError) -> ClientConfiguration {
        var configuration = try ClientConfiguration.load(
            ClientConfiguration.Options(kubeconfig: kubeconfig, context: context, namespace: namespace))
        if let requestTimeout {
            // As kubectl: a request that timed out is not sent again.
            configuration.transport.requestTimeout = requestTimeout.duration
            configuration.transport.connectTimeout = min(requestTimeout.duration, .seconds(10))
            configuration.retryPolicy = .none
        }
        return configuration
    }

    /// A client configured as kubectl would be.
    func client() throws(KubeError) -> KubeClient {
        try KubeClient(configuration: configuration())
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

import ArgumentParser
import KubeAPI

/// kubectl's global options for commands that talk to a cluster. They may also come before the
/// command (`GlobalOptions`).
struct ClusterOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config).", valueName: "file"))
    var kubeconfig: String?

    @Option(
        name: .customLong("context"),
        help: ArgumentHelp(
            "The kubeconfig context to use; set, rotate, rollback, delete, config set|unset, restart, list, get, "
                + "status and doctor take it several times to work on several clusters at once.",
            valueName: "name"))
    var contexts: [String] = []

    /// The one context a single-cluster run uses (`nil`: the kubeconfig's current context).
    var context: String? { contexts.last }

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
        if Set(contexts).count > 1 {
            throw KubeError(
                .configuration,
                "--context was given \(contexts.count) times, but this command works on one cluster at a time: "
                    + "run it once per context (set, rotate, rollback, delete, config set|unset, restart, list, "
                    + "get, status and doctor take several)")
        }
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

    /// The same options for one of several contexts.
    func with(context: String) -> ClusterOptions {
        var copy = self
        copy.contexts = [context]
        return copy
    }

    /// Every context of the kubeconfig that `--kubeconfig` or `$KUBECONFIG` names, sorted.
    func allContexts() throws(KubeError) -> [String] {
        let loader = KubeconfigLoader(explicitPath: kubeconfig, environment: ProcessEnvironment.current)
        guard let config = try loader.load() else {
            throw KubeError(
                .configuration,
                "working on several contexts needs a kubeconfig, and none was found (looked for "
                    + loader.candidateFiles.paths.joined(separator: ", ")
                    + "): pass --kubeconfig or set KUBECONFIG")
        }
        return config.contexts.keys.sorted()
    }

    /// The context a command without `--context` uses: the kubeconfig's current one.
    func currentContext() throws(KubeError) -> String {
        let loader = KubeconfigLoader(explicitPath: kubeconfig, environment: ProcessEnvironment.current)
        guard let current = try loader.load()?.currentContext, !current.isEmpty else {
            throw KubeError(
                .configuration, "the kubeconfig names no current context: pass --context")
        }
        return current
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

import ArgumentParser
import Dispatch
import KubeAPI
import Logging
import Metrics
import Prometheus
import SecretSync

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// `beluga-secrets agent`: the in-cluster agent.
struct AgentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agent",
        abstract:
            "Run the in-cluster agent: open sealed values, keep the Secret current, restart the Deployment.",
        discussion: """
            The agent turns the sealed store (ConfigMap <secret>-sealed) into the Secret, restarts \
            the Deployments annotated beluga-ai.io/reload once per batch of changes, and prints one \
            audit record (JSON) per change on standard output; operational logs go to standard \
            error. Replicas elect a leader on a Lease; only the leader writes. On first start the \
            leader creates the sealing keys (Secret --sealing-key-secret) and publishes the public \
            keys (ConfigMap --public-key-config-map); the chart names them after the release, so \
            several releases share a namespace. SIGTERM finishes the write in \
            flight, releases the lease and exits 0. Health: /healthz, /readyz, /metrics.
            """)

    @Option(
        help: ArgumentHelp(
            "Path to the kubeconfig file (default: in a pod, the service account).", valueName: "file"))
    var kubeconfig: String?

    @Option(help: ArgumentHelp("The kubeconfig context to use.", valueName: "name"))
    var context: String?

    @Option(
        name: [.short, .long],
        help: ArgumentHelp(
            "Namespace to manage, and of the Lease (default: the context's or the pod's).",
            valueName: "namespace"))
    var namespace: String?

    @Flag(help: "Manage every namespace that has a sealed store (the Lease stays in --namespace).")
    var allNamespaces = false

    @Option(help: ArgumentHelp("Helm release the object names derive from.", valueName: "name"))
    var release: String = ObjectNames.defaultRelease

    @Option(
        help: ArgumentHelp("Name of the Secret to manage (default: <release>-secrets).", valueName: "name"))
    var secret: String?

    @Option(
        name: .customLong("config-map"),
        help: ArgumentHelp("Name of the settings ConfigMap (default: <release>-config).", valueName: "name"))
    var configMap: String?

    @Option(
        name: .customLong("sealing-key-secret"),
        help: ArgumentHelp(
            "Secret holding the agent's private keys (the chart passes <release>-sealing-key).",
            valueName: "name"))
    var sealingKeySecret = ObjectNames.Legacy.sealingKeySecret

    @Option(
        name: .customLong("public-key-config-map"),
        help: ArgumentHelp(
            "ConfigMap the agent publishes its public keys in (the chart passes <release>-public-key).",
            valueName: "name"))
    var publicKeyConfigMap = ObjectNames.Legacy.publicKeyConfigMap

    @Option(
        name: .customLong("signers-config-map"),
        help: ArgumentHelp(
            "ConfigMap of the allowed signers, read only (the chart passes <release>-signers).",
            valueName: "name"))
    var signersConfigMap = ObjectNames.Legacy.signers

    @Option(
        help: ArgumentHelp(
            "Lease of the leader election, in the agent's namespace (the chart passes <release>-agent).",
            valueName: "name"))
    var lease = ObjectNames.Legacy.lease

    @Option(
        help: ArgumentHelp(
            "Deployment to restart (repeatable); without it, every Deployment annotated beluga-ai.io/reload.",
            valueName: "name"))
    var deployment: [String] = []

    @Option(
        help: ArgumentHelp(
            "Quiet time that closes a batch of changes into one restart.", valueName: "duration"))
    var debounce = DurationArgument(.seconds(1), text: "1s")

    @Option(
        name: .customLong("max-delay"),
        help: ArgumentHelp("Longest a change waits for its restart.", valueName: "duration"))
    var maxDelay = DurationArgument(.seconds(10), text: "10s")

    @Option(
        name: .customLong("health-addr"),
        help: ArgumentHelp(
            "Address of /healthz, /readyz and /metrics (empty host: every interface).",
            valueName: "[host]:port"))
    var healthAddr = ":8081"

    @Option(
        name: .customLong("leader-elect"),
        help: ArgumentHelp("Elect a leader among replicas on the Lease (true|false).", valueName: "bool"))
    var leaderElect = true

    @Option(
        name: .customLong("lease-duration"),
        help: ArgumentHelp(
            "How long a standby waits before taking an unrenewed lease.", valueName: "duration"))
    var leaseDuration = DurationArgument(.seconds(15), text: "15s")

    @Option(
        name: .customLong("renew-deadline"),
        help: ArgumentHelp(
            "How long the leader tries to renew before it stops leading.", valueName: "duration"))
    var renewDeadline = DurationArgument(.seconds(10), text: "10s")

    @Option(
        name: .customLong("retry-period"),
        help: ArgumentHelp("How often candidates try, and the leader renews.", valueName: "duration"))
    var retryPeriod = DurationArgument(.seconds(2), text: "2s")

    @Option(
        name: .customLong("resync-period"),
        help: ArgumentHelp("Full reconcile this often, besides watch events.", valueName: "duration"))
    var resyncPeriod = DurationArgument(.seconds(300), text: "5m")

    @Option(
        name: .customLong("retire-keys-after"),
        help: ArgumentHelp(
            "Keep a superseded sealing key this long after nothing stored uses it.", valueName: "duration"))
    var retireKeysAfter = DurationArgument(.seconds(86400), text: "24h")

    @Option(
        help: ArgumentHelp(
            "This replica's name in the Lease, audit records and Events (default: $POD_NAME, else the host name).",
            valueName: "id"))
    var identity: String?

    @Option(
        help: ArgumentHelp(
            "Apply envelopes no allowed signer proved, flagged in the audit record (optional), or refuse them "
                + "(required); the annotation beluga-ai.io/signatures of the signers ConfigMap "
                + "overrides it per namespace.", valueName: "policy"))
    var signatures: SignaturePolicy = .optional

    @Option(
        name: .customLong("log-level"),
        help: ArgumentHelp("trace, debug, info, notice, warning, error or critical.", valueName: "level"))
    var logLevel: Logger.Level = .info

    func validate() throws {
        let timing = LeaseTiming(
            leaseDuration: leaseDuration.duration, renewDeadline: renewDeadline.duration,
            retryPeriod: retryPeriod.duration)
        if leaderElect, let problem = timing.problem { throw ValidationError(problem) }
        if resyncPeriod.duration <= .zero { throw ValidationError("--resync-period must be positive") }
        if maxDelay.duration < debounce.duration {
            throw ValidationError(
                "--max-delay (\(maxDelay)) must not be shorter than --debounce (\(debounce))")
        }
        _ = try HealthAddress(healthAddr)
        for (flag, name) in [
            ("--sealing-key-secret", sealingKeySecret), ("--public-key-config-map", publicKeyConfigMap),
            ("--signers-config-map", signersConfigMap), ("--lease", lease),
        ] {
            do {
                try KubernetesNames.validateObjectName(name, kind: "object")
            } catch {
                throw ValidationError("\(flag): \((error as? CommandError)?.message ?? "invalid name")")
            }
        }
    }

    func run() async throws {
        let level = logLevel
        LoggingSystem.bootstrap { _ in OperationalLogHandler(logLevel: level) }
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        let logger = Logger(label: "beluga-secrets.agent")

        let client = try KubeClient(
            options: ClientConfiguration.Options(
                kubeconfig: kubeconfig, context: context, namespace: namespace),
            logger: logger, requestObserver: AgentMetrics.requestObserver)
        let replica =
            identity ?? ProcessEnvironment.value("POD_NAME").flatMap { $0.isEmpty ? nil : $0 }
            ?? Self.hostName()
        let names = ObjectNames(
            release: release, secret: secret, configMap: configMap, sealingKeySecret: sealingKeySecret,
            publicKeyConfigMap: publicKeyConfigMap, lease: lease, signers: signersConfigMap)
        let configuration = AgentConfiguration(
            namespace: client.namespace, allNamespaces: allNamespaces, names: names, deployments: deployment,
            debounce: debounce.duration, maxDelay: maxDelay.duration, leaderElection: leaderElect,
            leaseTiming: LeaseTiming(
                leaseDuration: leaseDuration.duration, renewDeadline: renewDeadline.duration,
                retryPeriod: retryPeriod.duration),
            identity: replica, signaturePolicy: signatures, resyncPeriod: resyncPeriod.duration,
            retireKeysAfter: retireKeysAfter.duration)
        let agent = Agent(client: client, configuration: configuration, logger: logger)

        let address = try HealthAddress(healthAddr)
        let server: HealthServer
        do {
            server = try await HealthServer.start(
                host: address.host, port: address.port,
                handler: HealthEndpoints.handler(agent: agent, registry: registry))
        } catch {
            throw CommandError(
                "cannot listen on --health-addr \(healthAddr) (\(error)); choose a free port", .usage)
        }
        logger.info("serving health and metrics", metadata: ["address": "\(address.host):\(server.port)"])

        let signals = SignalWatcher(signals: [SIGTERM, SIGINT]) { signal in
            logger.info("received \(signal == SIGTERM ? "SIGTERM" : "SIGINT")")
            agent.stop()
        }
        await agent.run()
        signals.cancel()
        await server.stop()
    }
}

extension AgentCommand {
    /// This machine's host name (a pod's own name in Kubernetes), from `gethostname(2)`.
    static func hostName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "localhost" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

extension SignaturePolicy: ExpressibleByArgument {}

extension Logger.Level: @retroactive ExpressibleByArgument {}

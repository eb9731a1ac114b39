import JSONValue
import KubeAPI
import Sealing
import TimeFormat

/// `beluga-secrets doctor`: the deployment guide's troubleshooting and this product's own
/// failure modes as read-only checks of one release, each with a verdict, what was seen and the
/// command that fixes it.
///
/// Everything is read; nothing is written. Reads this user may not make leave their check
/// without evidence (and say so) rather than failing the run, so a narrow account (`helm test`'s)
/// can still check what it may read.
public struct Doctor: Sendable {
    /// What the command decides before the checks run.
    public struct Options: Sendable {
        public var release: String
        /// The agent's Deployment (the chart's `<fullname>-agent`); in sidecar mode the agent is
        /// a container of the server's pods instead.
        public var agentDeployment: String
        /// Whether the agents elect a leader on a Lease (the chart's default).
        public var leaderElection: Bool
        /// Whether a ServiceMonitor was asked for (`serviceMonitor.enabled` in the chart).
        public var serviceMonitorRequested: Bool
        /// How many of a crashing container's last log lines to show (0: the log is not read).
        public var logLines: Int
        /// Where the chart lives, for the `helm upgrade` fixes.
        public var chart: String

        public init(
            release: String, agentDeployment: String, leaderElection: Bool = true,
            serviceMonitorRequested: Bool = false, logLines: Int = 5,
            chart: String = "./deploy/helm/beluga-ai"
        ) {
            self.release = release
            self.agentDeployment = agentDeployment
            self.leaderElection = leaderElection
            self.serviceMonitorRequested = serviceMonitorRequested
            self.logLines = logLines
            self.chart = chart
        }

        /// The chart's agent name for a server Deployment: its first 57 characters and `-agent`.
        public static func chartAgentName(for deployment: String) -> String {
            var base = String(deployment.prefix(57))
            while base.hasSuffix("-") { base.removeLast() }
            return base + "-agent"
        }
    }

    /// The Secret as `list` read it.
    public enum SecretObservation: Sendable {
        case present(GuardedSecret)
        case missing
        /// This user may not read it; the text says so.
        case unreadable(String)
    }

    /// The agent's published identity against the one this workstation pinned.
    public enum PinState: Sendable, Equatable {
        case known
        case firstUse
        case changed(pinned: String)
        case replayed(seenCounter: Int)
    }

    /// What the command read with the code `list` and `status` use, so doctor follows wherever
    /// the keys and the agent's verdicts on them are kept.
    public struct Inputs: Sendable {
        /// The keys with their state; `nil` when they could not be read.
        public var keys: [KeyReport]?
        public var secret: SecretObservation
        /// Checks the published keys against this workstation's pin.
        public var pin: @Sendable (PublishedKeys) -> PinState

        public init(
            keys: [KeyReport]?, secret: SecretObservation,
            pin: @escaping @Sendable (PublishedKeys) -> PinState
        ) {
            self.keys = keys
            self.secret = secret
            self.pin = pin
        }
    }

    public let workspace: Workspace
    public let options: Options
    public let inputs: Inputs

    public init(workspace: Workspace, options: Options, inputs: Inputs) {
        self.workspace = workspace
        self.options = options
        self.inputs = inputs
    }

    static let sidecarContainer = "beluga-secrets-agent"
    static let horizontalPodAutoscalers = ResourceType(
        group: "autoscaling", version: "v2", plural: "horizontalpodautoscalers",
        kind: "HorizontalPodAutoscaler",
        namespaced: true)
    static let serviceMonitors = ResourceType(
        group: "monitoring.coreos.com", version: "v1", plural: "servicemonitors", kind: "ServiceMonitor",
        namespaced: true)

    /// Runs every check. Throws only when the cluster cannot be reached or answers with an error
    /// other than not found or forbidden.
    public func run(now: UnixTime = .now()) async throws(KubeError) -> DoctorReport {
        let names = workspace.names
        let deployment = try await read { () async throws(KubeError) in
            try await workspace.client.get(
                Deployment.self, name: names.deployment, namespace: workspace.namespace)
        }
        let settings = try await read { () async throws(KubeError) in
            try await workspace.client.get(
                ConfigMap.self, name: names.configMap, namespace: workspace.namespace)
        }
        let sealedStore = try await read { () async throws(KubeError) in
            try await workspace.client.get(
                ConfigMap.self, name: names.sealedStore, namespace: workspace.namespace)
        }
        let publicKeys = try await read { () async throws(KubeError) in
            try await workspace.client.get(
                ConfigMap.self, name: names.publicKeyConfigMap, namespace: workspace.namespace)
        }
        var agent = try await read { () async throws(KubeError) in
            try await workspace.client.get(
                Deployment.self, name: options.agentDeployment, namespace: workspace.namespace)
        }
        // Sidecar mode: the agent is a container of the server's pods.
        let sidecar: Bool
        if case .missing = agent, case .found(let server) = deployment,
            containerNames(of: server).contains(Self.sidecarContainer)
        {
            sidecar = true
            agent = deployment
        } else {
            sidecar = false
        }
        var lease: Reading<Lease>?
        if options.leaderElection {
            lease = try await read { () async throws(KubeError) in
                try await workspace.client.get(Lease.self, name: names.lease, namespace: workspace.namespace)
            }
        }
        let serverPods = try await pods(of: deployment)
        let agentPods = sidecar ? serverPods : try await pods(of: agent)
        let events = try await read { () async throws(KubeError) in
            try await workspace.client.listAll(Event.self, namespace: workspace.namespace).items
        }

        var checks: [DoctorCheck] = []
        checks.append(
            objectsCheck(
                deployment: deployment, settings: settings, sealedStore: sealedStore, agent: agent,
                sidecar: sidecar))
        checks.append(
            agentCheck(agent: agent, sidecar: sidecar, pods: agentPods, lease: lease, now: now))
        checks.append(identityCheck(publicKeys: publicKeys))
        let allPods = uniquePods(serverPods + agentPods)
        checks.append(
            imagePullCheck(
                pods: allPods, events: events, agentPods: sidecar ? [] : Set(agentPods.map(\.name))))
        checks.append(missingConfigCheck(pods: allPods, events: events, deployment: deployment))
        checks.append(try await crashLoopCheck(pods: allPods))
        checks.append(rolloutCheck(deployment: deployment, pods: serverPods))
        checks.append(stalePodsCheck(deployment: deployment, settings: settings, pods: serverPods))
        checks.append(sealedKeysCheck())
        checks.append(try await autoscalingCheck(deployment: deployment))
        checks.append(try await serviceMonitorCheck())
        checks.append(keyAgeCheck(now: now))
        return DoctorReport(namespace: workspace.namespace, release: options.release, checks: checks)
    }

    // MARK: - Reads

    /// An object read: there, absent, or not this user's to read.
    enum Reading<T: Sendable>: Sendable {
        case found(T)
        case missing
        case denied(String)

        var value: T? {
            if case .found(let value) = self { return value }
            return nil
        }
    }

    func read<T: Sendable>(_ call: () async throws(KubeError) -> T) async throws(KubeError) -> Reading<T> {
        do {
            return .found(try await call())
        } catch {
            switch error.category {
            case .notFound: return .missing
            case .forbidden, .unauthorized: return .denied(error.message)
            default: throw error
            }
        }
    }

    /// The pods a Deployment's selector matches (none when it is not there or they may not be
    /// listed), without those being deleted.
    func pods(of deployment: Reading<Deployment>) async throws(KubeError) -> [Pod] {
        guard let deployment = deployment.value, !deployment.selectorLabels.isEmpty else { return [] }
        let selector = deployment.selectorLabels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
            .joined(separator: ",")
        let listed = try await read { () async throws(KubeError) in
            try await workspace.client.listAll(
                Pod.self, namespace: workspace.namespace, options: ListOptions(labelSelector: selector)
            ).items
        }
        return (listed.value ?? []).filter { $0.metadata.deletionTimestamp == nil }
    }

    func uniquePods(_ pods: [Pod]) -> [Pod] {
        var seen = Set<String>()
        return pods.filter { seen.insert($0.name).inserted }.sorted { $0.name < $1.name }
    }

    func containerNames(of deployment: Deployment) -> [String] {
        (deployment.json[path: "spec", "template", "spec", "containers"]?.arrayValue ?? []).compactMap {
            $0["name"]?.stringValue
        }
    }

    // MARK: - Words shared by the fixes

    var ns: String { "-n \(workspace.namespace)" }
    /// `--release R` when it is not the default, as other commands need it.
    var target: String {
        options.release == ObjectNames.defaultRelease ? ns : "\(ns) --release \(options.release)"
    }
    var helmUpgrade: String {
        "helm upgrade \(options.release) \(options.chart) \(ns) --reuse-values"
    }
    func describe(_ kind: String, _ name: String) -> String { workspace.describe(kind, name) }
}

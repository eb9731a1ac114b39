/// How an agent runs (the flags of `beluga-secrets agent`).
public struct AgentConfiguration: Sendable {
    /// The agent's own namespace: where its Lease is, and the namespace it manages unless
    /// `allNamespaces`.
    public var namespace: String
    /// Manage every namespace that has a sealed store (`--all-namespaces`).
    public var allNamespaces: Bool
    public var names: ObjectNames
    /// Deployments to restart, by name (`--deployment`); empty: every Deployment of the
    /// namespace annotated `beluga-ai.io/reload`.
    public var deployments: [String]
    /// Quiet time that closes a batch of changes (`--debounce`).
    public var debounce: Duration
    /// Longest a change waits for its restart (`--max-delay`).
    public var maxDelay: Duration
    /// Leader election on the Lease (`--leader-elect`); off: this replica always leads.
    public var leaderElection: Bool
    public var leaseTiming: LeaseTiming
    /// This replica's name (`--identity`).
    public var identity: String
    public var signaturePolicy: SignaturePolicy
    /// A full reconcile of every namespace this often, as a safety net for missed events.
    public var resyncPeriod: Duration
    /// How long a superseded sealing key stays after no stored envelope uses it.
    public var retireKeysAfter: Duration

    public init(
        namespace: String, allNamespaces: Bool = false, names: ObjectNames = ObjectNames(),
        deployments: [String] = [],
        debounce: Duration = .seconds(1), maxDelay: Duration = .seconds(10), leaderElection: Bool = true,
        leaseTiming: LeaseTiming = .standard, identity: String, signaturePolicy: SignaturePolicy = .optional,
        resyncPeriod: Duration = .seconds(300), retireKeysAfter: Duration = .seconds(24 * 3600)
    ) {
        self.namespace = namespace
        self.allNamespaces = allNamespaces
        self.names = names
        self.deployments = deployments
        self.debounce = debounce
        self.maxDelay = maxDelay
        self.leaderElection = leaderElection
        self.leaseTiming = leaseTiming
        self.identity = identity
        self.signaturePolicy = signaturePolicy
        self.resyncPeriod = resyncPeriod
        self.retireKeysAfter = retireKeysAfter
    }
}

/// What `/healthz` and `/readyz` report.
public struct AgentHealth: Sendable, Equatable {
    /// The agent's loops are running.
    public var alive: Bool
    /// Leading and synced at least once with the API reachable, or standing by with the API
    /// reachable.
    public var ready: Bool
    public var leader: Bool
    /// One line for humans.
    public var detail: String
}

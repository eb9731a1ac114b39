import KubeAPI
import Logging
import TimeFormat

/// The in-cluster agent: it elects a leader among its replicas, and while it leads, watches the
/// sealed store, the Secret, the settings ConfigMap, the public keys and the Deployments named by
/// `--deployment` by name, reconciles on
/// every change (and on a slow periodic resync), and restarts Deployments once per debounced
/// batch of changes. Audit records go to `sink`; operational logs to `logger`.
///
/// `run()` returns after `stop()`: the pass in flight finishes, pending restarts are made, and
/// the lease is released so that a standby takes over at once.
public actor Agent {
    public let configuration: AgentConfiguration
    private let client: KubeClient
    private let sink: any AuditSink
    private let logger: Logger
    private let events: EventRecorder
    private let elector: LeaderElector?
    /// What this agent itself last wrote, so that the echoes of its writes are not reconciled.
    private let ownWrites = OwnWrites()
    /// What the watches hold, which the namespaces' reads are served from.
    private let cache = WatchCache()

    private var stopping = false
    private var acquireTask: Task<Bool, Never>?
    private var leadLatch: Latch?
    private var syncs: [String: NamespaceSync] = [:]
    private var queue: WorkQueue?
    private var leading = false
    private var pendingInitial: Set<String>?
    private var syncedNamespaces: Set<String> = []
    private var synced = false
    /// What the agent reads time from and waits on (a manual clock in tests).
    private let clock: AgentClock
    private var lastHeartbeat: AgentClock.Instant
    private var lastContact: AgentClock.Instant?

    public init(
        client: KubeClient, configuration: AgentConfiguration,
        sink: any AuditSink = StandardOutputAuditSink(),
        logger: Logger, clock: AgentClock = .continuous
    ) {
        self.clock = clock
        lastHeartbeat = clock.now
        self.client = client
        self.configuration = configuration
        self.sink = sink
        self.logger = logger
        events = EventRecorder(client: client, host: configuration.identity, logger: logger)
        elector =
            configuration.leaderElection
            ? LeaderElector(
                client: client, namespace: configuration.namespace, leaseName: configuration.names.lease,
                identity: configuration.identity, timing: configuration.leaseTiming, logger: logger,
                clock: clock)
            : nil
    }

    /// Runs until `stop()`.
    public func run() async {
        let heartbeat = Task { [weak self, clock] in
            while !Task.isCancelled {
                await self?.beat()
                try? await clock.sleep(for: .seconds(2))
            }
        }
        defer { heartbeat.cancel() }
        logger.info(
            "agent starting",
            metadata: [
                "identity": "\(configuration.identity)",
                "scope": "\(configuration.allNamespaces ? "all namespaces" : configuration.namespace)",
                "leader_election": "\(configuration.leaderElection)",
            ])
        while !stopping {
            if let elector {
                let task = Task { await elector.acquire() }
                acquireTask = task
                let acquired = await task.value
                acquireTask = nil
                guard acquired, !stopping else { break }
            } else {
                AgentMetrics.leader(true)
            }
            await lead()
        }
        if let elector { await elector.release() }
        logger.info("agent stopped")
    }

    /// Asks the agent to stop; `run()` returns once the work in flight is done.
    public nonisolated func stop() {
        Task { await self.requestStop() }
    }

    private func requestStop() async {
        guard !stopping else { return }
        stopping = true
        logger.info("stopping: finishing the work in flight")
        acquireTask?.cancel()
        await leadLatch?.open()
    }

    /// What the health endpoints report.
    public func health() async -> AgentHealth {
        let now = clock.now
        let alive = lastHeartbeat.duration(to: now) < .seconds(30)
        var contact = lastContact
        if let elector, let leaseContact = await elector.lastContact {
            contact = max(contact ?? leaseContact, leaseContact)
        }
        let window = max(configuration.leaseTiming.leaseDuration * 2, .seconds(30))
        let reachable = contact.map { $0.duration(to: now) < window } ?? false
        let isLeader = leading
        let ready = reachable && (!isLeader || synced)
        let detail: String
        if !reachable {
            detail = "the Kubernetes API has not answered recently"
        } else if isLeader {
            detail = synced ? "leading; synced" : "leading; first sync in progress"
        } else {
            let holder = await elector?.observedHolder ?? ""
            detail = holder.isEmpty ? "standing by" : "standing by; leader is \(holder)"
        }
        return AgentHealth(alive: alive, ready: ready, leader: isLeader, detail: detail)
    }

    private func beat() {
        lastHeartbeat = clock.now
    }

    private func contacted() {
        lastContact = clock.now
    }

    // MARK: - Leading

    private func lead() async {
        guard !stopping else { return }
        let latch = Latch()
        leadLatch = latch
        leading = true
        synced = false
        syncedNamespaces = []
        let clock = self.clock
        let queue = WorkQueue(sleep: { try await clock.sleep(for: $0) })
        self.queue = queue
        if configuration.allNamespaces {
            pendingInitial = nil
        } else {
            pendingInitial = [configuration.namespace]
            await queue.mark(configuration.namespace)
        }

        let names = configuration.names
        var tasks: [Task<Void, Never>] = [
            watch(
                ConfigMap.self, name: names.sealedStore,
                primed: { agent, namespaces in await agent.storesListed(namespaces) }
            ) { agent, namespace, object in
                await agent.markDirty(namespace, unless: object)
            },
            watch(Secret.self, name: names.secret) { agent, namespace, object in
                await agent.markDirty(namespace, unless: object)
            },
            watch(ConfigMap.self, name: names.configMap) { agent, namespace, object in
                await agent.settingsChanged(namespace, object)
            },
            watch(ConfigMap.self, name: names.publicKeyConfigMap) { agent, namespace, object in
                await agent.publicKeysChanged(namespace, object)
            },
            // A signer added or removed, or the policy changed: envelopes are judged again.
            watch(ConfigMap.self, name: names.signers) { agent, namespace, _ in
                await agent.signersChanged(namespace)
            },
        ]
        // The Deployments named by --deployment (as the chart runs the agent), so that a restart
        // reads their content hash from the cache. Nothing to do on a change: the hash alone
        // decides a restart, and the resync checks every Deployment. Without names every
        // Deployment may opt in, so the agent lists them when it restarts rather than holding all
        // of a cluster's Deployments in memory.
        for deployment in Set(configuration.deployments).sorted() {
            tasks.append(watch(Deployment.self, name: deployment) { _, _, _ in })
        }
        tasks.append(
            Task { [configuration] in
                while !Task.isCancelled {
                    try? await clock.sleep(for: configuration.resyncPeriod)
                    if Task.isCancelled { break }
                    await self.resyncAll()
                }
            })
        if let elector {
            tasks.append(
                Task {
                    await elector.holdLeadership()
                    await latch.open()
                })
        } else {
            tasks.append(
                Task { [client] in
                    while !Task.isCancelled {
                        if (try? await client.serverVersion()) != nil { self.contacted() }
                        try? await clock.sleep(for: .seconds(10))
                    }
                })
        }
        let worker = Task { await self.workLoop(queue, latch: latch) }

        await latch.wait()
        let lost = !stopping
        if lost { logger.warning("no longer leading: stopping work until the lease is won again") }
        await queue.close()
        await worker.value
        // A graceful stop makes the restarts still waiting; a lost lease leaves them to the new leader.
        for sync in syncs.values { await sync.stop(finishing: !lost) }
        for task in tasks { task.cancel() }
        // Stopped watches keep nothing current: the next term lists again.
        await cache.clear()
        syncs = [:]
        self.queue = nil
        leading = false
        AgentMetrics.leader(false)
    }

    /// Follows the objects named `name` (one namespace, or all) and calls `handle` for each
    /// namespace whose object appeared, changed or went away. The watch restarts if it ends.
    private func watch<T: KubeObject>(
        _ type: T.Type, name: String, primed: (@Sendable (Agent, Set<String>) async -> Void)? = nil,
        handle: @escaping @Sendable (Agent, String, T?) async -> Void
    ) -> Task<Void, Never> {
        let all = configuration.allNamespaces
        let namespace = configuration.namespace
        let client = self.client
        let logger = self.logger
        let resource = "\(T.resource)/\(name)"
        let cache = self.cache
        var options = WatchOptions.named(name)
        // Restarts inside the client (server time-outs, drops, 410 Gone) count as well.
        options.onRestart = { reason in
            AgentMetrics.watchRestarted(resource: resource, reason: reason.rawValue)
        }
        return Task { [weak self, options] in
            var known: [String: String] = [:]
            var first = true
            while !Task.isCancelled {
                let stream =
                    all
                    ? client.informer(T.self, allNamespaces: true, options: options)
                    : client.informer(T.self, namespace: namespace, options: options)
                do {
                    for try await objects in stream {
                        guard let self else { return }
                        await self.contacted()
                        var current: [String: T] = [:]
                        for object in objects where object.name == name {
                            current[object.namespace ?? namespace] = object
                        }
                        // Before the handlers run, so that the reads they start see this state.
                        if Task.isCancelled { return }
                        await cache.replace(T.self, name: name, with: current)
                        for (space, object) in current where known[space] != (object.resourceVersion ?? "") {
                            known[space] = object.resourceVersion ?? ""
                            await handle(self, space, object)
                        }
                        for space in known.keys where current[space] == nil {
                            known[space] = nil
                            await handle(self, space, nil)
                        }
                        if first {
                            first = false
                            await primed?(self, Set(current.keys))
                        }
                    }
                } catch {
                    await cache.forget(T.self, name: name)
                    if Task.isCancelled { return }
                    logger.warning(
                        "watch ended; starting it again",
                        metadata: ["object": "\(name)", "error": "\(error)"])
                }
                if Task.isCancelled { return }
                AgentMetrics.watchRestarted(resource: resource, reason: WatchRestart.failed.rawValue)
                try? await Task.sleep(for: .seconds(1))
            }
        }
    }

    /// The first listing of sealed stores: in all-namespaces mode, the namespaces whose first
    /// sync makes the agent ready.
    private func storesListed(_ namespaces: Set<String>) {
        guard configuration.allNamespaces, pendingInitial == nil else { return }
        pendingInitial = namespaces.subtracting(syncedNamespaces)
        if pendingInitial?.isEmpty == true { synced = true }
    }

    /// Marks `namespace` for a reconcile, unless `object` is only the echo of this agent's own
    /// last write of it.
    private func markDirty<T: KubeObject>(_ namespace: String, unless object: T?) async {
        if await ownWrites.isEcho(object, namespace: namespace) {
            AgentMetrics.watchEchoSkipped()
            return
        }
        await markDirty(namespace)
    }

    private func markDirty(_ namespace: String) async {
        guard configuration.allNamespaces || namespace == configuration.namespace else { return }
        await queue?.mark(namespace)
    }

    /// Reconciles a namespace this agent already manages; a signers ConfigMap alone does not
    /// make a namespace managed.
    private func signersChanged(_ namespace: String) async {
        guard syncs[namespace] != nil || !configuration.allNamespaces else { return }
        await markDirty(namespace)
    }

    /// The safety net: reconcile every namespace, and check every Deployment's content hash.
    private func resyncAll() async {
        for (namespace, sync) in syncs {
            await queue?.mark(namespace)
            do {
                try await sync.restart([], everything: true)
            } catch {
                await failed(namespace, "could not check the Deployments", error)
            }
        }
    }

    private func settingsChanged(_ namespace: String, _ object: ConfigMap?) async {
        guard let sync = syncs[namespace] else { return }
        do {
            try await sync.settingsChanged(object)
        } catch {
            // Recorded by the namespace's next reconcile.
            await failed(namespace, "could not record a settings change", error)
        }
    }

    private func publicKeysChanged(_ namespace: String, _ object: ConfigMap?) async {
        guard let sync = syncs[namespace] else { return }
        do {
            try await sync.publicKeysChanged(object)
        } catch {
            // Answered again by the namespace's next reconcile.
            await failed(namespace, "could not handle the public keys", error)
        }
    }

    private func sync(for namespace: String) -> NamespaceSync {
        if let existing = syncs[namespace] { return existing }
        let settings = NamespaceSync.Settings(
            names: configuration.names, identity: configuration.identity,
            policy: configuration.signaturePolicy,
            deployments: configuration.deployments, retireKeysAfter: configuration.retireKeysAfter,
            debounce: configuration.debounce, maxDelay: configuration.maxDelay, clock: clock)
        let created = NamespaceSync(
            namespace: namespace, settings: settings, client: client, events: events, sink: sink,
            logger: logger, ownWrites: ownWrites, cache: cache,
            onFailure: { [weak self] what, error in await self?.failed(namespace, what, error) },
            onWake: { [weak self] in await self?.markDirty(namespace) })
        syncs[namespace] = created
        return created
    }

    /// A failure of the work of `namespace`: logged, reported when conflicts outlasted the
    /// retries (a Warning Event on the object and a metric), and the namespace marked again
    /// after a delay that grows with its consecutive failures.
    private func failed(_ namespace: String, _ what: String, _ error: SyncError) async {
        let delay = await queue?.markRateLimited(namespace) ?? .zero
        logger.warning(
            "\(what); trying again",
            metadata: [
                "namespace": "\(namespace)", "error": "\(error)", "retry_in_ms": "\(delay.inMilliseconds)",
            ])
        if case .conflictPersisted(let object, let attempts) = error {
            AgentMetrics.conflictPersisted(namespace: namespace, kind: object.kind)
            await events.record(
                about: object, warning: true, reason: "ConflictPersisted",
                message:
                    "\(object.kind) \(object.name) kept changing while the agent wrote it (\(attempts) attempts); "
                    + "the agent tries again")
        }
    }

    private func workLoop(_ queue: WorkQueue, latch: Latch) async {
        while let namespace = await queue.next() {
            let sync = sync(for: namespace)
            do {
                if await sync.activated {
                    try await sync.reconcile()
                } else {
                    try await sync.activate()
                }
                await queue.forget(namespace)
                contacted()
                syncedNamespaces.insert(namespace)
                if pendingInitial?.remove(namespace) != nil, pendingInitial?.isEmpty == true { synced = true }
            } catch {
                if case .chainMoved = error {
                    logger.error("\(error)")
                    await latch.open()
                    return
                }
                await failed(namespace, "could not bring the namespace in line", error)
            }
        }
    }
}

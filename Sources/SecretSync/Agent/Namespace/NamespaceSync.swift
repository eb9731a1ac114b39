import KubeAPI
import Logging
import TimeFormat

/// Everything the leading agent does in one namespace, coordinated: its collaborators keep the
/// sealing keys (`SealingKeeper`), turn the sealed store into the Secret (`SecretReconciler`),
/// restart the Deployments that reload on what changed (`AgentRestart`), and extend the audit
/// chain with the agent's status (`AuditWriter`). Work flows one way: the reconcile and the
/// settings hand changed keys to the restart, whose batches come back here only to run in turn.
///
/// An actor that runs one operation at a time (the reconcile, the restarts and the reactions
/// to watched objects of one namespace never interleave), since each extends the same audit
/// chain and keys.
actor NamespaceSync {
    struct Settings: Sendable {
        var names: ObjectNames
        /// This replica's name, written into audit records and Events.
        var identity: String
        var policy: SignaturePolicy
        /// Deployments to restart, by name; empty: those annotated `beluga-ai.io/reload`.
        var deployments: [String]
        /// How long a superseded sealing key is kept after nothing uses it.
        var retireKeysAfter: Duration
        /// Changes coalesce into one restart within `debounce` of each other, for `maxDelay` at most.
        var debounce: Duration
        var maxDelay: Duration
        /// The agent's clock, which the restart batches wait on.
        var clock: AgentClock = .continuous
    }

    let namespace: String
    private let context: NamespaceContext
    private let audit: AuditWriter
    private let keeper: SealingKeeper
    private let reconciler: SecretReconciler
    private let restarts: AgentRestart
    /// Told of a failure of work this namespace started on its own (a restart batch), so that
    /// the agent reports it and tries the namespace again.
    private let onFailure: @Sendable (_ what: String, _ error: SyncError) async -> Void
    /// Asks for a reconcile of this namespace (when a key becomes overdue).
    private let onWake: @Sendable () async -> Void
    private var restartLoop: Task<Void, Never>?
    /// Sleeps until the next key becomes overdue, then asks for a reconcile: no request is
    /// made in between.
    private var wake: (deadline: UnixTime, task: Task<Void, Never>)?

    private var configBaseline: [String: [UInt8]]?
    /// A settings change whose record could not be written yet.
    private var settingsPending = false
    /// A change of the public-key ConfigMap not yet answered (its write failed).
    private var publicKeysPending = false
    /// Restarts that failed, made again by the next reconcile of the namespace.
    private var pendingRestarts: [RestartItem] = []
    private(set) var activated = false

    private var names: ObjectNames { context.names }
    private var logger: Logger { context.logger }

    init(
        namespace: String, settings: Settings, client: KubeClient, events: EventRecorder, sink: any AuditSink,
        logger: Logger, ownWrites: OwnWrites, cache: WatchCache,
        onFailure: @escaping @Sendable (_ what: String, _ error: SyncError) async -> Void,
        onWake: @escaping @Sendable () async -> Void = {}
    ) {
        self.namespace = namespace
        let context = NamespaceContext(
            namespace: namespace, settings: settings, client: client, events: events, sink: sink,
            logger: logger, ownWrites: ownWrites, cache: cache)
        self.context = context
        let audit = AuditWriter(context: context)
        let restarts = AgentRestart(
            context: context, audit: audit, debounce: settings.debounce, maxDelay: settings.maxDelay,
            clock: settings.clock)
        self.audit = audit
        self.restarts = restarts
        keeper = SealingKeeper(context: context, audit: audit)
        reconciler = SecretReconciler(context: context, audit: audit, restart: restarts)
        self.onFailure = onFailure
        self.onWake = onWake
    }

    // MARK: - One operation at a time

    // An actor runs other calls while one awaits; these operations all extend the same audit
    // chain and keys, so each runs to its end before the next starts.
    private var busy = false
    private var waiting: [CheckedContinuation<Void, Never>] = []

    private func acquire() async {
        if busy {
            await withCheckedContinuation { waiting.append($0) }
        } else {
            busy = true
        }
    }

    private func release() {
        if waiting.isEmpty {
            busy = false
        } else {
            waiting.removeFirst().resume()
        }
    }

    /// Takes over the namespace (see `activateUnlocked`).
    func activate() async throws(SyncError) {
        await acquire()
        defer { release() }
        try await activateUnlocked()
    }

    /// Brings the Secret in line with the sealed store, after what earlier failures left to do.
    func reconcile() async throws(SyncError) {
        await acquire()
        defer { release() }
        try await reconcileUnlocked()
    }

    /// Restarts what must restart; items that fail are kept and restarted by the next reconcile.
    func restart(_ items: [RestartItem], everything: Bool = false) async throws(SyncError) {
        await acquire()
        defer { release() }
        guard activated else { return }
        do {
            try await restarts.restart(items, everything: everything)
        } catch {
            pendingRestarts += items
            throw error
        }
    }

    /// Records a change of the settings ConfigMap (see `settingsChangedUnlocked`).
    func settingsChanged(_ object: ConfigMap?) async throws(SyncError) {
        await acquire()
        defer { release() }
        try await settingsChangedUnlocked(object)
    }

    /// Reacts to a change of the public-key ConfigMap (a rotation request, or an edit to undo);
    /// a failure is answered again by the next reconcile.
    func publicKeysChanged(_ object: ConfigMap?) async throws(SyncError) {
        await acquire()
        defer { release() }
        guard activated else { return }
        do {
            try await keeper.publicKeysChanged(object)
            publicKeysPending = false
        } catch {
            publicKeysPending = true
            throw error
        }
    }

    /// Ends the restart batches when the agent stops leading; with `finishing` (a graceful
    /// stop), the batch in flight and the changes still waiting are restarted first.
    func stop(finishing: Bool) async {
        wake?.task.cancel()
        wake = nil
        let rest = await restarts.close()
        guard finishing else {
            restartLoop?.cancel()
            return
        }
        await restartLoop?.value
        guard !rest.isEmpty else { return }
        do throws(SyncError) {
            try await restart(Array(rest))
        } catch {
            logger.warning("could not restart before stopping", metadata: ["error": "\(error)"])
        }
    }

    // MARK: - Taking over

    /// Prepares the namespace when this replica starts leading: the keys (made on first start),
    /// the audit chain and status where the last leader left them, the settings baseline, the
    /// content hash of Deployments that carry none (recorded, not rolled); then a full reconcile
    /// and a restart check of every Deployment, so that nothing changed while no agent led is
    /// missed.
    private func activateUnlocked() async throws(SyncError) {
        guard !activated else { return }
        let (keys, created) = try await keeper.ensureKeys()
        let headProblem = try await audit.resume(identity: keys.identity)
        configBaseline = try await context.reads.settings().map { ContentHash.content(ofConfigMap: $0.json) }
        activated = true
        startRestarts()
        if let headProblem, let head = await audit.status.auditHead {
            // Lines this agent cannot prove it wrote are never printed as its records; the
            // chain goes on from the head, and `audit --verify` shows the break if there is one.
            let message =
                "the audit head's lines were not printed again: \(headProblem); the chain goes on from record "
                + "\(head.seq)"
            logger.warning("audit head rejected", metadata: ["problem": "\(headProblem)"])
            await context.events.record(
                about: context.involved(nil, kind: "ConfigMap", name: names.status),
                warning: true, reason: "AuditHeadRejected", message: message)
            try await audit.record([
                AuditRecord(
                    event: .auditHeadRejected, namespace: namespace, secret: names.status,
                    reason: message)
            ])
        }
        if created {
            try await audit.record([
                AuditRecord(
                    event: .sealingKeyCreated, namespace: namespace, secret: names.sealingKeySecret,
                    reason:
                        "identity \(keys.identity.publicKey.signerID), sealing key \(keys.keyring.currentKeyID)"
                )
            ])
        }
        let auditSeq = await audit.status.auditHead?.seq ?? 0
        logger.info(
            "managing namespace",
            metadata: [
                "secret": "\(names.secret)", "sealed_store": "\(names.sealedStore)",
                "sealing_key": "\(keys.keyring.currentKeyID.hex)",
                "audit_seq": "\(auditSeq)",
            ])
        // Before the reconcile writes anything: the content the running pods were started with.
        try await restarts.recordBaseline()
        try await reconcileUnlocked()
        try await restarts.restart([], everything: true)
        try await keeper.reseal()
    }

    /// Runs the restart batches as they come due, each in turn with the other operations.
    private func startRestarts() {
        guard restartLoop == nil else { return }
        let restarts = self.restarts
        let onFailure = self.onFailure
        restartLoop = Task {
            while let batch = await restarts.nextBatch() {
                do throws(SyncError) {
                    try await self.restart(Array(batch))
                } catch {
                    await onFailure("could not restart", error)
                }
            }
        }
    }

    // MARK: - Reconcile

    private func reconcileUnlocked() async throws(SyncError) {
        guard activated, let keys = await keeper.keys else { return }
        if settingsPending {
            try await settingsChangedUnlocked(try await context.reads.settings())
        }
        if publicKeysPending {
            try await keeper.publicKeysChanged(try await context.reads.publicKeys())
            publicKeysPending = false
        }
        if !pendingRestarts.isEmpty {
            let items = pendingRestarts
            try await restarts.restart(items)
            pendingRestarts.removeAll { items.contains($0) }
        }
        guard let store = try await reconciler.reconcile(keys: keys) else { return }
        scheduleWake(at: await reconciler.nextKeyDeadline)
        if await keeper.needsReseal(store) { try await keeper.reseal() }
        AgentMetrics.reconciled(result: "success")
        AgentMetrics.synced()
    }

    /// Wakes the namespace just after `deadline` (replacing an earlier wake-up for another time).
    private func scheduleWake(at deadline: UnixTime?) {
        guard wake?.deadline != deadline else { return }
        wake?.task.cancel()
        wake = nil
        guard let deadline else { return }
        let clock = context.settings.clock
        let onWake = self.onWake
        // A second after the deadline, so that the key is past its age when the reconcile reads
        // the time, whatever the clocks' rounding.
        let delay = max(.zero, deadline - UnixTime.now()) + .seconds(1)
        wake = (
            deadline,
            Task {
                do { try await clock.sleep(for: delay) } catch { return }
                await onWake()
            }
        )
    }

    // MARK: - Settings

    /// Records the keys of the settings ConfigMap that changed and schedules the restart.
    private func settingsChangedUnlocked(_ object: ConfigMap?) async throws(SyncError) {
        guard activated else { return }
        let content = object.map { ContentHash.content(ofConfigMap: $0.json) }
        let records = ConfigChanges.records(
            namespace: namespace, configMap: names.configMap, before: configBaseline, after: content)
        guard !records.isEmpty else { return }
        // The restart first: it must not depend on the record being written.
        await restarts.schedule(
            records.map {
                RestartItem(namespace: namespace, object: .configMap(names.configMap), key: $0.key)
            })
        do {
            try await audit.record(records)
        } catch {
            // Recorded on the next reconcile of the namespace (see `reconcile`).
            settingsPending = true
            throw error
        }
        configBaseline = content
        settingsPending = false
        logger.info("settings changed", metadata: ["keys": "\(records.map(\.key).joined(separator: ","))"])
    }
}

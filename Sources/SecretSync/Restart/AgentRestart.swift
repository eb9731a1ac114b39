import KubeAPI

/// The agent's restart of the Deployments of one namespace. Changed keys come in from the
/// reconcile and the settings (`schedule`), wait for their debounced batch, and each batch (or
/// a new leader's check of everything) reads what the Deployments reload on, decides with
/// `RestartDecision`, patches the content hash where it differs, and records the rollouts: the
/// same read → decide → patch as `DeploymentRestarter` (`RestartStep`).
actor AgentRestart {
    private let context: NamespaceContext
    private let audit: AuditWriter
    private let scheduler: BatchScheduler<RestartItem, AgentClock>
    /// Rollouts made whose records could not be written yet (the Deployment already carries the
    /// new hash, so no later decision would record them again).
    private var unrecordedRollouts: [AuditRecord] = []
    /// The hashes `recordBaseline` recorded, by Deployment: what a read that does not show the
    /// record yet is taken to carry.
    private var baselines: [String: String] = [:]

    /// Whether a change's batch is due at once (`--debounce 0s`): the reconcile then restarts in
    /// its own pass (`roll`), and the rollouts are recorded with the change, in one status write.
    nonisolated let immediate: Bool

    init(
        context: NamespaceContext, audit: AuditWriter, debounce: Duration, maxDelay: Duration,
        clock: AgentClock
    ) {
        self.context = context
        self.audit = audit
        immediate = debounce <= .zero
        scheduler = BatchScheduler(quiet: debounce, maxDelay: maxDelay, clock: clock)
    }

    /// Adds changes to the next batch.
    func schedule(_ items: [RestartItem]) async {
        await scheduler.add(items)
    }

    /// The next due batch; `nil` once closed.
    func nextBatch() async -> Set<RestartItem>? {
        await scheduler.nextBatch()
    }

    /// Stops handing out batches; returns the changes still waiting.
    func close() async -> Set<RestartItem> {
        await scheduler.close()
        return await scheduler.drain()
    }

    /// Records, on each opted-in Deployment that carries no content hash, the hash of the content
    /// as it is before the agent's first reconcile (what its running pods were started with),
    /// without a rollout: a first start restarts nothing, and a later change rolls the pods once.
    func recordBaseline() async throws(SyncError) {
        let context = self.context
        let deployments = try await context.reads.deployments(named: context.settings.deployments)
        let unrecorded = deployments.filter { RestartDecision.recordedHash(of: $0) == nil }
        guard !unrecorded.isEmpty else { return }
        let contents = RestartStep.contents(
            secret: try await context.reads.secret(), settings: try await context.reads.settings(),
            names: context.names)
        for deployment in unrecorded {
            let decision = RestartDecision.decide(
                namespace: context.namespace, deployment: deployment.name,
                reloadAnnotation: deployment.metadata.annotations[ReloadAnnotation.name], currentHash: nil,
                contents: contents, recordFirst: true)
            context.logger.debug("\(decision)")
            guard decision.action == .record else { continue }
            do {
                let patched = try await RestartStep.patch(
                    decision, client: context.client, namespace: context.namespace)
                await context.reads.cache.wrote(patched, namespace: context.namespace)
            } catch  where error.category == .notFound {
                continue
            } catch {
                throw .api(error)
            }
            baselines[deployment.name] = decision.hash
            context.logger.info(
                "recorded the content hash of a deployment's running pods, without a restart",
                metadata: [
                    "deployment": "\(deployment.name)", "hash": "\(RestartDecision.short(decision.hash))",
                ])
        }
    }

    /// Patches the content hash of every Deployment that reloads on what changed and whose hash
    /// differs (with `everything`, of every opted-in Deployment: a new leader's check), and
    /// records the rollouts.
    func restart(_ items: [RestartItem], everything: Bool = false) async throws(SyncError) {
        let records = try await roll(items, everything: everything)
        guard !records.isEmpty else { return }
        do {
            try await audit.record(records)
        } catch {
            // Written with the next restart check (the agent tries again after a failure).
            unrecorded(records)
            throw error
        }
    }

    /// Rollout records the caller could not write: written with the next restart's.
    func unrecorded(_ records: [AuditRecord]) {
        unrecordedRollouts = records + unrecordedRollouts
    }

    /// `restart` without the recording: the rollout records made (after those an earlier write
    /// failed to record), for the caller to record; `unrecorded` takes them back if it cannot.
    func roll(_ items: [RestartItem], everything: Bool = false) async throws(SyncError) -> [AuditRecord] {
        guard everything || !items.isEmpty else { return [] }
        let context = self.context
        let namespace = context.namespace
        let deployments = try await context.reads.deployments(named: context.settings.deployments)
        guard !deployments.isEmpty else { return [] }
        let contents = RestartStep.contents(
            secret: try await context.reads.secret(), settings: try await context.reads.settings(),
            names: context.names)
        let changed = Set(items.map(\.object))
        var records: [AuditRecord] = []
        for deployment in deployments {
            let decision = RestartDecision.decide(
                namespace: namespace, deployment: deployment.name,
                reloadAnnotation: deployment.metadata.annotations[ReloadAnnotation.name],
                currentHash: RestartDecision.recordedHash(of: deployment) ?? baselines[deployment.name],
                contents: contents,
                changed: changed)
            context.logger.debug("\(decision)")
            guard decision.action == .restart else { continue }
            do {
                // Into the cache as the server answered, so that the next check (a resync may
                // come before the watch delivers the change) does not take the old hash for current.
                let patched = try await RestartStep.patch(
                    decision, client: context.client, namespace: namespace)
                await context.reads.cache.wrote(patched, namespace: namespace)
            } catch  where error.category == .notFound {
                continue
            } catch {
                unrecordedRollouts += records
                throw .api(error)
            }
            let keys = Set(items.filter { decision.objects.contains($0.object) }.map(\.key)).sorted()
            let forKeys = keys.isEmpty ? "" : "; keys " + keys.joined(separator: ", ")
            context.logger.info(
                "restarted a deployment",
                metadata: ["deployment": "\(deployment.name)", "reason": "\(decision.reason)"])
            AgentMetrics.rolledOut(namespace: namespace, deployment: deployment.name)
            records.append(
                AuditRecord(
                    event: .rolloutTriggered, namespace: namespace, secret: context.names.secret,
                    reason: "deployment \(deployment.name): \(decision.reason)\(forKeys)"))
            await context.events.record(
                about: InvolvedObject(deployment.json, kind: "Deployment", apiVersion: "apps/v1"),
                warning: false, reason: "RolloutTriggered",
                message: "pods restarted: \(decision.reason)\(forKeys)")
        }
        records = unrecordedRollouts + records
        unrecordedRollouts = []
        return records
    }
}

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

    init(
        context: NamespaceContext, audit: AuditWriter, debounce: Duration, maxDelay: Duration,
        clock: AgentClock
    ) {
        self.context = context
        self.audit = audit
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

    /// Patches the content hash of every Deployment that reloads on what changed and whose hash
    /// differs (with `everything`, of every opted-in Deployment: a new leader's check).
    func restart(_ items: [RestartItem], everything: Bool = false) async throws(SyncError) {
        guard everything || !items.isEmpty else { return }
        let context = self.context
        let namespace = context.namespace
        let deployments = try await context.reads.deployments(named: context.settings.deployments)
        guard !deployments.isEmpty else { return }
        let contents = RestartStep.contents(
            secret: try await context.reads.secret(), settings: try await context.reads.settings(),
            names: context.names)
        let changed = Set(items.map(\.object))
        var records: [AuditRecord] = []
        for deployment in deployments {
            let decision = RestartDecision.decide(
                namespace: namespace, deployment: deployment.name,
                reloadAnnotation: deployment.metadata.annotations[ReloadAnnotation.name],
                currentHash: deployment.templateAnnotations[ContentHash.annotation], contents: contents,
                changed: changed)
            context.logger.debug("\(decision)")
            guard decision.action == .restart else { continue }
            do {
                _ = try await RestartStep.patch(decision, client: context.client, namespace: namespace)
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
        guard !records.isEmpty else { return }
        do {
            try await audit.record(records)
            unrecordedRollouts = []
        } catch {
            // Written with the next restart check (the agent tries again after a failure).
            unrecordedRollouts = records
            throw error
        }
    }
}

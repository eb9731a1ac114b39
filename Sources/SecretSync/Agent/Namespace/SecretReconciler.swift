import JSONValue
import KubeAPI
import Sealing
import TimeFormat

/// Turns one namespace's sealed store into its Secret: reads the store, the live Secret and the
/// allowed signers, plans with `SecretPlan`, writes the Secret (conditioned on the version
/// read), records the outcome and status through the audit writer, reports Events, and hands
/// the changed keys to the agent's restart.
actor SecretReconciler {
    private let context: NamespaceContext
    private let audit: AuditWriter
    private let restart: AgentRestart
    private var reportedMissingStore = false
    /// What was last logged about the signers ConfigMap, so that it is logged once per change.
    private var reportedSigners: [String] = []
    /// When the next key becomes overdue (see `KeyAgePlan`): the namespace wakes then.
    private(set) var nextKeyDeadline: UnixTime?

    init(context: NamespaceContext, audit: AuditWriter, restart: AgentRestart) {
        self.context = context
        self.audit = audit
        self.restart = restart
    }

    private var names: ObjectNames { context.names }
    private var namespace: String { context.namespace }
    private var settings: NamespaceSync.Settings { context.settings }

    /// Brings the Secret in line with the sealed store with `keys`; the store it read, `nil`
    /// when there is none (the Secret is then left as it is).
    func reconcile(keys: AgentKeys) async throws(SyncError) -> SealedStore? {
        let context = self.context
        let names = self.names
        let namespace = self.namespace
        return try await context.retryOnConflict(
            kind: "Secret", name: names.secret, exhausted: { AgentMetrics.reconciled(result: "error") }
        ) { () async throws(SyncError) -> SealedStore? in
            guard let storeObject = try await context.reads.sealedStore() else {
                if !reportedMissingStore {
                    context.logger.warning(
                        "the sealed store is gone; leaving the Secret as it is",
                        metadata: ["configmap": "\(names.sealedStore)"])
                    reportedMissingStore = true
                }
                // The policy is followed without a store too: one the signers set before the
                // first key was stored holds once the signers' ConfigMap is gone.
                let recorded = await audit.status.signatures
                let policyRecord = try await readSigners(recorded: recorded).record
                if policyRecord != recorded {
                    try await audit.record([]) { $0.signatures = policyRecord }
                }
                return nil
            }
            reportedMissingStore = false
            let store = ReconcileInputs.store(storeObject.json)
            try await audit.reportInput(
                store.problems.compactMap(\.fieldProblem), source: "sealed-store",
                about: context.involved(storeObject.json, kind: "ConfigMap", name: names.sealedStore),
                keeping: "the agent goes on with the other envelopes and version records")
            let live = try await context.reads.secret()
            let status = await audit.status
            let signerPolicy = try await readSigners(recorded: status.signatures)
            let plan = ReconcileInputs.plan(
                namespace: namespace, names: names, store: store, live: live, status: status,
                signerPolicy: signerPolicy, keyring: keys.keyring, at: RFC3339.format(.now()))

            var written = live
            if let data = plan.desiredData {
                var secret = live ?? Secret(name: names.secret, namespace: namespace)
                if live == nil {
                    secret.type = "Opaque"
                    secret.metadata.labels = ["app.kubernetes.io/managed-by": "beluga-secrets"]
                }
                secret.data = data
                var annotations = secret.metadata.annotations
                annotations[SecretPlan.managedKeysAnnotation] =
                    plan.managedKeys.isEmpty ? nil : plan.managedKeys.joined(separator: ",")
                annotations[AppliedVersion.annotation] = AppliedVersion.text(plan.appliedVersions)
                secret.metadata.annotations = annotations
                do throws(KubeError) {
                    written = try await context.ownWrite(Secret.self, name: names.secret) {
                        () async throws(KubeError) in
                        live == nil
                            ? try await context.client.create(secret, namespace: namespace)
                            : try await context.client.replace(secret, namespace: namespace)
                    }
                } catch  where error.isConflict {
                    AgentMetrics.reconciled(result: "conflict")
                    throw .api(error)
                } catch  where error.category == .invalid {
                    // The values break a rule of the API server (all keys together above 1 MiB,
                    // an immutable Secret): refused like a bad envelope, the Secret unchanged.
                    AgentMetrics.reconciled(result: "error")
                    try await refuseWrite(plan, because: error, status: status.keys, live: live)
                    return nil
                } catch {
                    AgentMetrics.reconciled(result: "error")
                    throw .api(error)
                }
            }
            // Restarts are scheduled as soon as the Secret is written, so that a failure to
            // record the outcome cannot lose them (the restart check is idempotent). When their
            // batch is due at once (`--debounce 0s`), they are made here instead, so that the
            // rollouts' records go into the same status write as the change's.
            let restartKeys = plan.outcomes.filter {
                [.create, .rotate, .revertHandEdit, .delete, .recordApplied].contains($0.action)
            }.map(\.key)
            var rollouts: [AuditRecord] = []
            if !restartKeys.isEmpty {
                let items = restartKeys.map {
                    RestartItem(namespace: namespace, object: .secret(names.secret), key: $0)
                }
                if restart.immediate {
                    do throws(SyncError) {
                        rollouts = try await restart.roll(items)
                    } catch {
                        context.logger.warning(
                            "could not restart; trying again", metadata: ["error": "\(error)"])
                        await restart.schedule(items)
                    }
                } else {
                    await restart.schedule(items)
                }
            }
            let records = plan.auditRecords
            let policyRecord = signerPolicy.record
            // Together when they fit one batch of the audit head, so that a failed write leaves
            // no rollout recorded already (see `AuditWriter.record`).
            let together = records.count + rollouts.count <= AuditHead.maximumLines
            let first = together ? records + rollouts : records
            let rest = together ? [] : rollouts
            if plan.statusChanged || !first.isEmpty || policyRecord != status.signatures {
                let keys = plan.status
                let orphaned = plan.orphaned
                do throws(SyncError) {
                    try await audit.record(first) {
                        $0.keys = keys
                        $0.orphaned = orphaned
                        $0.signatures = policyRecord
                    }
                } catch {
                    await restart.unrecorded(rollouts)
                    throw error
                }
            }
            if !rest.isEmpty {
                do throws(SyncError) {
                    try await audit.record(rest)
                } catch {
                    await restart.unrecorded(rest)
                    throw error
                }
            }
            for outcome in plan.outcomes {
                switch outcome.action {
                case .create, .rotate, .revertHandEdit, .delete:
                    AgentMetrics.rotated(namespace: namespace, key: outcome.key)
                    context.logger.info(
                        "applied key",
                        metadata: [
                            "key": "\(outcome.key)", "action": "\(outcome.action.rawValue)",
                            "version": "\(outcome.version)", "fingerprint": "\(outcome.fingerprint)",
                        ])
                case .reject:
                    AgentMetrics.rejected(namespace: namespace, key: outcome.key)
                    context.logger.warning(
                        "refused an envelope; the previous value stays",
                        metadata: [
                            "key": "\(outcome.key)", "version": "\(outcome.version)",
                            "reason": "\(outcome.reason)",
                        ])
                case .recordApplied:
                    context.logger.info(
                        "recorded a value applied earlier", metadata: ["key": "\(outcome.key)"])
                case .orphan:
                    context.logger.warning(
                        "a key left the sealed store without a deletion; the Secret keeps it",
                        metadata: ["key": "\(outcome.key)", "version": "\(outcome.version)"])
                case .unchanged, .stillRejected:
                    break
                }
            }
            let about = context.involved(written?.json, kind: "Secret", name: names.secret)
            for event in plan.events {
                await context.events.record(
                    about: about, warning: event.warning, reason: event.reason, message: event.message)
            }
            updateAgeMetrics(store, keys: keys)
            try await checkKeyAges(store, object: storeObject.json)
            return store
        }
    }

    /// Applies the keys' maximum ages: reports bad entries of the annotation, exports each key's
    /// maximum age, and reports each key whose current version became overdue once (an audit
    /// record `key.overdue` and a Warning Event `KeyOverdue`), recording it in the status so that
    /// a restart does not report it again.
    private func checkKeyAges(_ store: SealedStore, object: JSON) async throws(SyncError) {
        try await audit.reportInput(
            store.maxAgeProblems, source: "key-max-age",
            about: context.involved(object, kind: "ConfigMap", name: names.sealedStore),
            keeping: "each key keeps the maximum age the agent last accepted")
        let previous = await audit.status.keyAge
        let plan = KeyAgePlan(store: store, previous: previous, now: .now())
        for key in Set(plan.maxAges.keys).union(previous.keys) {
            AgentMetrics.keyMaxAge(
                namespace: namespace, key: key, seconds: Double(plan.maxAges[key]?.seconds ?? 0))
        }
        nextKeyDeadline = plan.nextDeadline
        guard plan.records != previous || !plan.overdue.isEmpty else { return }
        let records = plan.overdue.map {
            AuditRecord(
                event: .keyOverdue, namespace: namespace, secret: names.secret, key: $0.key,
                version: $0.version, sealedBy: $0.sealedBy, sealedAt: $0.sealedAt,
                reason: "older than its maximum age \($0.maxAge) (age \($0.ageSeconds)s); rotate it")
        }
        let keyAge = plan.records
        try await audit.record(records) { $0.keyAge = keyAge }
        let about = context.involved(nil, kind: "Secret", name: names.secret)
        for overdue in plan.overdue {
            context.logger.warning(
                "a key is older than its maximum age",
                metadata: [
                    "key": "\(overdue.key)", "version": "\(overdue.version)", "max_age": "\(overdue.maxAge)",
                ])
            await context.events.record(
                about: about, warning: true, reason: "KeyOverdue",
                message:
                    "version \(overdue.version) of key \(overdue.key) is older than its maximum age \(overdue.maxAge); "
                    + "rotate it: beluga-secrets set \(overdue.key) -n \(namespace)")
        }
    }

    /// The namespace's allowed signers (none when the ConfigMap does not exist) and its policy:
    /// the annotation's when it is set (a value that is neither counts as `required`); else the
    /// stricter of the policy the annotation last set (`recorded`) and `--signatures`, so that
    /// deleting the ConfigMap or its annotation never weakens it silently. An agent that may not
    /// read the ConfigMap goes on with no signer under `optional` (unsigned envelopes still
    /// apply) and stops under `required`, where nothing could be verified.
    private func readSigners(recorded: PolicyRecord?) async throws(SyncError) -> SignerPolicy {
        let object: ConfigMap?
        var warnings: [String] = []
        let fallback = SignerPolicy.fallback(recorded: recorded, configured: settings.policy)
        do {
            object = try await context.reads.signers()
        } catch  where error.category == .forbidden && fallback == .optional {
            object = nil
            warnings.append("cannot read the allowed signers, so no signature can be verified: \(error)")
        } catch {
            throw .api(error)
        }
        let signers = ReconcileInputs.signers(object?.json)
        try await audit.reportInput(
            signers.problems.map {
                FieldProblem(
                    object: "ConfigMap \(context.namespace)/\(names.signers)", field: "", problem: "\($0)")
            }, source: "signers",
            about: context.involved(object?.json, kind: "ConfigMap", name: names.signers),
            keeping: "what it allows is left out")
        let result = SignerPolicy.decide(
            signers: signers, configMapExists: object != nil, recorded: recorded, configured: settings.policy,
            names: names, at: RFC3339.format(.now()))
        let source = result.source
        let summary =
            "signatures \(result.policy.rawValue) (\(source)); \(signers.signers.count) allowed signer"
            + "\(signers.signers.count == 1 ? "" : "s"), \(signers.removed.count) removed"
        let report = warnings + [summary] + (result.kept.map { [$0] } ?? [])
        if report != reportedSigners {
            reportedSigners = report
            for warning in warnings {
                context.logger.warning("\(warning)", metadata: ["configmap": "\(names.signers)"])
            }
            context.logger.info("\(summary)", metadata: ["configmap": "\(names.signers)"])
            if let kept = result.kept {
                context.logger.warning("\(kept)", metadata: ["configmap": "\(names.signers)"])
                await context.events.record(
                    about: context.involved(nil, kind: "Secret", name: names.secret), warning: true,
                    reason: "SignaturePolicyKept", message: kept)
            }
        }
        return result
    }

    /// Records the keys a refused Secret write would have changed as rejected (once per version
    /// and reason), with an Event; every other key keeps the status it had.
    private func refuseWrite(
        _ plan: SecretPlan, because error: KubeError, status previousStatus: [String: SyncStatus],
        live: Secret?
    ) async throws(SyncError) {
        let reason = "the API server refused the Secret: \(error.message)"
        var status = previousStatus
        var records: [AuditRecord] = []
        for outcome in plan.outcomes {
            switch outcome.action {
            case .create, .rotate, .revertHandEdit:
                let previous = previousStatus[outcome.key]
                if previous?.state == .rejected, previous?.version == outcome.version,
                    previous?.reason == reason
                {
                    continue
                }
                status[outcome.key] = SyncStatus(
                    state: .rejected, version: outcome.version, at: RFC3339.format(.now()), reason: reason)
                records.append(
                    AuditRecord(
                        event: .secretRejected, namespace: namespace, secret: names.secret, key: outcome.key,
                        version: outcome.version, fingerprint: outcome.fingerprint,
                        sealedBy: outcome.sealedBy,
                        sealedAt: outcome.sealedAt, signer: outcome.signer, signerKeyId: outcome.signerKeyId,
                        reason: reason))
            case .reject:
                status[outcome.key] = plan.status[outcome.key]
                records += plan.auditRecords.filter { $0.key == outcome.key }
            default:
                continue
            }
        }
        guard !records.isEmpty else { return }
        context.logger.warning(
            "the API server refused the Secret; the previous values stay", metadata: ["error": "\(error)"])
        let keys = status
        try await audit.record(records) { $0.keys = keys }
        let about = context.involved(live?.json, kind: "Secret", name: names.secret)
        for record in records {
            AgentMetrics.rejected(namespace: namespace, key: record.key)
            await context.events.record(
                about: about, warning: true, reason: "ValueRejected",
                message:
                    "version \(record.version) of key \(record.key) refused: \(record.reason); the previous value stays"
            )
        }
    }

    private func updateAgeMetrics(_ store: SealedStore, keys: AgentKeys) {
        let now = UnixTime.now()
        for (key, version) in store.versions {
            if let sealed = RFC3339.parse(version.sealedAt) {
                AgentMetrics.keyAge(namespace: namespace, key: key, seconds: (now - sealed).inSeconds)
            }
        }
        if let date = RFC3339.parse(keys.current.createdAt) {
            AgentMetrics.sealingKeyAge(namespace: namespace, seconds: (now - date).inSeconds)
        }
    }
}

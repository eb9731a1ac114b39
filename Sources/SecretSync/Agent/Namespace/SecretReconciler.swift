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
                return nil
            }
            reportedMissingStore = false
            let store = context.readStore(storeObject.json)
            for problem in store.problems { context.logger.warning("\(problem)") }
            let live = try await context.reads.secret()
            let managed =
                live?.metadata.annotations[SecretPlan.managedKeysAnnotation]?
                .split(separator: ",").map { $0.trimmingWhitespace() }
                .filter { !$0.isEmpty } ?? []
            let signers = try await readSigners()
            let plan = SecretPlan(
                namespace: namespace, secretName: names.secret, store: store, keyring: keys.keyring,
                live: live?.data, managed: managed, policy: signers.effectivePolicy(default: settings.policy),
                signers: signers,
                applied: AppliedVersion.parse(live?.metadata.annotations[AppliedVersion.annotation]),
                at: RFC3339.format(.now()))

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
                    try await refuseWrite(
                        plan, because: error, store: store, storeObject: storeObject, live: live)
                    return nil
                } catch {
                    AgentMetrics.reconciled(result: "error")
                    throw .api(error)
                }
            }
            // Restarts are scheduled as soon as the Secret is written, so that a failure to
            // record the outcome cannot lose them (the restart check is idempotent).
            let restartKeys = plan.outcomes.filter {
                [.create, .rotate, .revertHandEdit, .delete, .recordApplied].contains($0.action)
            }.map(\.key)
            if !restartKeys.isEmpty {
                await restart.schedule(
                    restartKeys.map {
                        RestartItem(namespace: namespace, object: .secret(names.secret), key: $0)
                    })
            }
            let records = plan.auditRecords
            if plan.statusChanged || !records.isEmpty {
                try await audit.record(records, status: plan.status, store: storeObject)
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
            return store
        }
    }

    /// The namespace's allowed signers (none when the ConfigMap does not exist). An agent that may
    /// not read them goes on with none under `optional` (unsigned envelopes still apply) and
    /// stops under `required`, where nothing could be verified.
    private func readSigners() async throws(SyncError) -> AllowedSigners {
        let signers: AllowedSigners
        var warnings: [String]
        do {
            let object = try await context.reads.signers()
            signers = object.map { AllowedSigners(lenientConfigMap: $0.json) } ?? AllowedSigners()
            warnings = signers.problems.map(\.description)
        } catch  where error.category == .forbidden && settings.policy == .optional {
            signers = AllowedSigners()
            warnings = ["cannot read the allowed signers, so no signature can be verified: \(error)"]
        } catch {
            throw .api(error)
        }
        let policy = signers.effectivePolicy(default: settings.policy)
        let source =
            signers.policy != nil || signers.invalidPolicy != nil
            ? "annotation \(AllowedSigners.policyAnnotation)" : "--signatures"
        let summary =
            "signatures \(policy.rawValue) (\(source)); \(signers.signers.count) allowed signer"
            + "\(signers.signers.count == 1 ? "" : "s"), \(signers.removed.count) removed"
        if warnings + [summary] != reportedSigners {
            reportedSigners = warnings + [summary]
            for warning in warnings {
                context.logger.warning("\(warning)", metadata: ["configmap": "\(names.signers)"])
            }
            context.logger.info("\(summary)", metadata: ["configmap": "\(names.signers)"])
        }
        return signers
    }

    /// Records the keys a refused Secret write would have changed as rejected (once per version
    /// and reason), with an Event; every other key keeps the status it had.
    private func refuseWrite(
        _ plan: SecretPlan, because error: KubeError, store: SealedStore, storeObject: ConfigMap,
        live: Secret?
    ) async throws(SyncError) {
        let reason = "the API server refused the Secret: \(error.message)"
        var status = store.status
        var records: [AuditRecord] = []
        for outcome in plan.outcomes {
            switch outcome.action {
            case .create, .rotate, .revertHandEdit:
                let previous = store.status[outcome.key]
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
        try await audit.record(records, status: status, store: storeObject)
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

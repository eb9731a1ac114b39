import Foundation
import JSONValue
import KubeAPI
import Logging
import Sealing

/// Everything the leading agent does in one namespace: keep its keys, turn the sealed store into
/// the Secret, record what changed in the audit chain, and restart the Deployments that reload
/// on what changed.
///
/// An actor, so that the reconcile, the restarts and the reactions to watched objects of one
/// namespace never interleave: each extends the same audit chain.
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
    }

    let namespace: String
    let settings: Settings
    private let client: KubeClient
    private let events: EventRecorder
    private let sink: any AuditSink
    private let logger: Logger
    private let schedule: @Sendable ([RestartItem]) async -> Void
    private let ownWrites: OwnWrites

    private var keys: AgentKeys?
    private var chain: AuditChain?
    private var configBaseline: [String: [UInt8]]?
    private var reportedMissingStore = false
    /// What was last logged about the signers ConfigMap, so that it is logged once per change.
    private var reportedSigners: [String] = []
    /// A settings change whose record could not be written yet.
    private var settingsPending = false
    /// A change of the public-key ConfigMap not yet answered (its write failed).
    private var publicKeysPending = false
    /// Restarts that failed, made again by the next reconcile of the namespace.
    private var pendingRestarts: [RestartItem] = []
    /// Rollouts made whose records could not be written yet (the Deployment already carries the
    /// new hash, so no later decision would record them again).
    private var unrecordedRollouts: [AuditRecord] = []
    private(set) var activated = false

    private var names: ObjectNames { settings.names }

    init(
        namespace: String, settings: Settings, client: KubeClient, events: EventRecorder, sink: any AuditSink,
        logger: Logger, ownWrites: OwnWrites,
        schedule: @escaping @Sendable ([RestartItem]) async -> Void
    ) {
        self.namespace = namespace
        self.settings = settings
        self.client = client
        self.events = events
        self.sink = sink
        var logger = logger
        logger[metadataKey: "namespace"] = "\(namespace)"
        self.logger = logger
        self.schedule = schedule
        self.ownWrites = ownWrites
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

    /// Brings the Secret in line with the sealed store (see `reconcileUnlocked`).
    func reconcile() async throws(SyncError) {
        await acquire()
        defer { release() }
        try await reconcileUnlocked()
    }

    /// Restarts what must restart (see `restartUnlocked`); items that fail are kept and
    /// restarted by the next reconcile.
    func restart(_ items: [RestartItem], everything: Bool = false) async throws(SyncError) {
        await acquire()
        defer { release() }
        do {
            try await restartUnlocked(items, everything: everything)
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

    /// Reacts to a change of the public-key ConfigMap (see `publicKeysChangedUnlocked`).
    /// A failure is answered again by the next reconcile.
    func publicKeysChanged(_ object: ConfigMap?) async throws(SyncError) {
        await acquire()
        defer { release() }
        do {
            try await publicKeysChangedUnlocked(object)
            publicKeysPending = false
        } catch {
            publicKeysPending = true
            throw error
        }
    }

    // MARK: - Taking over

    /// Prepares the namespace when this replica starts leading: the sealed store, the keys (made
    /// on first start), the audit chain where the last leader left it, the settings baseline;
    /// then a full reconcile and a restart check of every Deployment, so that nothing changed
    /// while no agent led is missed.
    private func activateUnlocked() async throws(SyncError) {
        guard !activated else { return }
        let storeObject = try await ensureStore()
        let created = try await ensureKeys()
        let store = readStore(storeObject.json)
        let head = store.auditHead
        if let head, !head.lines.isEmpty {
            // The previous leader may have stopped between recording these and printing them.
            await sink.emit(head.lines)
        }
        chain = AuditChain(namespace: namespace, seq: head?.seq ?? 0, hash: head?.hash ?? "")
        configBaseline = try await readSettings()
        activated = true
        if created, let keys {
            try await record([
                AuditRecord(
                    event: .sealingKeyCreated, namespace: namespace, secret: names.sealingKeySecret,
                    reason:
                        "identity \(keys.identity.publicKey.signerID), sealing key \(keys.keyring.currentKeyID)"
                )
            ])
        }
        logger.info(
            "managing namespace",
            metadata: [
                "secret": "\(names.secret)", "sealed_store": "\(names.sealedStore)",
                "sealing_key": "\(keys?.keyring.currentKeyID.hex ?? "")", "audit_seq": "\(head?.seq ?? 0)",
            ])
        try await reconcileUnlocked()
        try await restartUnlocked([], everything: true)
        try await reseal()
    }

    /// Creates an empty sealed store when there is none, so the agent has where to record its
    /// status and audit head (the CLI and Helm write into it the same way).
    private func ensureStore() async throws(SyncError) -> ConfigMap {
        if let existing = try await api({ () async throws(KubeError) in
            try await client.getIfPresent(ConfigMap.self, name: names.sealedStore, namespace: namespace)
        }) {
            return existing
        }
        var object = ConfigMap(
            json: SealedStore().newConfigMap(
                name: names.sealedStore, namespace: namespace,
                labels: ["app.kubernetes.io/managed-by": "beluga-secrets"]))
        object.metadata.namespace = namespace
        do {
            let created = try await ownWrite(ConfigMap.self, name: names.sealedStore) {
                () async throws(KubeError) in
                try await client.create(object, namespace: namespace)
            }
            logger.info("created the empty sealed store", metadata: ["configmap": "\(names.sealedStore)"])
            return created
        } catch  where error.category == .alreadyExists {
            return try await api { () async throws(KubeError) in
                try await client.get(ConfigMap.self, name: names.sealedStore, namespace: namespace)
            }
        } catch {
            throw .api(error)
        }
    }

    // MARK: - Keys

    /// Loads the sealing keys, or makes them on first start; publishes the public keys. Returns
    /// whether the keys were made now.
    private func ensureKeys() async throws(SyncError) -> Bool {
        var created = false
        let stored = try await api { () async throws(KubeError) in
            try await client.getIfPresent(Secret.self, name: names.sealingKeySecret, namespace: namespace)
        }
        if let stored {
            let loaded: AgentKeys
            do {
                loaded = try AgentKeys(secretData: stored.data, secretName: names.sealingKeySecret)
            } catch {
                throw .keys(error)
            }
            keys = loaded
            if loaded.secretData() != stored.data {
                // Entries were completed or re-signed while loading: store them.
                try await writeKeys(over: stored)
            }
        } else {
            let fresh = AgentKeys.create(at: Timestamp.now())
            var secret = Secret(name: names.sealingKeySecret, namespace: namespace)
            secret.type = "Opaque"
            secret.metadata.labels = ["app.kubernetes.io/managed-by": "beluga-secrets"]
            secret.data = fresh.secretData()
            do {
                _ = try await counted { () async throws(KubeError) in
                    try await client.create(secret, namespace: namespace)
                }
                keys = fresh
                created = true
                logger.info(
                    "created the sealing keys",
                    metadata: [
                        "kid": "\(fresh.keyring.currentKeyID)",
                        "identity": "\(fresh.identity.publicKey.signerID)",
                    ])
            } catch  where error.category == .alreadyExists {
                return try await ensureKeys()
            } catch {
                throw .api(error)
            }
        }
        try await publishKeys(removingRequest: false)
        return created
    }

    private func writeKeys(over stored: Secret?) async throws(SyncError) {
        guard let keys else { return }
        var read = stored
        try await retryOnConflict(kind: "Secret", name: names.sealingKeySecret) {
            () async throws(SyncError) in
            var current: Secret
            if let read {
                current = read
            } else {
                current = try await api { () async throws(KubeError) in
                    try await client.get(Secret.self, name: names.sealingKeySecret, namespace: namespace)
                }
            }
            read = nil
            current.data = keys.secretData()
            _ = try await api { () async throws(KubeError) in
                try await client.replace(current, namespace: namespace)
            }
        }
    }

    /// Writes the public-key ConfigMap from the keys when it differs (or lacks the request
    /// annotation's removal).
    private func publishKeys(removingRequest: Bool) async throws(SyncError) {
        guard let keys else { return }
        let wanted = keys.publicKeyData()
        try await retryOnConflict(kind: "ConfigMap", name: names.publicKeyConfigMap) {
            () async throws(SyncError) in
            let existing = try await api { () async throws(KubeError) in
                try await client.getIfPresent(
                    ConfigMap.self, name: names.publicKeyConfigMap, namespace: namespace)
            }
            do throws(KubeError) {
                if var existing {
                    var annotations = existing.metadata.annotations
                    let hadRequest =
                        annotations.removeValue(forKey: SealingKeyRotation.requestAnnotation) != nil
                    guard existing.data != wanted || (removingRequest && hadRequest) else { return }
                    if existing.data != wanted, !removingRequest {
                        logger.warning(
                            "the public-key ConfigMap did not match the agent's keys; rewriting it",
                            metadata: ["configmap": "\(names.publicKeyConfigMap)"])
                    }
                    existing.data = wanted
                    if removingRequest { existing.metadata.annotations = annotations }
                    _ = try await counted { () async throws(KubeError) in
                        try await client.replace(existing, namespace: namespace)
                    }
                } else {
                    var object = ConfigMap(name: names.publicKeyConfigMap, namespace: namespace)
                    object.metadata.labels = ["app.kubernetes.io/managed-by": "beluga-secrets"]
                    object.data = wanted
                    _ = try await counted { () async throws(KubeError) in
                        try await client.create(object, namespace: namespace)
                    }
                }
            } catch {
                throw .api(error)
            }
        }
    }

    /// Reacts to a change of the public-key ConfigMap: a rotation request, or an edit to undo.
    private func publicKeysChangedUnlocked(_ object: ConfigMap?) async throws(SyncError) {
        guard activated, let keys else { return }
        if object?.metadata.annotations[SealingKeyRotation.requestAnnotation] != nil {
            try await rotateSealingKey()
        } else if object?.data != keys.publicKeyData() {
            try await publishKeys(removingRequest: false)
        }
    }

    /// Makes a new current sealing key, publishes it, and re-seals the stored envelopes to it.
    private func rotateSealingKey() async throws(SyncError) {
        guard activated, var keys else { return }
        let previous = keys.keyring.currentKeyID
        let entry = keys.rotate(at: Timestamp.now())
        self.keys = keys
        try await writeKeys(over: nil)
        try await publishKeys(removingRequest: true)
        logger.info("rotated the sealing key", metadata: ["kid": "\(entry.kid)", "previous": "\(previous)"])
        try await record([
            AuditRecord(
                event: .sealingKeyRotated, namespace: namespace, secret: names.sealingKeySecret,
                reason:
                    "new current sealing key \(entry.kid) (was \(previous)); stored envelopes are re-sealed to it"
            )
        ])
        try await reseal()
    }

    /// Re-seals every stored envelope (current and kept versions) that is sealed to a previous
    /// key, to the current key, keeping its binding, author, time and version; then retires the
    /// previous keys nothing uses any more. Signed envelopes are left as they are (re-sealing
    /// would break the operator's signature); their key stays until they are replaced.
    private func reseal() async throws(SyncError) {
        guard let keys else { return }
        let current = keys.keyring.current.publicKey
        let resealed = try await retryOnConflict(kind: "ConfigMap", name: names.sealedStore) {
            () async throws(SyncError) -> (count: Int, from: Set<String>)? in
            guard
                let object = try await api({ () async throws(KubeError) in
                    try await client.getIfPresent(
                        ConfigMap.self, name: names.sealedStore, namespace: namespace)
                })
            else { return nil }
            var store = readStore(object.json)
            guard store.problems.isEmpty else {
                logger.warning("not re-sealing: the sealed store's annotations are damaged")
                return nil
            }
            var count = 0
            var from: Set<String> = []
            func resealed(_ text: String, key: String) -> String? {
                guard let envelope = try? Envelope.parse(text), envelope.format == .v1,
                    envelope.keyID != current.keyID, keys.keyring[envelope.keyID] != nil,
                    let binding = try? SecretBinding(namespace: namespace, secret: names.secret, key: key),
                    let payload = try? keys.keyring.open(envelope, expecting: binding),
                    let fresh = try? Envelope.seal(
                        payload.value, for: binding, to: current, sealedBy: payload.sealedBy,
                        sealedAt: payload.sealedAt)
                else { return nil }
                count += 1
                from.insert(envelope.keyID.hex)
                return fresh.text
            }
            for key in store.keys {
                if let text = store.envelopes[key], let fresh = resealed(text, key: key) {
                    store.envelopes[key] = fresh
                }
                guard var version = store.versions[key] else { continue }
                for index in version.history.indices {
                    if let fresh = resealed(version.history[index].envelope, key: key) {
                        version.history[index].envelope = fresh
                    }
                }
                store.versions[key] = version
            }
            guard count > 0 else { return (count, from) }
            let updated = ConfigMap(json: store.writingEnvelopesAndVersions(into: object.json))
            _ = try await api { () async throws(KubeError) in
                try await client.replace(updated, namespace: namespace)
            }
            return (count, from)
        }
        if let resealed, resealed.count > 0 {
            let (count, from) = resealed
            logger.info(
                "re-sealed stored envelopes", metadata: ["count": "\(count)", "to": "\(current.keyID)"])
            try await record([
                AuditRecord(
                    event: .sealingKeyRotated, namespace: namespace, secret: names.sealedStore,
                    reason: "re-sealed \(count) stored envelope\(count == 1 ? "" : "s") from sealing key "
                        + "\(from.sorted().joined(separator: ", ")) to \(current.keyID)")
            ])
        }
        try await retireUnusedKeys()
    }

    /// Whether a stored format-1 envelope is sealed to a previous key this agent holds (a
    /// re-seal that failed, or envelopes written with an old public key since).
    private func needsReseal(_ store: SealedStore) -> Bool {
        guard let keys, keys.keyring.keyIDs.count > 1 else { return false }
        let current = keys.keyring.currentKeyID
        let texts =
            Array(store.envelopes.values) + store.versions.values.flatMap { $0.history.map(\.envelope) }
        return texts.contains { text in
            guard let envelope = try? Envelope.parse(text) else { return false }
            return envelope.format == .v1 && envelope.keyID != current && keys.keyring[envelope.keyID] != nil
        }
    }

    /// Retires previous sealing keys that no stored envelope uses, once they have been
    /// superseded for `retireKeysAfter` (envelopes kept in git may still need them until then).
    private func retireUnusedKeys() async throws(SyncError) {
        guard var keys, !keys.previousKeys.isEmpty else { return }
        guard
            let object = try await api({ () async throws(KubeError) in
                try await client.getIfPresent(ConfigMap.self, name: names.sealedStore, namespace: namespace)
            })
        else { return }
        let store = readStore(object.json)
        guard store.problems.isEmpty else { return }
        var used: Set<String> = []
        for text in store.envelopes.values {
            if let envelope = try? Envelope.parse(text) { used.insert(envelope.keyID.hex) }
        }
        for version in store.versions.values {
            for entry in version.history {
                if let envelope = try? Envelope.parse(entry.envelope) { used.insert(envelope.keyID.hex) }
            }
        }
        var retired: [String] = []
        let now = Date()
        for (kid, supersededAt) in keys.previousKeys where !used.contains(kid.hex) {
            let since = Timestamp.parse(supersededAt) ?? .distantPast
            guard now.timeIntervalSince(since) >= settings.retireKeysAfter.seconds else { continue }
            keys.retire(kid)
            retired.append(kid.hex)
        }
        guard !retired.isEmpty else { return }
        self.keys = keys
        try await writeKeys(over: nil)
        try await publishKeys(removingRequest: false)
        logger.info(
            "retired sealing keys no envelope uses", metadata: ["kids": "\(retired.joined(separator: ","))"])
        try await record([
            AuditRecord(
                event: .sealingKeyRotated, namespace: namespace, secret: names.sealingKeySecret,
                reason:
                    "retired sealing key\(retired.count == 1 ? "" : "s") \(retired.joined(separator: ", ")): "
                    + "no stored envelope uses \(retired.count == 1 ? "it" : "them")")
        ])
    }

    // MARK: - Reconcile

    /// Brings the Secret in line with the sealed store (see `SecretPlan`), records the outcome,
    /// and hands the changed keys to the restart scheduler.
    private func reconcileUnlocked() async throws(SyncError) {
        guard activated, let keys else { return }
        if settingsPending {
            let current = try await api { () async throws(KubeError) in
                try await client.getIfPresent(ConfigMap.self, name: names.configMap, namespace: namespace)
            }
            try await settingsChangedUnlocked(current)
        }
        if publicKeysPending {
            let current = try await api { () async throws(KubeError) in
                try await client.getIfPresent(
                    ConfigMap.self, name: names.publicKeyConfigMap, namespace: namespace)
            }
            try await publicKeysChangedUnlocked(current)
            publicKeysPending = false
        }
        if !pendingRestarts.isEmpty {
            let items = pendingRestarts
            try await restartUnlocked(items)
            pendingRestarts.removeAll { items.contains($0) }
        }
        try await retryOnConflict(
            kind: "Secret", name: names.secret, exhausted: { AgentMetrics.reconciled(result: "error") }
        ) { () async throws(SyncError) in
            guard
                let storeObject = try await api({ () async throws(KubeError) in
                    try await client.getIfPresent(
                        ConfigMap.self, name: names.sealedStore, namespace: namespace)
                })
            else {
                if !reportedMissingStore {
                    logger.warning(
                        "the sealed store is gone; leaving the Secret as it is",
                        metadata: ["configmap": "\(names.sealedStore)"])
                    reportedMissingStore = true
                }
                return
            }
            reportedMissingStore = false
            let store = readStore(storeObject.json)
            for problem in store.problems { logger.warning("\(problem)") }
            let live = try await api { () async throws(KubeError) in
                try await client.getIfPresent(Secret.self, name: names.secret, namespace: namespace)
            }
            let managed =
                live?.metadata.annotations[SecretPlan.managedKeysAnnotation]?
                .split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }
                .filter { !$0.isEmpty } ?? []
            let signers = try await readSigners()
            let plan = SecretPlan(
                namespace: namespace, secretName: names.secret, store: store, keyring: keys.keyring,
                live: live?.data, managed: managed, policy: signers.effectivePolicy(default: settings.policy),
                signers: signers,
                applied: AppliedVersion.parse(live?.metadata.annotations[AppliedVersion.annotation]),
                at: Timestamp.now())

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
                    written = try await ownWrite(Secret.self, name: names.secret) {
                        () async throws(KubeError) in
                        live == nil
                            ? try await client.create(secret, namespace: namespace)
                            : try await client.replace(secret, namespace: namespace)
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
                    return
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
                await schedule(
                    restartKeys.map {
                        RestartItem(namespace: namespace, object: .secret(names.secret), key: $0)
                    })
            }
            let records = plan.auditRecords
            if plan.statusChanged || !records.isEmpty {
                try await record(records, status: plan.status, store: storeObject)
            }
            for outcome in plan.outcomes {
                switch outcome.action {
                case .create, .rotate, .revertHandEdit, .delete:
                    AgentMetrics.rotated(namespace: namespace, key: outcome.key)
                    logger.info(
                        "applied key",
                        metadata: [
                            "key": "\(outcome.key)", "action": "\(outcome.action.rawValue)",
                            "version": "\(outcome.version)", "fingerprint": "\(outcome.fingerprint)",
                        ])
                case .reject:
                    AgentMetrics.rejected(namespace: namespace, key: outcome.key)
                    logger.warning(
                        "refused an envelope; the previous value stays",
                        metadata: [
                            "key": "\(outcome.key)", "version": "\(outcome.version)",
                            "reason": "\(outcome.reason)",
                        ])
                case .recordApplied:
                    logger.info("recorded a value applied earlier", metadata: ["key": "\(outcome.key)"])
                case .unchanged, .stillRejected:
                    break
                }
            }
            let about = InvolvedObject(
                written?.json
                    ?? [
                        "kind": "Secret", "apiVersion": "v1",
                        "metadata": ["name": .string(names.secret), "namespace": .string(namespace)],
                    ])
            for event in plan.events {
                await events.record(
                    about: about, warning: event.warning, reason: event.reason, message: event.message)
            }
            updateAgeMetrics(store)
            if needsReseal(store) { try await reseal() }
            AgentMetrics.reconciled(result: "success")
            AgentMetrics.synced()
        }
    }

    /// The namespace's allowed signers (none when the ConfigMap does not exist). An agent that may
    /// not read them goes on with none under `optional` (unsigned envelopes still apply) and
    /// stops under `required`, where nothing could be verified.
    private func readSigners() async throws(SyncError) -> AllowedSigners {
        let signers: AllowedSigners
        var warnings: [String]
        do {
            let object = try await counted { () async throws(KubeError) in
                try await client.getIfPresent(ConfigMap.self, name: names.signers, namespace: namespace)
            }
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
                logger.warning("\(warning)", metadata: ["configmap": "\(names.signers)"])
            }
            logger.info("\(summary)", metadata: ["configmap": "\(names.signers)"])
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
                    state: .rejected, version: outcome.version, at: Timestamp.now(), reason: reason)
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
        logger.warning(
            "the API server refused the Secret; the previous values stay", metadata: ["error": "\(error)"])
        try await record(records, status: status, store: storeObject)
        let about = InvolvedObject(
            live?.json
                ?? [
                    "kind": "Secret", "apiVersion": "v1",
                    "metadata": ["name": .string(names.secret), "namespace": .string(namespace)],
                ])
        for record in records {
            AgentMetrics.rejected(namespace: namespace, key: record.key)
            await events.record(
                about: about, warning: true, reason: "ValueRejected",
                message:
                    "version \(record.version) of key \(record.key) refused: \(record.reason); the previous value stays"
            )
        }
    }

    private func updateAgeMetrics(_ store: SealedStore) {
        let now = Date()
        for (key, version) in store.versions {
            if let sealed = Timestamp.parse(version.sealedAt) {
                AgentMetrics.keyAge(namespace: namespace, key: key, seconds: now.timeIntervalSince(sealed))
            }
        }
        if let created = keys?.current.createdAt, let date = Timestamp.parse(created) {
            AgentMetrics.sealingKeyAge(namespace: namespace, seconds: now.timeIntervalSince(date))
        }
    }

    // MARK: - Settings

    private func readSettings() async throws(SyncError) -> [String: [UInt8]]? {
        let object = try await api { () async throws(KubeError) in
            try await client.getIfPresent(ConfigMap.self, name: names.configMap, namespace: namespace)
        }
        return object.map { ContentHash.content(ofConfigMap: $0.json) }
    }

    /// Records the keys of the settings ConfigMap that changed and schedules the restart.
    private func settingsChangedUnlocked(_ object: ConfigMap?) async throws(SyncError) {
        guard activated else { return }
        let content = object.map { ContentHash.content(ofConfigMap: $0.json) }
        let records = ConfigChanges.records(
            namespace: namespace, configMap: names.configMap, before: configBaseline, after: content)
        guard !records.isEmpty else { return }
        // The restart first: it must not depend on the record being written.
        await schedule(
            records.map {
                RestartItem(namespace: namespace, object: .configMap(names.configMap), key: $0.key)
            })
        do {
            try await record(records)
        } catch {
            // Recorded on the next reconcile of the namespace (see `reconcile`).
            settingsPending = true
            throw error
        }
        configBaseline = content
        settingsPending = false
        logger.info("settings changed", metadata: ["keys": "\(records.map(\.key).joined(separator: ","))"])
    }

    // MARK: - Restart

    /// Patches the content hash of every Deployment that reloads on what changed and whose hash
    /// differs (with `everything`, of every opted-in Deployment: a new leader's check).
    private func restartUnlocked(_ items: [RestartItem], everything: Bool = false) async throws(SyncError) {
        guard activated else { return }
        guard everything || !items.isEmpty else { return }
        let deployments = try await targetDeployments()
        guard !deployments.isEmpty else { return }
        let secret = try await api { () async throws(KubeError) in
            try await client.getIfPresent(Secret.self, name: names.secret, namespace: namespace)
        }
        let settingsMap = try await api { () async throws(KubeError) in
            try await client.getIfPresent(ConfigMap.self, name: names.configMap, namespace: namespace)
        }
        let contents: [ObjectReference: [String: [UInt8]]?] = [
            .secret(names.secret): secret.map { ContentHash.content(ofSecret: $0.json) },
            .configMap(names.configMap): settingsMap.map { ContentHash.content(ofConfigMap: $0.json) },
        ]
        let changed = Set(items.map(\.object))
        var records: [AuditRecord] = []
        for deployment in deployments {
            let decision = RestartDecision.decide(
                namespace: namespace, deployment: deployment.name,
                reloadAnnotation: deployment.metadata.annotations[ReloadAnnotation.name],
                currentHash: deployment.templateAnnotations[ContentHash.annotation], contents: contents,
                changed: changed)
            logger.debug("\(decision)")
            guard decision.action == .restart else { continue }
            do {
                _ = try await counted { () async throws(KubeError) in
                    try await client.patch(
                        Deployment.self, name: deployment.name, namespace: namespace,
                        patch: .merge(decision.patch))
                }
            } catch  where error.category == .notFound {
                continue
            } catch {
                unrecordedRollouts += records
                throw .api(error)
            }
            let keys = Set(items.filter { decision.objects.contains($0.object) }.map(\.key)).sorted()
            let forKeys = keys.isEmpty ? "" : "; keys " + keys.joined(separator: ", ")
            logger.info(
                "restarted a deployment",
                metadata: ["deployment": "\(deployment.name)", "reason": "\(decision.reason)"])
            AgentMetrics.rolledOut(namespace: namespace, deployment: deployment.name)
            records.append(
                AuditRecord(
                    event: .rolloutTriggered, namespace: namespace, secret: names.secret,
                    reason: "deployment \(deployment.name): \(decision.reason)\(forKeys)"))
            await events.record(
                about: InvolvedObject(deployment.json, kind: "Deployment", apiVersion: "apps/v1"),
                warning: false, reason: "RolloutTriggered",
                message: "pods restarted: \(decision.reason)\(forKeys)")
        }
        records = unrecordedRollouts + records
        guard !records.isEmpty else { return }
        do {
            try await record(records)
            unrecordedRollouts = []
        } catch {
            // Written with the next restart check (the agent tries again after a failure).
            unrecordedRollouts = records
            throw error
        }
    }

    private func targetDeployments() async throws(SyncError) -> [Deployment] {
        if !settings.deployments.isEmpty {
            var found: [Deployment] = []
            for name in settings.deployments {
                if let deployment = try await api({ () async throws(KubeError) in
                    try await client.getIfPresent(Deployment.self, name: name, namespace: namespace)
                }) {
                    found.append(deployment)
                }
            }
            return found
        }
        let list = try await api { () async throws(KubeError) in
            try await client.listAll(Deployment.self, namespace: namespace)
        }
        return list.items.filter { $0.metadata.annotations[ReloadAnnotation.name] != nil }
    }

    // MARK: - Audit

    /// Numbers, links and signs `records`, persists the new audit head (with `status`, when
    /// given) in the sealed store in one merge patch conditioned on its `resourceVersion`, and
    /// only then prints the lines: a record is never printed that the chain does not hold.
    private func record(
        _ records: [AuditRecord], status: [String: SyncStatus]? = nil, store object: ConfigMap? = nil
    ) async throws(SyncError) {
        guard let keys, var chain else { return }
        // Bounded batches keep the head annotation small.
        var batches = stride(from: 0, to: records.count, by: 64).map {
            Array(records[$0..<min($0 + 64, records.count)])
        }
        if batches.isEmpty { batches = [[]] }
        var current = object
        var status = status
        for batch in batches {
            try await retryOnConflict(kind: "ConfigMap", name: names.sealedStore) {
                () async throws(SyncError) in
                let storeObject: ConfigMap
                if let current {
                    storeObject = current
                } else {
                    guard
                        let fetched = try await api({ () async throws(KubeError) in
                            try await client.getIfPresent(
                                ConfigMap.self, name: names.sealedStore, namespace: namespace)
                        })
                    else {
                        throw .storeMissing(names.sealedStore)
                    }
                    storeObject = fetched
                }
                var store = readStore(storeObject.json)
                if let head = store.auditHead,
                    head.seq > chain.seq || (head.seq == chain.seq && head.hash != chain.hash)
                {
                    throw .chainMoved(seq: head.seq)
                }
                let lines = chain.prepare(
                    batch, ts: Timestamp.now(), agent: settings.identity, identity: keys.identity)
                if let status { store.status = status }
                store.auditHead = AuditHead(
                    seq: lines.last?.record.seq ?? chain.seq, hash: lines.last?.hash ?? chain.hash,
                    lines: lines.map(\.text))
                var patch = store.statusPatch()
                patch[path: "metadata", "resourceVersion"] = storeObject.resourceVersion.map { .string($0) }
                do throws(KubeError) {
                    _ = try await ownWrite(ConfigMap.self, name: names.sealedStore) {
                        () async throws(KubeError) in
                        try await client.patch(
                            ConfigMap.self, name: names.sealedStore, namespace: namespace,
                            patch: .merge(patch))
                    }
                } catch {
                    current = nil
                    throw .api(error)
                }
                chain.commit(lines)
                self.chain = chain
                await sink.emit(lines.map(\.text))
            }
            current = nil
            status = nil
        }
    }

    /// Makes one write of an object the agent watches, announced to `ownWrites` so that the
    /// watch event echoing it starts no reconcile.
    private func ownWrite<T: KubeObject>(
        _ type: T.Type, name: String, _ call: () async throws(KubeError) -> T
    ) async throws(KubeError) -> T {
        await ownWrites.begin(T.self, namespace: namespace, name: name)
        do {
            let result = try await counted(call)
            await ownWrites.end(T.self, namespace: namespace, name: name, version: result.resourceVersion)
            return result
        } catch {
            await ownWrites.end(T.self, namespace: namespace, name: name, version: nil)
            throw error
        }
    }

    /// The store as the agent reads it: leniently, since the envelopes alone are enough to
    /// reconcile (damaged annotations are reported in `problems`).
    private func readStore(_ json: JSON) -> SealedStore {
        (try? SealedStore(configMap: json, lenient: true)) ?? SealedStore()
    }

    /// One read-modify-write of `object`, replayed after conflicts by the agent's rule; when the
    /// conflicts outlast it, `conflictPersisted` (reported and retried later by the agent).
    private func retryOnConflict<T>(
        kind: String, name: String, exhausted: () -> Void = {}, _ body: () async throws(SyncError) -> T
    ) async throws(SyncError) -> T {
        let object = InvolvedObject(kind: kind, apiVersion: "v1", namespace: namespace, name: name)
        return try await ConflictRetry.agent.run(
            isConflict: \.isConflict,
            exhausted: { attempts, _ in
                exhausted()
                return .conflictPersisted(object: object, attempts: attempts)
            }
        ) { (_: Int) async throws(SyncError) -> T in try await body() }
    }

    private func api<T>(_ call: () async throws(KubeError) -> T) async throws(SyncError) -> T {
        do {
            return try await counted(call)
        } catch {
            throw .api(error)
        }
    }
}

/// Why a namespace could not be brought in line (it is tried again).
enum SyncError: Error, CustomStringConvertible {
    case api(KubeError)
    case keys(AgentKeysError)
    case storeMissing(String)
    /// Another agent extended the audit chain: this one must not act as leader.
    case chainMoved(seq: Int)
    /// Other writers kept changing `object` while the agent wrote it, past its conflict retries.
    case conflictPersisted(object: InvolvedObject, attempts: Int)

    /// A 409 from the API (retried by `ConflictRetry`).
    var isConflict: Bool {
        if case .api(let error) = self { return error.isConflict }
        return false
    }

    var description: String {
        switch self {
        case .api(let error): return error.description
        case .keys(let error): return error.description
        case .storeMissing(let name): return "the sealed store ConfigMap \"\(name)\" is gone"
        case .chainMoved(let seq):
            return
                "another agent extended the audit chain (to \(seq)); stepping back until the lease is settled"
        case .conflictPersisted(let object, let attempts):
            return
                "\(object.kind) \(object.name) kept changing while the agent wrote it (\(attempts) attempts); "
                + "trying again later"
        }
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}

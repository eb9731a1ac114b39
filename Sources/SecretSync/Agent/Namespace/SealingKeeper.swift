import KubeAPI
import Sealing
import TimeFormat

/// Keeps the agent's sealing keys in one namespace: loads them (or makes them on first start),
/// publishes the public keys, rotates the current key on request, re-seals the stored envelopes
/// to it (but for those Helm values own, which it reports), and retires the previous keys
/// nothing uses any more. Every change is recorded in the
/// audit chain.
actor SealingKeeper {
    private let context: NamespaceContext
    private let audit: AuditWriter
    /// The keys, once loaded or made.
    private(set) var keys: AgentKeys?

    init(context: NamespaceContext, audit: AuditWriter) {
        self.context = context
        self.audit = audit
    }

    private var names: ObjectNames { context.names }
    private var namespace: String { context.namespace }

    /// Loads the sealing keys, or makes them on first start; publishes the public keys. Returns
    /// the keys and whether they were made now.
    func ensureKeys() async throws(SyncError) -> (keys: AgentKeys, created: Bool) {
        let context = self.context
        // The public keys name the release they belong to (the chart's labels): keys published
        // for another release are never taken over, whatever names this agent was given.
        if let published = try await context.reads.publicKeys(),
            let owner = AgentObjectsResolver.otherRelease(published.metadata, than: names.release)
        {
            throw .otherRelease(
                kind: "ConfigMap", name: names.publicKeyConfigMap, owner: owner, release: names.release)
        }
        let stored = try await context.reads.sealingKeys()
        if let stored {
            let loaded: AgentKeys
            do {
                loaded = try AgentKeys(
                    secretData: stored.data, secretName: names.sealingKeySecret, namespace: namespace)
            } catch {
                throw .keys(error)
            }
            keys = loaded
            if loaded.secretData() != stored.data {
                // Entries were completed or re-signed while loading: store them.
                try await writeKeys(over: stored)
            }
            try await publishKeys(removingRequest: false)
            return (loaded, false)
        }
        let fresh = AgentKeys.create(at: RFC3339.format(.now()), namespace: namespace)
        var secret = Secret(name: names.sealingKeySecret, namespace: namespace)
        secret.type = "Opaque"
        secret.metadata.labels = ["app.kubernetes.io/managed-by": "beluga-secrets"]
        secret.data = fresh.secretData()
        do {
            _ = try await context.client.create(secret, namespace: context.namespace)
        } catch  where error.category == .alreadyExists {
            return try await ensureKeys()
        } catch {
            throw .api(error)
        }
        keys = fresh
        context.logger.info(
            "created the sealing keys",
            metadata: [
                "kid": "\(fresh.keyring.currentKeyID)", "identity": "\(fresh.identity.publicKey.signerID)",
            ])
        try await publishKeys(removingRequest: false)
        return (fresh, true)
    }

    /// Reacts to a change of the public-key ConfigMap: a rotation request, or an edit to undo.
    func publicKeysChanged(_ object: ConfigMap?) async throws(SyncError) {
        guard let keys else { return }
        if object?.metadata.annotations[SealingKeyRotation.requestAnnotation] != nil {
            try await rotateSealingKey()
        } else if object?.data != keys.publicKeyData() {
            try await publishKeys(removingRequest: false)
        }
    }

    private func writeKeys(over stored: Secret?) async throws(SyncError) {
        guard let keys else { return }
        let context = self.context
        var read = stored
        try await context.retryOnConflict(kind: "Secret", name: names.sealingKeySecret) {
            () async throws(SyncError) in
            var found = read
            if found == nil { found = try await context.reads.sealingKeys() }
            guard var current = found else {
                throw .api(KubeError(.notFound, "the Secret \(context.names.sealingKeySecret) is gone"))
            }
            read = nil
            current.data = keys.secretData()
            _ = try await context.api { () async throws(KubeError) in
                try await context.client.replace(current, namespace: context.namespace)
            }
        }
    }

    /// Writes the public-key ConfigMap from the keys when it differs (or lacks the request
    /// annotation's removal).
    private func publishKeys(removingRequest: Bool) async throws(SyncError) {
        guard let keys else { return }
        let context = self.context
        let names = self.names
        let wanted = keys.publicKeyData()
        try await context.retryOnConflict(kind: "ConfigMap", name: names.publicKeyConfigMap) {
            () async throws(SyncError) in
            if var existing = try await context.reads.publicKeys() {
                var annotations = existing.metadata.annotations
                let hadRequest = annotations.removeValue(forKey: SealingKeyRotation.requestAnnotation) != nil
                guard existing.data != wanted || (removingRequest && hadRequest) else { return }
                if existing.data != wanted, !removingRequest {
                    context.logger.warning(
                        "the public-key ConfigMap did not match the agent's keys; rewriting it",
                        metadata: ["configmap": "\(names.publicKeyConfigMap)"])
                }
                existing.data = wanted
                if removingRequest { existing.metadata.annotations = annotations }
                _ = try await context.api { () async throws(KubeError) in
                    try await context.client.replace(existing, namespace: context.namespace)
                }
            } else {
                var object = ConfigMap(name: names.publicKeyConfigMap, namespace: context.namespace)
                object.metadata.labels = ["app.kubernetes.io/managed-by": "beluga-secrets"]
                object.data = wanted
                _ = try await context.api { () async throws(KubeError) in
                    try await context.client.create(object, namespace: context.namespace)
                }
            }
        }
    }

    /// Makes a new current sealing key, publishes it, and re-seals the stored envelopes to it.
    private func rotateSealingKey() async throws(SyncError) {
        guard var keys else { return }
        let previous = keys.keyring.currentKeyID
        let entry = keys.rotate(at: RFC3339.format(.now()))
        self.keys = keys
        try await writeKeys(over: nil)
        try await publishKeys(removingRequest: true)
        context.logger.info(
            "rotated the sealing key", metadata: ["kid": "\(entry.kid)", "previous": "\(previous)"])
        try await audit.record([
            AuditRecord(
                event: .sealingKeyRotated, namespace: namespace, secret: names.sealingKeySecret,
                reason:
                    "new current sealing key \(entry.kid) (was \(previous); current-key counter "
                    + "\(keys.currentStatement.counter)); stored envelopes are re-sealed to it"
            )
        ])
        try await reseal()
    }

    /// Re-seals every stored envelope (current and kept versions) that is sealed to a previous
    /// key, to the current key, keeping its binding, author, time and version; reports the
    /// envelopes Helm values own instead of rewriting them (`reportHelmEnvelopes`); then retires
    /// the previous keys nothing uses any more. Signed envelopes are left as they are (re-sealing
    /// would break the operator's signature); their key stays until they are replaced.
    func reseal() async throws(SyncError) {
        guard let keys else { return }
        let context = self.context
        let names = self.names
        let namespace = self.namespace
        let current = keys.keyring.current.publicKey
        let resealed = try await context.retryOnConflict(kind: "ConfigMap", name: names.sealedStore) {
            () async throws(SyncError) -> (count: Int, from: Set<String>)? in
            guard let object = try await context.reads.sealedStore() else { return nil }
            var store = context.readStore(object.json)
            guard store.problems.isEmpty else {
                context.logger.warning("not re-sealing: the sealed store's annotations are damaged")
                return nil
            }
            // Helm's envelopes are the values file's: a rewrite would be undone (or conflict)
            // on the next upgrade. They are reported instead, below.
            let helmOwned = HelmOwnership(configMap: object.json).keys
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
            for key in store.keys where !helmOwned.contains(key) {
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
            _ = try await context.api { () async throws(KubeError) in
                try await context.client.replace(updated, namespace: namespace)
            }
            return (count, from)
        }
        if let resealed, resealed.count > 0 {
            let (count, from) = resealed
            context.logger.info(
                "re-sealed stored envelopes", metadata: ["count": "\(count)", "to": "\(current.keyID)"])
            try await audit.record([
                AuditRecord(
                    event: .sealingKeyRotated, namespace: namespace, secret: names.sealedStore,
                    reason: "re-sealed \(count) stored envelope\(count == 1 ? "" : "s") from sealing key "
                        + "\(from.sorted().joined(separator: ", ")) to \(current.keyID)")
            ])
        }
        try await reportHelmEnvelopes()
        try await retireUnusedKeys()
    }

    /// Reports the envelopes Helm values own that are sealed to a previous key: in the status
    /// (`helm-reseal`, with the unsigned ones re-sealed to the current key for
    /// `beluga-secrets keys helm-values`), and in one Warning Event `HelmEnvelopeNeedsReseal` per
    /// rotation that names them and the command that re-seals them into the values file.
    private func reportHelmEnvelopes() async throws(SyncError) {
        guard let keys, let object = try await context.reads.sealedStore() else { return }
        let context = self.context
        let names = self.names
        let ownership = HelmOwnership(configMap: object.json)
        let involved = context.involved(object.json, kind: "ConfigMap", name: names.sealedStore)
        try await audit.reportInput(
            ownership.problems, source: "helm-managed-keys", about: involved,
            keeping: "the agent treats no key as Helm's but those Helm's field manager owns")
        let previous = await audit.status.helmReseal
        let plan = HelmResealPlan(
            store: context.readStore(object.json), helmOwned: ownership.keys, keyring: keys.keyring,
            previous: previous, namespace: namespace, secret: names.secret, now: RFC3339.format(.now()))
        guard plan.entries != previous else { return }
        let entries = plan.entries
        try await audit.record([]) { $0.helmReseal = entries }
        guard !plan.fresh.isEmpty else { return }
        let message = Self.needsResealMessage(
            plan.fresh.compactMap { key in entries[key].map { (key, $0) } }, namespace: namespace,
            names: names)
        context.logger.warning(
            "Helm values hold envelopes sealed to a previous sealing key",
            metadata: ["keys": "\(plan.fresh.joined(separator: ","))"])
        await context.events.record(
            about: involved, warning: true, reason: "HelmEnvelopeNeedsReseal", message: message)
    }

    /// The Event's message: which keys, which keys they are sealed to, and what re-seals them.
    static func needsResealMessage(
        _ entries: [(key: String, entry: HelmReseal)], namespace: String, names: ObjectNames
    ) -> String {
        let release = names.release
        let unsigned = entries.filter { !$0.entry.signed }.map(\.key)
        let signed = entries.filter(\.entry.signed)
        let kids = Set(entries.map(\.entry.kid)).sorted().joined(separator: ", ")
        let current = entries.first?.entry.current ?? ""
        var message =
            "Helm values hold \(entries.count) envelope\(entries.count == 1 ? "" : "s") sealed to sealing key "
            + "\(kids), not the current \(current); the agent leaves them as they are and keeps that key."
        if !unsigned.isEmpty {
            message +=
                " Re-seal \(unsigned.joined(separator: ", ")) into the values: beluga-secrets keys helm-values "
                + "-n \(namespace) --release \(release) > sealed-values.yaml, then helm upgrade \(release) "
                + "... -f values.yaml -f sealed-values.yaml."
        }
        for (key, entry) in signed {
            message +=
                " \(key) is signed: its signer seals it again into sealedSecrets, beluga-secrets seal \(key) "
                + "-n \(namespace) --secret \(names.secret) --version \(entry.version + 1) --public-key "
                + "sealing.pub (the current key of ConfigMap \(names.publicKeyConfigMap))."
        }
        return message
    }

    /// Whether `reseal()` has work: a stored format-1 envelope Helm does not own is sealed to a
    /// previous key this agent holds (a re-seal that failed, or envelopes written with an old
    /// public key since), the report of Helm's envelopes is out of date, or a previous key no
    /// envelope uses is due for retirement.
    func needsReseal(_ store: SealedStore) async -> Bool {
        guard let keys, keys.keyring.keyIDs.count > 1 else { return false }
        let object = try? await context.reads.sealedStore()
        let helmOwned = object.map { HelmOwnership(configMap: $0.json).keys } ?? []
        let current = keys.keyring.currentKeyID
        let unsigned = store.keys.filter { !helmOwned.contains($0) }.flatMap { key in
            [store.envelopes[key]].compactMap { $0 } + (store.versions[key]?.history.map(\.envelope) ?? [])
        }
        if unsigned.compactMap({ try? Envelope.parse($0) }).contains(where: { envelope in
            envelope.format == .v1 && envelope.keyID != current && keys.keyring[envelope.keyID] != nil
        }) {
            return true
        }
        let reported = await audit.status.helmReseal
        if !HelmResealPlan.isCurrent(reported, store: store, helmOwned: helmOwned, keyring: keys.keyring) {
            return true
        }
        let used = Set(Self.envelopes(in: store).map(\.keyID.hex))
        let now = UnixTime.now()
        return keys.previousKeys.contains { kid, supersededAt in
            guard !used.contains(kid.hex) else { return false }
            guard let since = RFC3339.parse(supersededAt) else { return true }
            return !(now - since < context.settings.retireKeysAfter)
        }
    }

    /// Every envelope the store holds that parses (current and kept versions).
    private static func envelopes(in store: SealedStore) -> [Envelope] {
        let texts =
            Array(store.envelopes.values) + store.versions.values.flatMap { $0.history.map(\.envelope) }
        return texts.compactMap { try? Envelope.parse($0) }
    }

    /// Retires previous sealing keys that no stored envelope uses, once they have been
    /// superseded for `retireKeysAfter` (envelopes kept in git may still need them until then).
    private func retireUnusedKeys() async throws(SyncError) {
        guard var keys, !keys.previousKeys.isEmpty else { return }
        guard let object = try await context.reads.sealedStore() else { return }
        let store = context.readStore(object.json)
        guard store.problems.isEmpty else { return }
        let used = Set(Self.envelopes(in: store).map(\.keyID.hex))
        var retired: [String] = []
        let now = UnixTime.now()
        for (kid, supersededAt) in keys.previousKeys where !used.contains(kid.hex) {
            // A time that does not parse counts as long ago: the key is retired.
            if let since = RFC3339.parse(supersededAt), now - since < context.settings.retireKeysAfter {
                continue
            }
            keys.retire(kid)
            retired.append(kid.hex)
        }
        guard !retired.isEmpty else { return }
        self.keys = keys
        try await writeKeys(over: nil)
        try await publishKeys(removingRequest: false)
        context.logger.info(
            "retired sealing keys no envelope uses", metadata: ["kids": "\(retired.joined(separator: ","))"])
        try await audit.record([
            AuditRecord(
                event: .sealingKeyRotated, namespace: namespace, secret: names.sealingKeySecret,
                reason:
                    "retired sealing key\(retired.count == 1 ? "" : "s") \(retired.joined(separator: ", ")): "
                    + "no stored envelope uses \(retired.count == 1 ? "it" : "them")")
        ])
    }
}

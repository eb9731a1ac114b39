import JSONValue
import KubeAPI
import Sealing
import TimeFormat

/// Writes one key straight into the Secret, for clusters without the agent (`--direct`): only
/// that key and its version record change (a merge patch conditioned on the `resourceVersion`
/// read, replayed after a conflict), and keys the agent manages from the sealed store are
/// refused, since the agent would set them back. The Secret is read and written guarded
/// (`GuardedSecret`): its values, the new one among them, stay in secure memory.
public struct DirectSecretWriter: Sendable {
    public let client: KubeClient
    public let namespace: String
    public let names: ObjectNames
    /// How conflicts are retried before giving up with `conflictPersisted`.
    public var conflictRetry = ConflictRetry.standard

    public init(client: KubeClient, namespace: String, names: ObjectNames) {
        self.client = client
        self.namespace = namespace
        self.names = names
    }

    /// What to do with the key.
    public enum Change: Sendable {
        /// Store `value`; with `mustExist`, only if the key is already in the Secret (`rotate`).
        case set(SecureBytes, mustExist: Bool)
        /// Remove the key.
        case delete
    }

    /// What a direct write did (or, in a dry run, would do).
    public struct Outcome: Sendable {
        public var key: String
        /// The key's new version (0 after a delete).
        public var version: Int
        /// The new value's fingerprint (empty after a delete).
        public var fingerprint: String
        /// The replaced value's fingerprint (empty when there was none).
        public var previousFingerprint: String
        /// Whether the Secret did not exist and was (or would be) created.
        public var createdSecret: Bool
        /// The Secret as the API server stored it (`nil` in a dry run), so that what follows
        /// (the content hash) need not read it again.
        public var written: GuardedSecret? = nil
    }

    public func write(key: String, _ change: Change, by author: String, dryRun: Bool = false)
        async throws(ChangeError) -> Outcome
    {
        let binding: SecretBinding
        do {
            binding = try SecretBinding(namespace: namespace, secret: names.secret, key: key)
        } catch {
            throw .sealing(error)
        }
        // The sealed store and the Secret are read at once; the refusal is judged first.
        async let refusal = ChangeError.result { () async throws(ChangeError) in
            try await refuseSealedKey(key)
        }
        async let firstRead = ChangeError.result { () async throws(ChangeError) in try await readSecret() }
        try await refusal.get()
        var prefetched: GuardedSecret?? = .some(try await firstRead.get())
        return try await conflictRetry.run(
            isConflict: \.isConflict,
            exhausted: { attempts, _ in
                .conflictPersisted(object: "Secret \(namespace)/\(names.secret)", attempts: attempts)
            }
        ) { (_: Int) async throws(ChangeError) -> Outcome in
            // The first attempt uses the read made with the sealed store's; after a conflict,
            // what the server holds now.
            let secret: GuardedSecret?
            if let first = prefetched {
                secret = first
                prefetched = nil
            } else {
                secret = try await readSecret()
            }
            let managed = (secret?.metadata.annotations[SecretPlan.managedKeysAnnotation] ?? "")
                .split(separator: ",").map(String.init)
            if managed.contains(key) {
                throw .managedBySealedStore(key: key, sealedStore: "\(namespace)/\(names.sealedStore)")
            }
            var versions = DirectVersions(secret: secret?.object.json ?? [:])
            let live = secret?.values[key]
            let previousFingerprint = live.map { Fingerprint(of: $0, binding: binding).text } ?? ""
            var outcome = Outcome(
                key: key, version: 0, fingerprint: "", previousFingerprint: previousFingerprint,
                createdSecret: secret == nil)
            var patch: JSON = [:]
            var values: [String: SecureBytes] = [:]
            var removing: [String] = []
            switch change {
            case .set(let value, let mustExist):
                if mustExist, live == nil {
                    throw .keyNotFound(
                        key: key, object: "Secret \(namespace)/\(names.secret)",
                        hint: "set it first with `beluga-secrets set \(key) --direct`")
                }
                let version = (versions.entries[key]?.version ?? 0) + 1
                let fingerprint = Fingerprint(of: value, binding: binding).text
                versions.entries[key] = DirectVersions.Entry(
                    version: version, fingerprint: fingerprint, setBy: author, setAt: RFC3339.format(.now()))
                outcome.version = version
                outcome.fingerprint = fingerprint
                values[key] = value
            case .delete:
                guard live != nil else {
                    throw .keyNotFound(
                        key: key, object: "Secret \(namespace)/\(names.secret)",
                        hint: "run `beluga-secrets list` to see the keys")
                }
                versions.entries[key] = nil
                removing = [key]
            }
            if dryRun { return outcome }
            patch[path: "metadata", "annotations", DirectVersions.annotation] =
                versions.text.map(JSON.string) ?? .null
            do throws(KubeError) {
                if let secret {
                    patch[path: "metadata", "resourceVersion"] = secret.resourceVersion.map(JSON.string)
                    outcome.written = try await client.patchGuarded(
                        secretName: names.secret, namespace: namespace, patch: patch, values: values,
                        removing: removing)
                } else {
                    var created = Secret(name: names.secret, namespace: namespace)
                    created.type = "Opaque"
                    if let text = versions.text {
                        created.metadata.annotations = [DirectVersions.annotation: text]
                    }
                    outcome.written = try await client.createGuarded(
                        created, values: values, namespace: namespace)
                }
                return outcome
            } catch {
                throw .api(error)
            }
        }
    }

    /// Checks, before a value is asked for, that a direct write of `key` is allowed: the sealed
    /// store does not hold it, the agent does not manage it, and with `mustExist` it exists.
    public func check(key: String, mustExist: Bool) async throws(ChangeError) {
        async let refusal = ChangeError.result { () async throws(ChangeError) in
            try await refuseSealedKey(key)
        }
        async let read = ChangeError.result { () async throws(ChangeError) in try await readSecret() }
        try await refusal.get()
        let secret = try await read.get()
        let managed = (secret?.metadata.annotations[SecretPlan.managedKeysAnnotation] ?? "").split(
            separator: ",")
        if managed.contains(Substring(key)) {
            throw .managedBySealedStore(key: key, sealedStore: "\(namespace)/\(names.sealedStore)")
        }
        if mustExist, secret?.values[key] == nil {
            throw .keyNotFound(
                key: key, object: "Secret \(namespace)/\(names.secret)",
                hint: "set it first with `beluga-secrets set \(key) --direct`")
        }
    }

    /// Hands a key written with `--direct` over to the agent before a sealed value of it is
    /// stored: its record leaves the Secret's `direct-versions` annotation (the value stays in the
    /// Secret until the agent applies the sealed one), so the agent applies the envelope instead
    /// of refusing it. Only a user who may update the Secret can hand a key over; one who may not
    /// even read it (the chart's operator Role) stores an envelope the agent refuses, and one who
    /// may read but not update it is refused here (`managedDirectly`). Returns the direct version
    /// handed over (or, in a dry run, that would be), `nil` when there is none.
    public func handOver(_ key: String, dryRun: Bool) async throws(ChangeError) -> Int? {
        try await conflictRetry.run(
            isConflict: \.isConflict,
            exhausted: { attempts, _ in
                .conflictPersisted(object: "Secret \(namespace)/\(names.secret)", attempts: attempts)
            }
        ) { (_: Int) async throws(ChangeError) -> Int? in
            let secret: GuardedSecret?
            do throws(KubeError) {
                secret = try await client.getGuardedSecretIfPresent(name: names.secret, namespace: namespace)
            } catch  where error.category == .forbidden {
                return nil
            } catch {
                throw .api(error)
            }
            guard let secret else { return nil }
            var versions = DirectVersions(secret: secret.object.json)
            guard let entry = versions.entries[key] else { return nil }
            if dryRun { return entry.version }
            versions.entries[key] = nil
            var patch: JSON = [:]
            patch[path: "metadata", "annotations", DirectVersions.annotation] =
                versions.text.map(JSON.string) ?? .null
            patch[path: "metadata", "resourceVersion"] = secret.resourceVersion.map(JSON.string)
            do throws(KubeError) {
                _ = try await client.patchGuarded(
                    secretName: names.secret, namespace: namespace, patch: patch, values: [:], removing: [])
            } catch  where error.category == .forbidden {
                throw .managedDirectly(key: key, secret: "\(namespace)/\(names.secret)")
            } catch {
                throw .api(error)
            }
            return entry.version
        }
    }

    /// A key the sealed store holds belongs to the agent.
    private func refuseSealedKey(_ key: String) async throws(ChangeError) {
        let store = try await SealedStoreWriter(
            client: client, namespace: namespace, name: names.sealedStore, statusName: names.status
        ).read()
        if let store, store.data[key] != nil {
            throw .managedBySealedStore(key: key, sealedStore: "\(namespace)/\(names.sealedStore)")
        }
    }

    private func readSecret() async throws(ChangeError) -> GuardedSecret? {
        try await api { () async throws(KubeError) in
            try await client.getGuardedSecretIfPresent(name: names.secret, namespace: namespace)
        }
    }

    private func api<T>(_ call: () async throws(KubeError) -> T) async throws(ChangeError) -> T {
        do {
            return try await call()
        } catch {
            throw .api(error)
        }
    }
}

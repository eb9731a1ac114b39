import KubeAPI

/// Brings one Deployment's content hash up to date from a workstation (`restart`, and the
/// writes made with `--direct`): reads the Secret and ConfigMap it reloads on, decides with
/// `RestartDecision` exactly as the agent does, and patches the pod template only when the hash
/// differs, so the pods roll once per change and an agent that looks next finds nothing to do.
public struct DeploymentRestarter: Sendable {
    public let client: KubeClient
    public let namespace: String
    public let names: ObjectNames

    public init(client: KubeClient, namespace: String, names: ObjectNames) {
        self.client = client
        self.namespace = namespace
        self.names = names
    }

    /// What was decided and, after a patch, the Deployment's new generation (the one a rollout
    /// follower waits for).
    public struct Outcome: Sendable {
        public var decision: RestartDecision
        /// Whether the Deployment names what it reloads on; without it the release's Secret and
        /// ConfigMap are assumed, as the chart annotates them.
        public var annotated: Bool
        /// The generation after the patch; `nil` when nothing was (or, dry, would be) patched.
        public var generation: Int?
    }

    /// A change a dry run did not write, for the decision to take into account.
    public struct PendingChange: Sendable {
        public var object: ObjectReference
        public var key: String
        /// The new value's bytes; `nil` when the key is removed.
        public var value: [UInt8]?

        public init(object: ObjectReference, key: String, value: [UInt8]?) {
            self.object = object
            self.key = key
            self.value = value
        }
    }

    /// The Deployment and the settings ConfigMap as read for a decision, each read's outcome
    /// kept: a direct write reads them at the same time as the Secret it writes (`read()`
    /// before the write), and a failure to read them must not stop that write.
    public struct Reading: Sendable {
        fileprivate var deployment: Result<Deployment, ChangeError>
        fileprivate var settings: Result<ConfigMap?, ChangeError>
    }

    /// Reads the Deployment and the settings ConfigMap, both at once.
    public func read() async -> Reading {
        async let deployment = ChangeError.result { () async throws(ChangeError) in
            try await api { () async throws(KubeError) in
                try await client.get(Deployment.self, name: names.deployment, namespace: namespace)
            }
        }
        async let settings = ChangeError.result { () async throws(ChangeError) in
            try await api { () async throws(KubeError) in
                try await client.getIfPresent(ConfigMap.self, name: names.configMap, namespace: namespace)
            }
        }
        return Reading(deployment: await deployment, settings: await settings)
    }

    /// Decides and, unless `dryRun`, patches. A dry run decides as if `pending` had been written.
    /// `writtenSecret` is the Secret as a write just stored it, used instead of reading it again;
    /// `reading`, the Deployment and settings read while it was written (else they are read
    /// now, with the Secret, all at once). The Secret is read guarded, its values in secure
    /// memory until hashed.
    public func restart(
        dryRun: Bool = false, pending: PendingChange? = nil, writtenSecret: GuardedSecret? = nil,
        reading: Reading? = nil
    )
        async throws(ChangeError) -> Outcome
    {
        async let secretRead = ChangeError.result { () async throws(ChangeError) -> GuardedSecret? in
            if let writtenSecret { return writtenSecret }
            return try await api { () async throws(KubeError) in
                try await client.getGuardedSecretIfPresent(name: names.secret, namespace: namespace)
            }
        }
        let objects: Reading
        if let reading { objects = reading } else { objects = await read() }
        let secretResult = await secretRead
        let deployment = try objects.deployment.get()
        let settings = try objects.settings.get()
        let secret = try secretResult.get()
        let annotation = deployment.metadata.annotations[ReloadAnnotation.name]
        var contents = RestartStep.contents(guarded: secret, settings: settings, names: names)
        defer { RestartStep.wipe(&contents) }
        if dryRun, let pending {
            var content = (contents[pending.object] ?? nil) ?? [:]
            content[pending.key] = pending.value
            contents[pending.object] = content
        }
        let decision = RestartDecision.decide(
            namespace: namespace, deployment: deployment.name,
            reloadAnnotation: annotation ?? "secret/\(names.secret),configmap/\(names.configMap)",
            currentHash: RestartDecision.recordedHash(of: deployment), contents: contents)
        var outcome = Outcome(decision: decision, annotated: annotation != nil, generation: nil)
        guard decision.action == .restart, !dryRun else { return outcome }
        let patched = try await api { () async throws(KubeError) in
            try await RestartStep.patch(decision, client: client, namespace: namespace)
        }
        outcome.generation = patched.metadata.generation
        return outcome
    }

    private func api<T>(_ call: () async throws(KubeError) -> T) async throws(ChangeError) -> T {
        do {
            return try await call()
        } catch {
            throw .api(error)
        }
    }
}

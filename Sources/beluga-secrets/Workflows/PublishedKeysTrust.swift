import KubeAPI
import Sealing
import SecretSync
import Synchronization

/// The agent's published keys as a command may use them: signed by the identity this user
/// pinned for the cluster and namespace (`known-agents.json`), with a current-key statement no
/// older than one seen before. Every command that reads the published keys comes through here,
/// so they all refuse the same things with the same words.
enum PublishedKeysTrust {
    /// What a command does when nothing is pinned yet.
    enum FirstUse {
        /// Pin the published identity (`set`, `rotate`): trust on first use.
        case pin
        /// Leave the pins as they are (`keys show`, `status`, `audit`: they only look).
        case leave
    }

    /// Reads the public-key ConfigMap of the workspace's release (the derived name, or the fixed
    /// one the release owns) and checks its signatures; returns the name it was read from.
    static func read(_ workspace: Workspace) async throws -> (keys: PublishedKeys, configMap: String) {
        let (resolved, object) = try await workspace.resolvingAgentObjects()
        let configMap = resolved.names.publicKeyConfigMap
        guard let object else { throw missing(configMap, namespace: workspace.namespace) }
        return (try PublishedKeys(configMap: object.json, namespace: workspace.namespace), configMap)
    }

    static func read(client: KubeClient, namespace: String, configMap: String) async throws -> PublishedKeys {
        let object: ConfigMap
        do {
            object = try await client.get(ConfigMap.self, name: configMap, namespace: namespace)
        } catch {
            guard error.category == .notFound else { throw error }
            throw missing(configMap, namespace: namespace)
        }
        return try PublishedKeys(configMap: object.json, namespace: namespace)
    }

    private static func missing(_ configMap: String, namespace: String) -> CommandError {
        CommandError(
            "no ConfigMap \(configMap) in namespace \(namespace): the agent publishes its public key "
                + "there when it starts; install or start it (or pass the --release it belongs to), or "
                + "write the Secret yourself with --direct",
            .notFound)
    }

    /// Checks `published` against the pins and records what it may: the identity on first use
    /// (with `.pin`), a higher counter, or what the user accepted. A changed identity or a
    /// replayed current key is refused (exit 6) unless `accept`; `acceptHint` says how to accept
    /// in the words of the command. A dry run writes nothing.
    @discardableResult
    static func require(
        _ published: PublishedKeys, server: String, namespace: String, configMap: String,
        firstUse: FirstUse, accept: Bool = false, dryRun: Bool = false,
        acceptHint: String = "run again with --accept-new-identity"
    ) throws -> AgentIdentityPins.KeysVerdict {
        // Clusters checked at the same time (several --context) read and rewrite the one pin
        // file in turn, so that no cluster's pin overwrites another's.
        try pinFileLock.withLock { _ throws in
            try requireLocked(
                published, server: server, namespace: namespace, configMap: configMap, firstUse: firstUse,
                accept: accept, dryRun: dryRun, acceptHint: acceptHint)
        }
    }

    private static let pinFileLock = Mutex<Void>(())

    private static func requireLocked(
        _ published: PublishedKeys, server: String, namespace: String, configMap: String,
        firstUse: FirstUse, accept: Bool, dryRun: Bool, acceptHint: String
    ) throws -> AgentIdentityPins.KeysVerdict {
        let pins = try AgentIdentityPins.standard()
        let identity = published.identity
        let statement = published.currentStatement
        let verdict = try pins.check(published, server: server, namespace: namespace, configMap: configMap)
        switch verdict {
        case .known:
            if !dryRun {
                try pins.noteCurrent(published, server: server, namespace: namespace, configMap: configMap)
            }
        case .firstUse:
            guard firstUse == .pin else { break }
            if !dryRun { try pins.pin(published, server: server, namespace: namespace, configMap: configMap) }
            StandardError.writeLine(
                "\(dryRun ? "would pin" : "pinned") the agent identity \(identity.signerID) for namespace \(namespace) "
                    + "of \(server) (first use); a different identity will be refused")
        case .changed(let pinned):
            let pinnedID =
                (try? SigningPublicKey(base64: pinned.identity)).map { $0.signerID.hex } ?? "(unreadable)"
            guard accept else {
                throw CommandError(
                    "the agent identity of namespace \(namespace) on \(server) changed: pinned \(pinnedID) "
                        + "(\(pinned.pinnedAt)), now \(identity.signerID) in ConfigMap \(configMap). Someone may have "
                        + "replaced the agent's keys; if the agent was reinstalled on purpose, \(acceptHint)",
                    .rejected)
            }
            if !dryRun { try pins.pin(published, server: server, namespace: namespace, configMap: configMap) }
            StandardError.writeLine(
                "\(dryRun ? "would accept" : "accepted") the new agent identity \(identity.signerID) for namespace "
                    + "\(namespace) of \(server) (was \(pinnedID))")
        case .currentReplayed(let pinned):
            let seen = pinned.currentCounter ?? 0
            let seenKey = pinned.currentKid.map { " (sealing key \($0))" } ?? ""
            guard accept else {
                throw CommandError(
                    "ConfigMap \(configMap) in namespace \(namespace) marks sealing key \(statement.kid) current "
                        + "with counter \(statement.counter), but counter \(seen)\(seenKey) was seen before: an old "
                        + "statement was put back to make you seal to a superseded key; do not seal to it, and check "
                        + "who changed the ConfigMap (if the agent's keys were restored from a backup on purpose, "
                        + "\(acceptHint))", .rejected)
            }
            if !dryRun { try pins.pin(published, server: server, namespace: namespace, configMap: configMap) }
            StandardError.writeLine(
                "\(dryRun ? "would accept" : "accepted") sealing key \(statement.kid) as current for namespace "
                    + "\(namespace) of \(server) with counter \(statement.counter) (counter \(seen) was seen before)"
            )
        }
        return verdict
    }
}

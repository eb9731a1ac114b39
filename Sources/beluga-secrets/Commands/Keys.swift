import ArgumentParser
import KubeAPI
import SecretSync

/// `beluga-secrets keys`: the agent's sealing keys.
struct Keys: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show or rotate the agent's sealing keys.",
        subcommands: [KeysShow.self, KeysRotate.self, KeysHelmValues.self])
}

/// `beluga-secrets keys show`: the published keys, checked against the agent's identity.
struct KeysShow: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Show the agent's identity and sealing keys (ConfigMap <release>-public-key).",
        discussion: """
            Every key is checked against the identity's signature, and the identity against the one \
            pinned for this cluster and namespace (known-agents.json in the configuration folder): \
            a changed identity, or a current key older than one seen before, exits 6 unless \
            --accept-new-identity pins what the cluster now publishes. Nothing is pinned on first \
            use: the first set does that.
            """)

    @OptionGroup var cluster: ClusterOptions

    @OptionGroup var agentObjects: AgentObjectsOptions

    @Flag(
        name: .customLong("accept-new-identity"),
        help: ArgumentHelp(
            "Pin the agent identity and current sealing key the cluster now publishes, though another "
                + "identity was pinned or a newer current key was seen (after a deliberate reinstall of the "
                + "agent, or a restore of its keys from a backup)."))
    var acceptNewIdentity = false

    func run() async throws {
        let client = try cluster.client()
        let publicKeyConfigMap = try await agentObjects.names(client).publicKeyConfigMap
        let published = try await PublishedKeysTrust.read(
            client: client, namespace: client.namespace, configMap: publicKeyConfigMap)
        let verdict = try PublishedKeysTrust.require(
            published, server: client.configuration.transport.server, namespace: client.namespace,
            configMap: publicKeyConfigMap, firstUse: acceptNewIdentity ? .pin : .leave,
            accept: acceptNewIdentity)
        let pinText: String
        switch verdict {
        case .firstUse where !acceptNewIdentity: pinText = "not pinned yet: the first set pins it"
        default: pinText = "pinned"
        }
        print("identity \(published.identity.signerID) (\(published.identity.base64)), \(pinText)")
        print(
            "current  \(published.current.keyID) (counter \(published.currentStatement.counter), signed \(published.currentStatement.signedAt))"
        )
        var rows = "KID               STATE     CREATED\n"
        for entry in published.keys.reversed() {
            rows +=
                entry.kid.padded(to: 18)
                + entry.state.rawValue.padded(to: 10) + entry.createdAt
                + "\n"
        }
        print(rows, terminator: "")
        if let pending = published.pendingRotation {
            print("rotation asked for at \(pending), not yet carried out")
        }
    }
}

extension PublishedKeysError: ReportableError {
    var message: String { description }
    var exitStatus: ExitStatus { .rejected }
}

/// `beluga-secrets keys rotate`: asks the agent for a new sealing key.
struct KeysRotate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rotate",
        abstract: "Ask the agent for a new sealing key and wait until it is published.",
        discussion: """
            Sets the annotation beluga-ai.io/rotate-sealing-key on the release's public-key \
            ConfigMap (<release>-public-key, or beluga-secrets-public-key for a release installed \
            with that name); the leading agent makes a new current key, publishes it \
            signed by its identity, and re-seals the stored envelopes to it. Old keys keep opening \
            old envelopes until nothing uses them. Operators need to do nothing: set and seal \
            follow the published current key. Envelopes that Helm values own are not re-sealed \
            (the next helm upgrade would put them back): the agent reports them, and \
            beluga-secrets keys helm-values prints them re-sealed for the values file. Needs get, \
            patch and watch on that ConfigMap.
            """)

    @OptionGroup var cluster: ClusterOptions

    @OptionGroup var agentObjects: AgentObjectsOptions

    @Option(help: ArgumentHelp("How long to wait for the agent.", valueName: "duration"))
    var timeout = DurationArgument(.seconds(60), text: "60s")

    func run() async throws {
        let client = try cluster.client()
        let publicKeyConfigMap = try await agentObjects.names(client).publicKeyConfigMap
        let server = client.configuration.transport.server
        let hint = "accept it with `beluga-secrets keys show --accept-new-identity` first"
        // The keys asked to rotate must be the pinned agent's: the request goes to whoever
        // publishes them.
        let before = try await PublishedKeysTrust.read(
            client: client, namespace: client.namespace, configMap: publicKeyConfigMap)
        try PublishedKeysTrust.require(
            before, server: server, namespace: client.namespace, configMap: publicKeyConfigMap,
            firstUse: .leave, acceptHint: hint)
        let outcome: SealingKeyRotation.Outcome
        do {
            outcome = try await SealingKeyRotation.request(
                client: client, namespace: client.namespace, configMap: publicKeyConfigMap,
                timeout: timeout.duration)
        } catch {
            switch error {
            case .api(let failure): throw failure
            case .published(let failure): throw failure
            case .timedOut: throw CommandError(error.description, .unreachable)
            case .identityChanged: throw CommandError(error.description, .rejected)
            }
        }
        try PublishedKeysTrust.require(
            outcome.published, server: server, namespace: client.namespace, configMap: publicKeyConfigMap,
            firstUse: .leave, acceptHint: hint)
        print(
            "sealing key rotated: \(outcome.current.kid) is current (was \(outcome.previous), counter "
                + "\(outcome.published.currentStatement.counter)); the agent re-seals the stored envelopes to it, "
                + "but for those in Helm values (see beluga-secrets keys helm-values)"
        )
    }
}

import ArgumentParser

/// `beluga-secrets set`: seals a key's value on the workstation and stores it for the agent.
struct SetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "set",
        abstract: "Set a key: seal its value here and store it for the agent to apply.",
        discussion: """
            The value is read without echo from the terminal (twice, unless --no-confirm), from \
            standard input when that is not a terminal, or from --from-file or --from-env; never \
            from the command line. It is sealed to the agent's current public key (ConfigMap \
            <release>-public-key), after checking that key's signature by the agent identity \
            pinned for this cluster and namespace on first use, and stored as the key's next version \
            in the sealed store (ConfigMap <secret>-sealed, created when missing). The agent then \
            writes it into the Secret and restarts the Deployment. With --direct, the value goes \
            straight into the Secret and the Deployment's content hash is patched here.

            With --context given several times, or --all-contexts, the value is read once and \
            the same change is made in every cluster at the same time: sealed to each cluster's \
            own pinned agent key, a failure in one cluster leaving the others to finish. Each \
            cluster's progress goes to standard error, named by its context; standard output gets \
            one summary (CONTEXT, OUTCOME, VERSION, FINGERPRINT, MESSAGE; -o json or yaml as \
            data), and the command exits with the most severe cluster's code: 6, 4, 1, 3, 2, 5, \
            then 0. In sealed mode every cluster's version record, and the agent's audit record \
            of the change, name the same change id.
            """)

    @Argument(help: "Name of the key in the Secret, e.g. openai-api-key.")
    var key: String

    @OptionGroup var value: KeyValueOptions
    @OptionGroup var direct: DirectOption
    @OptionGroup var wait: ChangeWaitOptions
    @OptionGroup var dryRun: DryRunOption
    @OptionGroup var release: ReleaseOptions
    @OptionGroup(title: "Several clusters") var clusters: MultiClusterOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let writer = KeyWriter(
            key: key, value: value, direct: direct.direct, dryRun: dryRun.enabled, wait: wait,
            release: release,
            mustExist: false)
        if let contexts = try ClusterTargets.contexts(
            release.cluster, clusters, command: "set", changes: !dryRun.enabled,
            always: output.format != .table)
        {
            try await writer.run(contexts: contexts, output: output)
        } else {
            try await writer.run()
        }
    }
}

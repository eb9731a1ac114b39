import ArgumentParser

/// `beluga-secrets rotate`: a new value for a key that exists.
struct Rotate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Rotate a key: set a new value for a key that exists; its version increases.",
        discussion: """
            Works as set, but refuses a key that is not there yet (in the sealed store, or with \
            --direct in the Secret), so a typo in the name cannot create a new key. Like set, it \
            takes --context several times, or --all-contexts, to rotate the key in several \
            clusters at once with one value (see beluga-secrets set --help).
            """)

    @Argument(help: "Name of the key to rotate.")
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
            mustExist: true)
        if let contexts = try ClusterTargets.contexts(
            release.cluster, clusters, command: "rotate", changes: !dryRun.enabled,
            always: output.format != .table)
        {
            try await writer.run(contexts: contexts, output: output)
        } else {
            try await writer.run()
        }
    }
}

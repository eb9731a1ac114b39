import ArgumentParser
import SecretSync
import YAML

/// `beluga-secrets config unset`: removes one setting.
struct ConfigUnset: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "unset",
        abstract: "Remove a setting.",
        discussion: """
            The agent restarts the Deployment; with --direct the Deployment's content hash is \
            patched here. \
            With --context given several times, or --all-contexts, the same change is made in \
            every cluster at once, a failure in one leaving the others to finish; one summary \
            follows (see beluga-secrets set --help).
            """)

    @Argument(help: "Name of the setting.")
    var name: String

    @OptionGroup var direct: DirectOption
    @OptionGroup var dryRun: DryRunOption
    @OptionGroup var release: ReleaseOptions
    @OptionGroup(title: "Several clusters") var clusters: MultiClusterOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        try await ClusterTargets.change(
            release, clusters, output: output, command: "config unset", dryRun: dryRun.enabled
        ) { release in try await run(on: release) }
    }

    /// The change in one cluster.
    private func run(on release: ReleaseOptions) async throws {
        let workspace = try release.connect()
        let outcome = try await workspace.settings.unset(name, dryRun: dryRun.enabled)
        let configMap = workspace.describe("ConfigMap", workspace.names.configMap)
        let was = YAMLWriter.scalar(outcome.previous ?? "")
        Narration.say(
            dryRun.enabled
                ? "\(name): would remove it (was \(was)) from \(configMap) (dry run: nothing written)"
                : "\(name): removed from \(configMap) (was \(was))")
        if direct.direct {
            try await DirectRestart(
                workspace: workspace, dryRun: dryRun.enabled, waitTimeout: nil,
                pending: .init(object: .configMap(workspace.names.configMap), key: name, value: nil)
            ).run()
        }
    }
}

import ArgumentParser
import SecretSync
import YAML

/// `beluga-secrets config set`: changes one setting.
struct ConfigSet: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "set",
        abstract: "Set a setting.",
        discussion: """
            Changes one key of the ConfigMap (created when missing) and leaves the others alone. \
            The agent restarts the Deployment; with --direct the Deployment's content hash is \
            patched here. \
            With --context given several times, or --all-contexts, the same change is made in \
            every cluster at once, a failure in one leaving the others to finish; one summary \
            follows (see beluga-secrets set --help).
            """)

    @Argument(help: "Name of the setting, e.g. llmProvider.")
    var name: String

    @Argument(help: "Its value (settings are not secret).")
    var value: String

    @OptionGroup var direct: DirectOption
    @OptionGroup var wait: WaitOptions
    @OptionGroup var dryRun: DryRunOption
    @OptionGroup var release: ReleaseOptions
    @OptionGroup(title: "Several clusters") var clusters: MultiClusterOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        try await ClusterTargets.change(
            release, clusters, output: output, command: "config set", dryRun: dryRun.enabled
        ) { release in try await run(on: release) }
    }

    /// The change in one cluster.
    private func run(on release: ReleaseOptions) async throws {
        let workspace = try release.connect()
        try SettingsWriter.validateName(name)
        ConfigSet.warnIfSecretLooking(name)
        let before =
            wait.wait && !dryRun.enabled && !direct.direct
            ? try await ChangeFollower.deploymentBefore(workspace) : nil
        let outcome = try await workspace.settings.set(name, to: value, dryRun: dryRun.enabled)
        let configMap = workspace.describe("ConfigMap", workspace.names.configMap)
        let was = outcome.previous.map { "was \(YAMLWriter.scalar($0))" } ?? "new"
        if outcome.unchanged {
            Narration.say("\(name): already \(YAMLWriter.scalar(value)) in \(configMap), nothing changed")
            return
        }
        if dryRun.enabled {
            Narration.say(
                "\(name): would set to \(YAMLWriter.scalar(value)) (\(was)) in \(configMap)"
                    + "\(outcome.createdConfigMap ? ", creating it" : "") (dry run: nothing written)")
        } else {
            Narration.say("\(name): set to \(YAMLWriter.scalar(value)) (\(was)) in \(configMap)")
        }
        if direct.direct {
            try await DirectRestart(
                workspace: workspace, dryRun: dryRun.enabled, waitTimeout: wait.limit,
                pending: .init(
                    object: .configMap(workspace.names.configMap), key: name, value: Array(value.utf8))
            ).run()
            return
        }
        guard wait.wait, !dryRun.enabled else { return }
        try await ChangeFollower(workspace: workspace, timeout: wait.timeout).followAgentRestart(
            before: before, reloadingOn: .configMap(workspace.names.configMap))
    }

    /// Settings are stored in clear: a name that looks like a credential probably belongs in the
    /// Secret.
    static func warnIfSecretLooking(_ name: String) {
        let lower = name.lowercased()
        guard
            ["apikey", "api-key", "api_key", "token", "password", "secret", "credential"].contains(
                where: lower.contains)
        else { return }
        StandardError.writeLine(
            "warning: settings are stored in clear in a ConfigMap; keep \(name) in the Secret with "
                + "`beluga-secrets set \(name)` if it is a credential")
    }
}

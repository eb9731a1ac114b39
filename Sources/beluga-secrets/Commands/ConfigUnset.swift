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
            patched here.
            """)

    @Argument(help: "Name of the setting.")
    var name: String

    @OptionGroup var direct: DirectOption
    @OptionGroup var dryRun: DryRunOption
    @OptionGroup var release: ReleaseOptions

    func run() async throws {
        let workspace = try release.connect()
        let outcome = try await workspace.settings.unset(name, dryRun: dryRun.enabled)
        let configMap = workspace.describe("ConfigMap", workspace.names.configMap)
        let was = YAMLWriter.scalar(outcome.previous ?? "")
        print(
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

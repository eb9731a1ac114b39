import ArgumentParser
import SecretSync

/// `beluga-secrets config get`: prints one setting.
struct ConfigGet: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "get", abstract: "Print a setting's value.")

    @Argument(help: "Name of the setting.")
    var name: String

    @OptionGroup var release: ReleaseOptions

    func run() async throws {
        let workspace = try release.connect()
        try SettingsWriter.validateName(name)
        guard let value = try await workspace.settings.read()?[name] else {
            throw ChangeError.keyNotFound(
                key: name, object: workspace.describe("ConfigMap", workspace.names.configMap),
                hint: "run `beluga-secrets config list` to see the settings")
        }
        print(value)
    }
}

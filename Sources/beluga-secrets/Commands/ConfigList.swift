import ArgumentParser
import JSONValue
import YAML
import SecretSync

/// `beluga-secrets config list`: every setting.
struct ConfigList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List the settings.")

    @OptionGroup var output: OutputOptions
    @OptionGroup var release: ReleaseOptions

    func run() async throws {
        let workspace = try release.connect()
        let data = try await workspace.settings.read()?.data ?? [:]
        if output.printData(.object(data.mapValues(JSON.string))) { return }
        guard !data.isEmpty else {
            StandardError.writeLine(
                "No settings in \(workspace.describe("ConfigMap", workspace.names.configMap)).")
            return
        }
        var table = TableWriter("NAME", "VALUE")
        for name in data.keys.sorted() {
            // One line per setting: a value with line breaks shows them escaped.
            table.add([name, YAMLWriter.scalar(data[name] ?? "")])
        }
        print(table.text, terminator: "")
    }
}

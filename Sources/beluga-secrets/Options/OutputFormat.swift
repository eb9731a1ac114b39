import ArgumentParser
import JSONValue
import YAML

/// `-o table|json|yaml` for commands whose output is data.
enum OutputFormat: String, ExpressibleByArgument, CaseIterable, Sendable {
    case table
    case json
    case yaml
}

/// The `-o/--output` option.
struct OutputOptions: ParsableArguments {
    @Option(
        name: [.customShort("o"), .customLong("output")],
        help: ArgumentHelp("Output format: table, json or yaml.", valueName: "format"))
    var format: OutputFormat = .table

    /// Prints `data` as JSON or YAML; false for `table`, which the command prints itself.
    func printData(_ data: JSON) -> Bool {
        switch format {
        case .table: return false
        case .json: print(data.prettyText())
        case .yaml: print(YAMLWriter.document(data), terminator: "")
        }
        return true
    }
}

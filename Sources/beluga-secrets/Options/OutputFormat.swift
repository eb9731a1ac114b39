import ArgumentParser
import JSONValue
import SecretSync
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
    /// Inside a multi-cluster run, the data is kept for the one document of all clusters.
    func printData(_ data: JSON) -> Bool {
        if format != .table, let scope = ClusterScope.current {
            scope.keep(data)
            return true
        }
        switch format {
        case .table: return false
        case .json: print(data.prettyText())
        case .yaml: print(YAMLWriter.document(data), terminator: "")
        }
        return true
    }
}

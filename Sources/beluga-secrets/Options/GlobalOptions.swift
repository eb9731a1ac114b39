import ArgumentParser

/// kubectl's global options, written before the command as kubectl users do
/// (`beluga-secrets -n ai list`, `beluga-secrets --context prod get KEY`).
///
/// argument-parser knows options only after the (sub)command that declares them, so the options
/// found before the command name are moved, untouched, to just after the whole command path
/// (`-n ai config set …` becomes `config set -n ai …`). The command then parses them exactly as
/// if they had been typed there: same meaning, same validation, same errors, and a command
/// without such an option refuses it as it would anywhere.
enum GlobalOptions {
    /// The options moved: kubectl's `--kubeconfig`, `--context`, `-n/--namespace` and
    /// `--request-timeout`, each taking a value.
    static let names: Set<String> = ["--kubeconfig", "--context", "--namespace", "-n", "--request-timeout"]

    /// What the command line becomes.
    enum Rewrite: Equatable {
        /// The arguments to parse.
        case arguments([String])
        /// Global options with no command after them: a one-line usage error.
        case missingCommand(String)
    }

    /// `arguments` (without the program name) with the global options that precede the command
    /// moved after its command path. Only a run of such options at the very start is moved; the
    /// first other argument ends it, and `--` ends it for good.
    static func rewrite(_ arguments: [String], root: any ParsableCommand.Type) -> Rewrite {
        var moved: [String] = []
        var index = 0
        while index < arguments.count, isGlobalOption(arguments[index]) {
            let option = arguments[index]
            moved.append(option)
            index += 1
            // `--context=prod` carries its value; `--context prod` takes the next argument, unless
            // that looks like an option (then the command reports the missing value, as it
            // would after its name).
            if !option.contains("="), index < arguments.count, takesAsValue(arguments[index]) {
                moved.append(arguments[index])
                index += 1
            }
        }
        guard !moved.isEmpty else { return .arguments(arguments) }
        let rest = Array(arguments[index...])

        // The built-in `help` command reads command names only: the options do not matter to it.
        if rest.first == "help" { return .arguments(rest) }
        if rest.isEmpty || rest[0].hasPrefix("-") {
            if rest.contains("--help") || rest.contains("-h") { return .arguments(rest) }
            let first = moved[0].split(separator: "=", maxSplits: 1)[0]
            return .missingCommand(
                "\(first) must be followed by a command, as in: beluga-secrets \(moved.joined(separator: " ")) list"
            )
        }

        // The command path: as deep as the names go (`config set`, `keys show`).
        var command = root
        var depth = 0
        while depth < rest.count,
            let next = command.configuration.subcommands.first(where: { named($0, rest[depth]) })
        {
            command = next
            depth += 1
        }
        // An unknown command: leave the line as typed, so the parser names what is wrong.
        guard depth > 0 else { return .arguments(arguments) }
        return .arguments(Array(rest[..<depth]) + moved + Array(rest[depth...]))
    }

    /// Whether an argument is one of the global options (`-n`, `--context=prod`).
    private static func isGlobalOption(_ argument: String) -> Bool {
        let name = argument.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)[0]
        return names.contains(String(name))
    }

    /// Whether argument-parser would take `argument` as the value of the option before it: any
    /// argument but one that starts with a dash (`-` alone is a value).
    private static func takesAsValue(_ argument: String) -> Bool {
        argument == "-" || !argument.hasPrefix("-")
    }

    private static func named(_ command: any ParsableCommand.Type, _ name: String) -> Bool {
        command._commandName == name || command.configuration.aliases.contains(name)
    }
}

import ArgumentParser

/// The `beluga-secrets` command: sealed API keys, rotation and rolling restarts for the Beluga AI
/// server on Kubernetes.
///
/// Adding a command is one file under `Commands/` and one line in `subcommands` below.
@main
struct BelugaSecrets: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "beluga-secrets",
        abstract: "Sealed API keys, rotation and rolling restarts for the Beluga AI server on Kubernetes.",
        discussion: """
            Values are sealed on the workstation with libsodium (a sealed box to the agent's \
            public key); only ciphertext leaves the machine. Commands that talk to the cluster \
            take kubectl's global options --kubeconfig, --context, -n/--namespace and \
            --request-timeout, before the command as well as after it (beluga-secrets -n ai list \
            is beluga-secrets list -n ai). set, rotate, rollback, delete, config set|unset, \
            restart, list, get, status and doctor take --context several times, or \
            --all-contexts, to work on several clusters at once; they then exit with the most \
            severe cluster's code, in the order 6, 4, 1, 3, 2, 5, 0. Exit codes: 0 ok; 1 usage \
            or local input (bad flags, unreadable or insecure key file, kubeconfig); 2 not found; \
            3 conflict that retries could not resolve; 4 denied (401/403); 5 cluster unreachable, \
            or --wait timed out; 6 rejected (bad envelope, bad value, invalid name, refused by the \
            API server or the agent, failed rollout, changed agent identity). doctor exits 1 for \
            warnings and 6 for failures.
            """,
        subcommands: [
            SetCommand.self,
            Rotate.self,
            GetCommand.self,
            ListCommand.self,
            Delete.self,
            Rollback.self,
            Config.self,
            Restart.self,
            StatusCommand.self,
            MaxAgeCommand.self,
            DoctorCommand.self,
            Keygen.self,
            Seal.self,
            Unseal.self,
            FingerprintCommand.self,
            Signer.self,
            AgentCommand.self,
            Audit.self,
            Keys.self,
            Completion.self,
            VersionCommand.self,
        ]
    )

    /// Parses and runs the command, and turns every failure into `error: <one line>` on standard
    /// error and the documented exit code (see `ExitStatus`).
    static func main() async {
        ProcessHardening.apply()
        let arguments: [String]
        switch GlobalOptions.rewrite(Array(CommandLine.arguments.dropFirst()), root: Self.self) {
        case .arguments(let rewritten): arguments = rewritten
        case .missingCommand(let message):
            ErrorReport.terminate(with: CommandError(message), command: Self.self)
        }
        do {
            var command = try parseAsRoot(arguments)
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            ErrorReport.terminate(with: error, command: Self.self, arguments: arguments)
        }
    }
}

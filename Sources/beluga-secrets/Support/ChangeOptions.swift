import ArgumentParser

/// `--dry-run` of every command that writes.
struct DryRunOption: ParsableArguments {
    @Flag(
        name: .customLong("dry-run"),
        help: "Show what would change and change nothing (reads only).")
    var enabled = false
}

/// `--wait` and `--timeout` of the commands that can follow their change to the end.
struct WaitOptions: ParsableArguments {
    @Flag(
        help: ArgumentHelp(
            "Wait for the outcome: the agent's verdict on the new version (sealed mode), then the rollout "
                + "of the Deployment, as kubectl rollout status follows it."))
    var wait = false

    @Option(help: ArgumentHelp("How long --wait waits in all.", valueName: "duration"))
    var timeout = DurationArgument(.seconds(300), text: "5m")

    func validate() throws {
        if timeout.duration <= .zero { throw ValidationError("--timeout must be more than 0 (e.g. 5m)") }
    }

    /// `--timeout` when `--wait` is given, else `nil`.
    var limit: DurationArgument? { wait ? timeout : nil }
}

/// `--direct`: do the agent's work from the workstation.
struct DirectOption: ParsableArguments {
    @Flag(
        help: ArgumentHelp(
            "No agent: write the Secret itself and patch the Deployment's content hash "
                + "(needs permission to read and write the Secret)."))
    var direct = false
}

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

/// How far `--wait` follows a change the agent applies.
enum WaitTarget: String, ExpressibleByArgument, CaseIterable, Sendable {
    /// The agent's verdict on the new version (with `--direct`: the write itself).
    case applied
    /// Then the restart of the Deployment and its rollout.
    case rollout
}

/// `--wait`, `--wait-for` and `--timeout` of the commands whose change the agent applies (`set`,
/// `rotate`, `rollback`).
struct ChangeWaitOptions: ParsableArguments {
    @OptionGroup var base: WaitOptions

    @Option(
        name: .customLong("wait-for"),
        help: ArgumentHelp(
            "How far --wait follows the change: applied (the agent's verdict; with --direct, the write) "
                + "or rollout (then the restart and the rollout). Implies --wait.",
            valueName: "applied|rollout"))
    var target: WaitTarget?

    /// Whether to wait at all.
    var wait: Bool { base.wait || target != nil }
    var timeout: DurationArgument { base.timeout }
    /// Whether the wait goes on past the agent's verdict to the rollout.
    var throughRollout: Bool { (target ?? .rollout) == .rollout }
    /// Whether the command waits for the rollout (so it notes the Deployment before the change).
    var followsRollout: Bool { wait && throughRollout }
    /// `--timeout` when the rollout is to be followed, else `nil`.
    var rolloutLimit: DurationArgument? { followsRollout ? base.timeout : nil }
}

/// `--direct`: do the agent's work from the workstation.
struct DirectOption: ParsableArguments {
    @Flag(
        help: ArgumentHelp(
            "No agent: write the Secret itself and patch the Deployment's content hash "
                + "(needs permission to read and write the Secret)."))
    var direct = false
}

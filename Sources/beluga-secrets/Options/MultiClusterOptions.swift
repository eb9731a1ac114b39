import ArgumentParser

/// `--all-contexts` and `--yes` of the commands that work on several clusters at once (with
/// `--context` given several times).
struct MultiClusterOptions: ParsableArguments {
    @Flag(
        name: .customLong("all-contexts"),
        help: ArgumentHelp(
            "Work on every context of the kubeconfig at once (a change asks for confirmation on a terminal).")
    )
    var allContexts = false

    @Flag(
        help: ArgumentHelp(
            "Do not ask for confirmation of --all-contexts (needed when standard input is not a terminal)."))
    var yes = false
}

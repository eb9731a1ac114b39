import ArgumentParser

/// `beluga-secrets completion`: the shell completion script.
struct Completion: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the completion script for bash, zsh or fish.",
        discussion: """
            bash: source <(beluga-secrets completion bash)
            zsh:  beluga-secrets completion zsh > "${fpath[1]}/_beluga-secrets"
            fish: beluga-secrets completion fish > ~/.config/fish/completions/beluga-secrets.fish
            """)

    /// The shells argument-parser writes scripts for.
    enum Shell: String, ExpressibleByArgument, CaseIterable {
        case bash, zsh, fish
    }

    @Argument(help: "The shell: bash, zsh or fish.")
    var shell: Shell

    func run() throws {
        guard let completionShell = CompletionShell(rawValue: shell.rawValue) else {
            throw CommandError("no completion script for \(shell.rawValue): use bash, zsh or fish")
        }
        print(BelugaSecrets.completionScript(for: completionShell))
    }
}

import ArgumentParser

/// `beluga-secrets config`: the release's settings (not secret), in `<release>-config`.
struct Config: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show or change the settings in the ConfigMap <release>-config (llmProvider, …).",
        discussion: """
            Settings are not secret: they are stored in clear and may be given on the command line. \
            Keep API keys and tokens in the Secret with beluga-secrets set.
            """,
        subcommands: [ConfigSet.self, ConfigGet.self, ConfigList.self, ConfigUnset.self])
}

import ArgumentParser
import SecretSync

/// `beluga-secrets max-age`: sets or clears a key's maximum age.
struct MaxAgeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "max-age",
        abstract: "Set how old a key's current version may get before it is due for rotation.",
        discussion: """
            Records the maximum age in the sealed store's annotation beluga-ai.io/key-max-age, \
            where the agent reads it (the chart's apiKeys[].maxAge renders the same annotation, \
            and a helm upgrade sets it back to the values). DURATION is whole numbers with units \
            s, m, h, d (90d, 720h, 1d12h), from 1s to 3650d; 0 or none clears it. When the \
            key's current version gets older, the agent exports it \
            (beluga_secrets_key_age_seconds against beluga_secrets_key_max_age_seconds), writes \
            one audit record key.overdue and one Warning Event KeyOverdue per version, and list, \
            status and doctor mark the key overdue until a new value is set. The key need not \
            exist yet. No value is read or written.
            """)

    @Argument(help: "Name of the key.")
    var key: String

    @Argument(
        help: ArgumentHelp("The maximum age (90d, 720h), or 0 or none to clear it.", valueName: "duration"))
    var duration: String

    @OptionGroup var dryRun: DryRunOption
    @OptionGroup var release: ReleaseOptions

    func validate() throws {
        guard UntrustedField.isKeyName(key) else {
            throw ValidationError("\"\(key)\" is not a Secret key name (letters, digits, '-', '_', '.')")
        }
        guard duration == "0" || duration == "none" || KeyMaxAge(duration) != nil else {
            throw ValidationError(
                "\"\(duration)\" is not a maximum age: use whole numbers with units s, m, h, d (90d, 720h), "
                    + "from 1s to 3650d, or 0 or none to clear it")
        }
    }

    func run() async throws {
        let workspace = try release.connect()
        let key = self.key
        let maxAge = KeyMaxAge(duration)
        let outcome = try await workspace.sealedStore.update(dryRun: dryRun.enabled) {
            (store: inout SealedStore) throws(ChangeError) -> KeyMaxAge? in
            let previous = store.maxAges[key]
            store.maxAges[key] = maxAge
            return previous
        }
        let store = workspace.describe("ConfigMap", workspace.names.sealedStore)
        let before = outcome.result.map { " (was \($0.text))" } ?? " (had none)"
        let what = maxAge.map { "maximum age \($0.text)" } ?? "no maximum age"
        Narration.say(
            dryRun.enabled
                ? "\(key): would get \(what)\(before) in \(store) (dry run: nothing written)"
                : "\(key): \(what)\(before) in \(store)")
    }
}

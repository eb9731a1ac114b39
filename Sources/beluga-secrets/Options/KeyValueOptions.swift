import ArgumentParser
import Sealing

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// How `set` and `rotate` get the new value and seal it.
struct KeyValueOptions: ParsableArguments {
    @OptionGroup var valueSource: ValueSourceOptions

    @Flag(
        name: .customLong("no-confirm"),
        help: "On a terminal, ask for the value once instead of twice.")
    var noConfirm = false

    @Flag(
        name: .customLong("accept-new-identity"),
        help: ArgumentHelp(
            "Trust the agent identity and current sealing key the cluster now publishes, though another "
                + "identity was pinned for this namespace or a newer current key was seen (after a deliberate "
                + "reinstall of the agent, or a restore of its keys from a backup)."))
    var acceptNewIdentity = false

    @Option(
        help: ArgumentHelp(
            "Signing key file (default: signer.key in the configuration folder, when it exists).",
            valueName: "file"))
    var signerKey: String?

    @Flag(name: .customLong("no-sign"), help: "Do not sign the envelope, even when a signing key exists.")
    var noSign = false

    @Option(
        help: ArgumentHelp("Who sets the value, recorded with it (default: user@host).", valueName: "name"))
    var sealedBy: String?

    func validate() throws {
        if noSign, signerKey != nil {
            throw ValidationError("--no-sign and --signer-key cannot be combined: pass one of them")
        }
    }

    var author: String { sealedBy ?? LocalIdentity.userAtHost() }

    /// Whether the value is typed at a prompt; otherwise it is read before anything else, so
    /// that a variable named by --from-env leaves the environment before any child process (a
    /// kubeconfig credential plugin) starts.
    var prompts: Bool { valueSource.source == .standardInput && isatty(STDIN_FILENO) == 1 }

    /// Reads the value; on a terminal twice, unless `--no-confirm`, and both must match.
    func readValue(key: String) throws -> SecureBytes {
        let source = valueSource.source
        let value = try ValueReader.readValue(from: source, prompt: "Value for \(key): ")
        guard source == .standardInput, isatty(STDIN_FILENO) == 1, !noConfirm else { return value }
        let again = try ValueReader.readValue(from: source, prompt: "Again, to confirm: ")
        guard again == value else {
            throw CommandError("the two values typed differ: nothing was changed; run the command again")
        }
        return value
    }

    /// The key to sign with: `--signer-key`, else the user's own when it exists; none with
    /// `--no-sign`.
    func signingKey() throws -> SigningKeyPair? {
        guard !noSign else { return nil }
        if let signerKey { return try SigningKeyPair.read(privateKeyFile: signerKey) }
        let defaultPath = try ConfigFolder.signerPrivateKeyPath()
        guard access(defaultPath, F_OK) == 0 else { return nil }
        return try SigningKeyPair.read(privateKeyFile: defaultPath)
    }
}

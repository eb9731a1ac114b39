import ArgumentParser
import Sealing

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// `beluga-secrets seal`: seals a value to a public key without a cluster; prints one envelope.
struct Seal: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Seal a value to a public key and print the envelope.",
        discussion: """
            The value is read without echo from the terminal, or from standard input when that \
            is not a terminal (one trailing newline, LF or CRLF, is removed), or from --from-file \
            (verbatim) or --from-env; never from the command line. The envelope is one line, \
            bound to the namespace, Secret and key: it opens only for them. It is safe to store \
            in a ConfigMap, in Helm values or in git. When you have a signing key (beluga-secrets \
            signer init), the envelope is signed with it (format 2, bs2.…) and records --version; \
            otherwise, or with --no-sign, it is unsigned (format 1, bs1.…).
            """)

    @Argument(help: "Name of the key in the Secret, e.g. openai-api-key.")
    var key: String

    @Option(help: ArgumentHelp("Public key file to seal to (sealing.pub).", valueName: "file"))
    var publicKey: String

    @OptionGroup var binding: OfflineBindingOptions

    @Option(
        help: ArgumentHelp("Who seals, recorded in the envelope (default: user@host).", valueName: "name"))
    var sealedBy: String?

    @OptionGroup var valueSource: ValueSourceOptions

    @Option(
        help: ArgumentHelp(
            "Signing key file (default: signer.key in the configuration folder, when it exists).",
            valueName: "file"))
    var signerKey: String?

    @Flag(name: .customLong("no-sign"), help: "Do not sign the envelope, even when a signing key exists.")
    var noSign = false

    @Option(
        name: .customLong("version"),
        help: ArgumentHelp(
            "Version of the key recorded in a signed envelope (default: 1); an agent refuses a version "
                + "not higher than the one it applied, so raise it for each new value you commit. `set` "
                + "numbers its changes above the version the agent applied.", valueName: "n"))
    var keyVersion: Int?

    func validate() throws {
        if noSign, signerKey != nil {
            throw ValidationError("--no-sign and --signer-key cannot be combined: pass one of them")
        }
        if noSign, keyVersion != nil {
            throw ValidationError(
                "--version is recorded only in signed envelopes: drop --no-sign or --version")
        }
    }

    func run() throws {
        let target = try binding.binding(key: key)
        let recipient = try SealingPublicKey.read(from: publicKey)
        let signer = try signingKey()
        let value = try ValueReader.readValue(from: valueSource.source, prompt: "Value for \(key): ")
        let sealer = sealedBy ?? LocalIdentity.userAtHost()
        let envelope: Envelope
        if let signer {
            envelope = try Envelope.seal(
                value, for: target, to: recipient, sealedBy: sealer, version: keyVersion ?? 1, signer: signer)
        } else {
            envelope = try Envelope.seal(value, for: target, to: recipient, sealedBy: sealer)
        }
        print(envelope.text)
    }

    /// The signing key to sign with: `--signer-key`, else the default one when it exists.
    private func signingKey() throws -> SigningKeyPair? {
        guard !noSign else { return nil }
        if let signerKey { return try SigningKeyPair.read(privateKeyFile: signerKey) }
        let defaultPath = try ConfigFolder.signerPrivateKeyPath()
        if access(defaultPath, F_OK) == 0 { return try SigningKeyPair.read(privateKeyFile: defaultPath) }
        if keyVersion != nil {
            throw CommandError(
                "--version is recorded only in signed envelopes, and there is no signing key at \(defaultPath): "
                    + "run beluga-secrets signer init, or pass --signer-key")
        }
        return nil
    }
}

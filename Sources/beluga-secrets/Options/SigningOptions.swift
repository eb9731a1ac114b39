import ArgumentParser
import Sealing

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// `--signer-key` and `--no-sign` of commands that sign what they write without sealing a value
/// (`rollback`).
struct SigningOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "Signing key file (default: signer.key in the configuration folder, when it exists).",
            valueName: "file"))
    var signerKey: String?

    @Flag(name: .customLong("no-sign"), help: "Do not sign, even when a signing key exists.")
    var noSign = false

    func validate() throws {
        if noSign, signerKey != nil {
            throw ValidationError("--no-sign and --signer-key cannot be combined: pass one of them")
        }
    }

    /// `--signer-key`, else the user's own key when it exists; none with `--no-sign`.
    func signingKey() throws -> SigningKeyPair? {
        guard !noSign else { return nil }
        if let signerKey { return try SigningKeyPair.read(privateKeyFile: signerKey) }
        let defaultPath = try ConfigFolder.signerPrivateKeyPath()
        guard access(defaultPath, F_OK) == 0 else { return nil }
        return try SigningKeyPair.read(privateKeyFile: defaultPath)
    }
}

import ArgumentParser
import Sealing

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// `beluga-secrets signer init`: creates the operator's signing key.
struct SignerInit: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Create your signing key and print its public key and id.",
        discussion: """
            Writes signer.key (the private key, mode 0600) and signer.pub into the configuration \
            folder, creating the folder with mode 0700 when missing. Give the public key to the \
            administrators of the namespaces you seal values for.
            """)

    @Flag(help: "Replace an existing signing key (envelopes it signed stay signed by the old key).")
    var force = false

    func run() throws {
        let folder = try ConfigFolder.path()
        try KeyFolder.prepare(folder)
        let privatePath = try ConfigFolder.signerPrivateKeyPath()
        let publicPath = try ConfigFolder.signerPublicKeyPath()
        if !force {
            for path in [privatePath, publicPath] where access(path, F_OK) == 0 {
                throw CommandError(
                    "\(path) already exists: pass --force to replace your signing key "
                        + "(agents that know only the old public key will not accept the new one)")
            }
        }
        let pair = SigningKeyPair.generate()
        try pair.writeFiles(privateKey: privatePath, publicKey: publicPath, replacing: force)
        SignerShow.printKey(pair.publicKey, file: privatePath)
    }
}

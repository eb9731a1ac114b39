import ArgumentParser
import Sealing

/// `beluga-secrets signer show`: prints the operator's signing public key and its id.
struct SignerShow: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Print the public key and id of your signing key.",
        discussion: "The public key is derived from the private key file, which must be mode 0600.")

    @Flag(help: "Print only the public key (base64), for scripts.")
    var publicKeyOnly = false

    @Option(
        help: ArgumentHelp(
            "Signing key file (default: signer.key in the configuration folder).", valueName: "file"))
    var signerKey: String?

    func run() throws {
        let path = try signerKey ?? ConfigFolder.signerPrivateKeyPath()
        let pair = try SigningKeyPair.read(privateKeyFile: path)
        if publicKeyOnly {
            print(pair.publicKey.base64)
        } else {
            Self.printKey(pair.publicKey, file: path)
        }
    }

    static func printKey(_ key: SigningPublicKey, file: String) {
        print("signer id:  \(key.signerID)")
        print("public key: \(key.base64)")
        print("key file:   \(file)")
    }
}

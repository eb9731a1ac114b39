import ArgumentParser
import Sealing

/// `beluga-secrets unseal`: opens an envelope with a private key file, for recovery and tests.
struct Unseal: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Open an envelope read from standard input and print the value.",
        discussion: """
            Checks that the envelope was sealed for this namespace, Secret and key, and prints \
            the value to standard output exactly as sealed, without a newline added. Meant for \
            recovery and tests: the value appears in clear on standard output. With \
            --allowed-signer, the envelope must also be signed by one of those keys; without it, \
            signatures are not checked.
            """)

    @Argument(help: "Name of the key the envelope was sealed for.")
    var key: String

    @Option(help: ArgumentHelp("Private key file (sealing.key, mode 0600).", valueName: "file"))
    var privateKey: String

    @OptionGroup var binding: OfflineBindingOptions

    @Option(
        name: .customLong("allowed-signer"),
        help: ArgumentHelp(
            "Require a signature by this signer public key file (repeatable).", valueName: "file"))
    var allowedSigners: [String] = []

    func run() throws {
        let expected = try binding.binding(key: key)
        let keyPair = try SealingKeyPair.read(privateKeyFile: privateKey)
        let signers = try allowedSigners.map { path throws(SealingError) in
            try SigningPublicKey.read(from: path)
        }
        let envelope = try Envelope.parse(try EnvelopeInput.readStandardInput())
        if !signers.isEmpty {
            _ = try envelope.verifySignature(allowedSigners: signers).requireSigned()
        }
        let payload = try envelope.open(with: keyPair, expecting: expected)
        try StandardOutput.writeValue(payload.value)
    }
}

import ArgumentParser
import Sealing

/// `beluga-secrets seal`: seals a value to a public key without a cluster; prints one envelope.
struct Seal: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Seal a value to a public key and print the envelope.",
        discussion: """
            The value is read without echo from the terminal, or from standard input when that \
            is not a terminal (one trailing newline, LF or CRLF, is removed), or from --from-file \
            (verbatim) or --from-env; never from the command line. The envelope (one line, \
            bs1.<key id>.<ciphertext>) is bound to the namespace, Secret and key: it opens only \
            for them. It is safe to store in a ConfigMap, in Helm values or in git.
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

    func run() throws {
        let target = try binding.binding(key: key)
        let recipient = try SealingPublicKey.read(from: publicKey)
        let value = try ValueReader.readValue(from: valueSource.source, prompt: "Value for \(key): ")
        let envelope = try Envelope.seal(
            value, for: target, to: recipient, sealedBy: sealedBy ?? LocalIdentity.userAtHost())
        print(envelope.text)
    }
}

import ArgumentParser
import Sealing

/// `beluga-secrets fingerprint`: a value's fingerprint, to compare with the agent's records.
struct FingerprintCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fingerprint",
        abstract: "Print the fingerprint of a value (fp1:…), which identifies it without revealing it.",
        discussion: """
            Reads the value like seal does. Two fingerprints of the same namespace, Secret and \
            key are equal exactly when the values are equal; the agent's audit records and \
            status carry the fingerprint of each value it applied.
            """)

    @Argument(help: "Name of the key in the Secret.")
    var key: String

    @OptionGroup var binding: OfflineBindingOptions

    @OptionGroup var valueSource: ValueSourceOptions

    func run() throws {
        let target = try binding.binding(key: key)
        let value = try ValueReader.readValue(from: valueSource.source, prompt: "Value for \(key): ")
        print(Fingerprint(of: value, binding: target))
    }
}

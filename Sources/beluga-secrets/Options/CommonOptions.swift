import ArgumentParser
import Sealing

/// Where a value belongs, for commands that work without a cluster (`seal`, `unseal`,
/// `fingerprint`): the namespace must be named, the Secret defaults to the release's.
struct OfflineBindingOptions: ParsableArguments {
    @Option(name: [.short, .long], help: "Namespace the value belongs to.")
    var namespace: String

    @Option(help: "Name of the Secret that holds the key.")
    var secret: String = "beluga-ai-secrets"

    /// The binding of `key`, validating the key name and the Kubernetes names.
    func binding(key: String) throws -> SecretBinding {
        try KubernetesNames.validateNamespace(namespace)
        try KubernetesNames.validateSecretName(secret)
        return try SecretBinding(namespace: namespace, secret: secret, key: key)
    }
}

/// Where a value is read from besides the terminal or standard input; never the command line.
struct ValueSourceOptions: ParsableArguments {
    @Option(
        name: .customLong("from-file"),
        help: ArgumentHelp("Read the value from this file, byte for byte (like kubectl).", valueName: "file"))
    var fromFile: String?

    @Option(
        name: .customLong("from-env"),
        help: ArgumentHelp("Read the value from this environment variable.", valueName: "variable"))
    var fromEnv: String?

    func validate() throws {
        if fromFile != nil, fromEnv != nil {
            throw ValidationError("--from-file and --from-env cannot be combined: pass one of them")
        }
    }

    var source: ValueReader.Source {
        if let fromFile { return .file(fromFile) }
        if let fromEnv { return .environment(fromEnv) }
        return .standardInput
    }
}

import ArgumentParser
import KubeAPI
import Sealing
import SecretSync

/// `beluga-secrets signer add`: allows an operator's signing key in the namespace.
struct SignerAdd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Allow a signer in the namespace (ConfigMap <release>-signers).",
        discussion: """
            The agent then accepts envelopes signed by this key and records NAME as who changed \
            the key. PUBKEY is the public key as beluga-secrets signer show prints it (base64 of \
            32 bytes), or @FILE for a signer.pub file. The ConfigMap is created when missing. \
            Adding a name that is listed with the same key changes nothing; another key under a \
            listed name, or a key listed under another name, is refused (exit 3). Whoever may \
            update this ConfigMap decides who may change the namespace's keys: grant it to \
            administrators only.
            """)

    @Argument(help: "Name of the signer: letters, digits, '-', '_' and '.', at most 63 characters.")
    var name: String

    @Argument(help: ArgumentHelp("The signer's public key (base64), or @FILE.", valueName: "pubkey"))
    var publicKey: String

    @OptionGroup var dryRun: DryRunOption
    @OptionGroup var cluster: ClusterOptions
    @OptionGroup var agentObjects: AgentObjectsOptions

    func run() async throws {
        if let problem = AllowedSigners.validate(name: name) {
            throw AllowedSignersError.invalidName(name: name, reason: problem)
        }
        let key = try Self.parseKey(publicKey)
        let signers = try await SignersConfigMap(cluster, agentObjects)
        let name = self.name
        let outcome = try await signers.writer.update(dryRun: dryRun.enabled) {
            (list: inout AllowedSigners) throws(AllowedSignersError) -> AllowedSigners.AddOutcome in
            try list.add(name: name, key: key)
        }
        let what = "signer \(name) (key id \(key.signerID))"
        if outcome.result == .unchanged {
            print("\(what) is already listed in \(signers.description): nothing to change")
        } else if dryRun.enabled {
            print(
                "\(what) would be added to \(signers.description)\(outcome.created ? ", creating it" : "") "
                    + "(dry run: nothing written)")
        } else {
            print("\(what) added to \(signers.description); the agent accepts its signed envelopes")
        }
    }

    /// The key as `signer show` prints it, or `@FILE` with a `signer.pub`.
    static func parseKey(_ text: String) throws -> SigningPublicKey {
        if text.hasPrefix("@") {
            let path = String(text.dropFirst())
            guard !path.isEmpty else {
                throw CommandError("@ must be followed by a file name, e.g. @signer.pub")
            }
            return try SigningPublicKey.read(from: path)
        }
        return try SigningPublicKey(base64: text.trimmingWhitespace())
    }
}

/// The signers ConfigMap of the namespace a command works on.
struct SignersConfigMap {
    let writer: AllowedSignersWriter

    init(_ cluster: ClusterOptions, _ agentObjects: AgentObjectsOptions) async throws {
        let client = try cluster.client()
        try KubernetesNames.validateNamespace(client.namespace)
        writer = AllowedSignersWriter(
            client: client, namespace: client.namespace, name: try await agentObjects.names(client).signers)
    }

    /// `ConfigMap prod/beluga-ai-signers`.
    var description: String { "ConfigMap \(writer.namespace)/\(writer.name)" }
}

extension AllowedSignersWriteError: ReportableError {
    var message: String { description }

    var exitStatus: ExitStatus {
        switch self {
        case .api(let error): return error.exitStatus
        case .signers(let error): return error.exitStatus
        case .conflictPersisted: return .conflict
        }
    }
}

extension AllowedSignersError: ReportableError {
    var message: String { description }

    var exitStatus: ExitStatus {
        switch self {
        case .nameTaken, .keyListed: return .conflict
        case .notListed: return .notFound
        case .invalidName, .invalidEntry, .invalidPolicy, .malformedAnnotation: return .rejected
        }
    }
}

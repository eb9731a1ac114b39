import ArgumentParser
import Foundation
import KubeAPI
import SecretSync

/// `beluga-secrets keys`: the agent's sealing keys.
struct Keys: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show or rotate the agent's sealing keys.",
        subcommands: [KeysShow.self, KeysRotate.self])
}

/// `beluga-secrets keys show`: the published keys, checked against the agent's identity.
struct KeysShow: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Show the agent's identity and sealing keys (ConfigMap beluga-secrets-public-key).")

    @OptionGroup var cluster: ClusterOptions

    @Option(
        name: .customLong("public-key-config-map"),
        help: ArgumentHelp("Name of the public-key ConfigMap.", valueName: "name"))
    var publicKeyConfigMap = ObjectNames().publicKeyConfigMap

    func run() async throws {
        let client = try cluster.client()
        let object = try await client.get(
            ConfigMap.self, name: publicKeyConfigMap, namespace: client.namespace)
        let keys = try PublishedKeys(configMap: object.json)
        print("identity \(keys.identity.signerID) (\(keys.identity.base64))")
        print("current  \(keys.current.keyID)")
        var rows = "KID               STATE     CREATED\n"
        for entry in keys.keys.reversed() {
            rows +=
                entry.kid.padding(toLength: 18, withPad: " ", startingAt: 0)
                + entry.state.rawValue.padding(toLength: 10, withPad: " ", startingAt: 0) + entry.createdAt
                + "\n"
        }
        print(rows, terminator: "")
        if let pending = keys.pendingRotation {
            print("rotation asked for at \(pending), not yet carried out")
        }
    }
}

extension PublishedKeysError: ReportableError {
    var message: String { description }
    var exitStatus: ExitStatus { .rejected }
}

/// `beluga-secrets keys rotate`: asks the agent for a new sealing key.
struct KeysRotate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rotate",
        abstract: "Ask the agent for a new sealing key and wait until it is published.",
        discussion: """
            Sets the annotation beluga-ai.io/rotate-sealing-key on ConfigMap \
            beluga-secrets-public-key; the leading agent makes a new current key, publishes it \
            signed by its identity, and re-seals the stored envelopes to it. Old keys keep opening \
            old envelopes until nothing uses them. Operators need to do nothing: set and seal \
            follow the published current key. Needs get, patch and watch on that ConfigMap.
            """)

    @OptionGroup var cluster: ClusterOptions

    @Option(
        name: .customLong("public-key-config-map"),
        help: ArgumentHelp("Name of the public-key ConfigMap.", valueName: "name"))
    var publicKeyConfigMap = ObjectNames().publicKeyConfigMap

    @Option(help: ArgumentHelp("How long to wait for the agent.", valueName: "duration"))
    var timeout = DurationArgument(.seconds(60), text: "60s")

    func run() async throws {
        let client = try cluster.client()
        do {
            let outcome = try await SealingKeyRotation.request(
                client: client, namespace: client.namespace, configMap: publicKeyConfigMap,
                timeout: timeout.duration)
            print(
                "sealing key rotated: \(outcome.current.kid) is current (was \(outcome.previous)); "
                    + "the agent re-seals the stored envelopes to it")
        } catch {
            switch error {
            case .api(let failure): throw failure
            case .published(let failure): throw failure
            case .timedOut: throw CommandError(error.description, .unreachable)
            case .identityChanged: throw CommandError(error.description, .rejected)
            }
        }
    }
}

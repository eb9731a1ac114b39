import ArgumentParser
import JSONValue
import SecretSync

/// `beluga-secrets signer list`: the allowed and removed signers of the namespace.
struct SignerList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List the signers allowed in the namespace, and those removed.",
        discussion: """
            Reads the release's signers ConfigMap (<release>-signers). STATE is allowed, removed (with when and by \
            whom) or invalid (an entry that is not a name and a public key: it allows nobody). The \
            last line says whether the namespace's annotation beluga-ai.io/signatures sets the \
            signature policy, or the agent's --signatures flag does.
            """)

    @OptionGroup var output: OutputOptions
    @OptionGroup var cluster: ClusterOptions
    @OptionGroup var agentObjects: AgentObjectsOptions

    func run() async throws {
        let signers = try await SignersConfigMap(cluster, agentObjects)
        let object = try await signers.writer.read()
        let list = object.map { AllowedSigners(lenientConfigMap: $0.json) } ?? AllowedSigners()
        for problem in list.problems { StandardError.writeLine("warning: \(problem)") }

        var entries: [JSON] = []
        var table = TableWriter("NAME", "KEY ID", "STATE", "REMOVED", "PUBLIC KEY")
        for (name, key) in list.signers.sorted(by: { $0.key < $1.key }) {
            entries.append([
                "name": .string(name), "signerKeyId": .string(key.signerID.hex),
                "publicKey": .string(key.base64),
                "state": "allowed",
            ])
            table.add([name, key.signerID.hex, "allowed", "-", key.base64])
        }
        for (id, removed) in list.removed.sorted(by: { ($0.value.name, $0.key) < ($1.value.name, $1.key) }) {
            entries.append([
                "name": .string(removed.name), "signerKeyId": .string(id.hex),
                "publicKey": .string(removed.publicKey.base64), "state": "removed",
                "removedAt": .string(removed.removedAt), "removedBy": .string(removed.removedBy),
            ])
            let by = removed.removedBy.isEmpty ? "" : " by \(removed.removedBy)"
            table.add([removed.name, id.hex, "removed", removed.removedAt + by, removed.publicKey.base64])
        }
        for name in list.invalidEntries.keys.sorted() {
            entries.append(["name": .string(name), "state": "invalid"])
            table.add([name, "-", "invalid", "-", "-"])
        }
        let data: JSON = [
            "namespace": .string(signers.writer.namespace), "configMap": .string(signers.writer.name),
            "exists": .bool(object != nil), "policy": list.policy.map { .string($0.rawValue) } ?? .null,
            "signers": .array(entries),
        ]
        if output.printData(data) { return }
        if entries.isEmpty {
            StandardError.writeLine(
                object == nil
                    ? "No signers: \(signers.description) does not exist (beluga-secrets signer add creates it)."
                    : "No signers listed in \(signers.description).")
        } else {
            print(table.text, terminator: "")
        }
        if let policy = list.policy {
            print(
                "signatures \(policy.rawValue) in namespace \(signers.writer.namespace) (annotation \(AllowedSigners.policyAnnotation))"
            )
        } else if list.invalidPolicy != nil {
            print(
                "signatures required in namespace \(signers.writer.namespace): annotation \(AllowedSigners.policyAnnotation) is invalid"
            )
        } else {
            print(
                "signatures as the agent's --signatures flag says (no annotation \(AllowedSigners.policyAnnotation))"
            )
        }
    }
}

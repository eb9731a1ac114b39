import ArgumentParser
import SecretSync
import TimeFormat

/// `beluga-secrets signer remove`: stops accepting a signer's envelopes in the namespace.
struct SignerRemove: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "remove",
        abstract: "Stop accepting a signer in the namespace.",
        discussion: """
            The signer's key moves to the annotation beluga-ai.io/removed-signers of the release's \
            signers ConfigMap (<release>-signers), so the agent refuses its new envelopes as those of a removed \
            signer (under --signatures required) while the values it set before stay. A signer \
            that is not listed exits 2.
            """)

    @Argument(help: "Name of the signer (see beluga-secrets signer list).")
    var name: String

    @OptionGroup var dryRun: DryRunOption
    @OptionGroup var cluster: ClusterOptions
    @OptionGroup var agentObjects: AgentObjectsOptions

    func run() async throws {
        let signers = try await SignersConfigMap(cluster, agentObjects)
        let name = self.name
        let remover = LocalIdentity.userAtHost()
        let time = RFC3339.format(.now())
        let outcome = try await signers.writer.update(dryRun: dryRun.enabled) {
            (list: inout AllowedSigners) throws(AllowedSignersError) in
            try list.remove(name: name, at: time, by: remover)
        }
        let what = "signer \(name)" + (outcome.result.map { " (key id \($0.signerID))" } ?? "")
        if dryRun.enabled {
            print("\(what) would be removed from \(signers.description) (dry run: nothing written)")
        } else {
            print(
                "\(what) removed from \(signers.description): the agent refuses its new envelopes; "
                    + "values it set stay until they are replaced")
        }
    }
}

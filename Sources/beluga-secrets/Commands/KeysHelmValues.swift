import ArgumentParser
import KubeAPI
import Sealing
import SecretSync

/// `beluga-secrets keys helm-values`: the values block that re-seals Helm's envelopes to the
/// current sealing key after a rotation.
struct KeysHelmValues: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "helm-values",
        abstract: "Print the sealedSecrets values that re-seal Helm's envelopes to the current sealing key.",
        discussion: """
            The agent never rewrites an envelope that Helm values own (the keys of sealedSecrets): \
            the next helm upgrade would put the old one back. After a sealing-key rotation it keeps \
            the previous key for them, reports them (Warning Event HelmEnvelopeNeedsReseal, \
            beluga-secrets status and list) and publishes each unsigned one re-sealed to the \
            current key, with the same value, in its status ConfigMap. This command prints those \
            as a values file: save it and upgrade with both files, \
            `helm upgrade RELEASE CHART -f values.yaml -f sealed-values.yaml` (or copy the \
            envelopes into values.yaml). Once no envelope uses the previous key, the agent \
            retires it. Every envelope printed must be sealed to the current key that the pinned \
            agent identity signed, else nothing is printed (exit 6). Signed envelopes (bs2) only \
            their signer can seal again: they are named on standard error with the seal command. \
            Prints nothing when no envelope needs it. No value is read or shown.
            """)

    @OptionGroup var release: ReleaseOptions

    func run() async throws {
        let (workspace, _) = try await release.connect().resolvingAgentObjects()
        let current = try await SealingKeySource.trustedKey(
            in: workspace, acceptNewIdentity: false, dryRun: false)
        let status = try await workspace.agentStatus.read()
        let object = try await workspace.sealedStore.read()
        let stored = object.flatMap { try? SealedStore(configMap: $0.json, lenient: true) }?.envelopes ?? [:]
        let block: HelmValuesBlock
        do {
            block = try HelmValuesBlock(
                reported: status?.helmReseal ?? [:], stored: stored, current: current)
        } catch {
            throw CommandError(error.description, .rejected)
        }
        print(block.yaml(kid: current.keyID.hex), terminator: "")
        let names = workspace.names
        for (key, version) in block.signed {
            StandardError.writeLine(
                "note: \(key) is signed (bs2): its signer seals it again into sealedSecrets with beluga-secrets "
                    + "seal \(key) -n \(workspace.namespace) --secret \(names.secret) --version \(version) "
                    + "--public-key sealing.pub (the current key of ConfigMap \(names.publicKeyConfigMap))")
        }
        for key in block.changedSince {
            StandardError.writeLine(
                "note: \(key) changed in the sealed store since the agent re-sealed it: left out; the agent "
                    + "reports it again if it still needs re-sealing")
        }
        if block.envelopes.isEmpty, block.signed.isEmpty, block.changedSince.isEmpty {
            StandardError.writeLine(
                "nothing to re-seal: every envelope Helm values own in \(workspace.namespace) is sealed to "
                    + "the current sealing key \(current.keyID.hex)")
        }
    }
}

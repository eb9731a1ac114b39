import ArgumentParser
import Sealing
import SecretSync
import TimeFormat

/// `beluga-secrets delete`: removes a key.
struct Delete: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Delete a key.",
        discussion: """
            Removes the key's envelope from the sealed store and records the deletion as the key's \
            next version (a tombstone: who, when; signed with your signing key when you have one); \
            the agent then removes the key from the Secret and restarts the Deployment. A key that \
            merely left the sealed store (Helm values without it, a hand edit) stays in the Secret, \
            shown as orphaned by list and status, until deleted here. An agent that requires \
            signatures deletes a key only for a deletion signed by an allowed signer. With \
            --direct, removes the key from the Secret here and patches the Deployment's content \
            hash. \
            With --context given several times, or --all-contexts, the same change is made in \
            every cluster at once, a failure in one leaving the others to finish; one summary \
            follows (see beluga-secrets set --help).
            """)

    @Argument(help: "Name of the key to delete.")
    var key: String

    @OptionGroup var direct: DirectOption
    @OptionGroup var signing: SigningOptions
    @OptionGroup var dryRun: DryRunOption
    @OptionGroup var release: ReleaseOptions
    @OptionGroup(title: "Several clusters") var clusters: MultiClusterOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        try await ClusterTargets.change(
            release, clusters, output: output, command: "delete", dryRun: dryRun.enabled,
            recordsChange: !direct.direct
        ) { release in try await run(on: release) }
    }

    /// The change in one cluster.
    private func run(on release: ReleaseOptions) async throws {
        let workspace = try release.connect()
        let key = self.key
        let secret = workspace.describe("Secret", workspace.names.secret)
        if direct.direct {
            async let reading = workspace.restarter.read()
            let outcome = try await workspace.directSecret.write(
                key: key, .delete, by: LocalIdentity.userAtHost(), dryRun: dryRun.enabled)
            Narration.say(
                dryRun.enabled
                    ? "\(key): would delete it (\(outcome.previousFingerprint)) from \(secret) (dry run: nothing written)"
                    : "\(key): deleted from \(secret) (was \(outcome.previousFingerprint))")
            try await DirectRestart(
                workspace: workspace, dryRun: dryRun.enabled, waitTimeout: nil,
                pending: .init(object: .secret(workspace.names.secret), key: key, value: nil),
                writtenSecret: outcome.written, reading: await reading
            ).run()
            return
        }
        let signer = try signing.signingKey().map {
            RollbackSigner(
                key: $0,
                binding: try SecretBinding(
                    namespace: workspace.namespace, secret: workspace.names.secret, key: key))
        }
        // A key the agent still holds but the sealed store no longer does (orphaned) can be deleted.
        let status = try await workspace.agentStatus.readIfPermitted()
        let known = status?.orphaned[key] != nil || status?.keys[key] != nil
        let author = LocalIdentity.userAtHost()
        let outcome = try await workspace.sealedStore.update(dryRun: dryRun.enabled) {
            (store: inout SealedStore) throws(ChangeError) -> Int in
            do throws(SealedStoreError) {
                return try store.delete(
                    key: key, by: author, at: RFC3339.format(.now()), signer: signer, known: known,
                    change: ClusterTargets.sharedChange)
            } catch {
                throw .store(error)
            }
        }
        let store = workspace.describe("ConfigMap", workspace.names.sealedStore)
        let signed = signer.map { " signed by \($0.key.signerID)," } ?? ""
        if dryRun.enabled {
            Narration.say(
                "\(key): would record its deletion as version \(outcome.result)\(signed) in \(store) "
                    + "(dry run: nothing written)")
        } else {
            Narration.say(
                "\(key): deletion recorded as version \(outcome.result)\(signed) in \(store); the agent will "
                    + "remove it from \(secret)")
        }
    }
}

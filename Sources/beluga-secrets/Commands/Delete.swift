import ArgumentParser
import SecretSync

/// `beluga-secrets delete`: removes a key.
struct Delete: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Delete a key.",
        discussion: """
            Removes the key and its versions from the sealed store; the agent then removes it from \
            the Secret and restarts the Deployment. With --direct, removes it from the Secret here \
            and patches the Deployment's content hash. \
            With --context given several times, or --all-contexts, the same change is made in \
            every cluster at once, a failure in one leaving the others to finish; one summary \
            follows (see beluga-secrets set --help).
            """)

    @Argument(help: "Name of the key to delete.")
    var key: String

    @OptionGroup var direct: DirectOption
    @OptionGroup var dryRun: DryRunOption
    @OptionGroup var release: ReleaseOptions
    @OptionGroup(title: "Several clusters") var clusters: MultiClusterOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        try await ClusterTargets.change(
            release, clusters, output: output, command: "delete", dryRun: dryRun.enabled
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
        let outcome = try await workspace.sealedStore.update(dryRun: dryRun.enabled) {
            (store: inout SealedStore) throws(ChangeError) -> Int in
            let version = store.version(of: key)
            do throws(SealedStoreError) {
                try store.delete(key: key)
            } catch {
                throw .store(error)
            }
            return version
        }
        let store = workspace.describe("ConfigMap", workspace.names.sealedStore)
        if dryRun.enabled {
            Narration.say(
                "\(key): would delete version \(outcome.result) from \(store) (dry run: nothing written)")
        } else {
            Narration.say("\(key): deleted from \(store); the agent will remove it from \(secret)")
        }
    }
}

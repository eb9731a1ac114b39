import ArgumentParser
import KubeAPI
import Sealing
import SecretSync
import TimeFormat

/// `beluga-secrets rollback`: restores an earlier version of a key as its next version.
struct Rollback: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Restore an earlier version of a key (the previous one by default).",
        discussion: """
            The sealed store keeps the last 3 versions of each key. Rollback stores the envelope of \
            the chosen one again as a new version, so versions only ever increase and the agent \
            applies it like any change. With a signing key (beluga-secrets signer init), the \
            rollback carries a statement signed with it, naming the restored envelope and the new \
            version: an agent that requires signatures applies a signed envelope older than the \
            one it applied only with such a statement by an allowed signer, and records the \
            change as a rollback. Without a signing key, signed envelopes (format 2) cannot be \
            restored. Keys written with --direct keep no earlier versions. \
            With --context given several times, or --all-contexts, the same change is made in \
            every cluster at once, a failure in one leaving the others to finish; one summary \
            follows (see beluga-secrets set --help).
            """)

    @Argument(help: "Name of the key to roll back.")
    var key: String

    @Option(
        name: .customLong("to-version"),
        help: ArgumentHelp("The version to restore (see beluga-secrets get KEY).", valueName: "n"))
    var toVersion: Int?

    @OptionGroup var signing: SigningOptions
    @OptionGroup var wait: ChangeWaitOptions
    @OptionGroup var dryRun: DryRunOption
    @OptionGroup var release: ReleaseOptions
    @OptionGroup(title: "Several clusters") var clusters: MultiClusterOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        try await ClusterTargets.change(
            release, clusters, output: output, command: "rollback", dryRun: dryRun.enabled,
            recordsChange: true
        ) { release in try await run(on: release) }
    }

    /// The change in one cluster.
    private func run(on release: ReleaseOptions) async throws {
        let signer = try signing.signingKey()
        let workspace = try release.connect()
        let key = self.key
        let author = LocalIdentity.userAtHost()
        let before =
            wait.followsRollout && !dryRun.enabled
            ? try await ChangeFollower.deploymentBefore(workspace) : nil
        let rollbackSigner = try signer.map {
            RollbackSigner(
                key: $0,
                binding: try SecretBinding(
                    namespace: workspace.namespace, secret: workspace.names.secret, key: key))
        }
        guard let outcome = try await rollBack(workspace, author: author, signer: rollbackSigner) else {
            throw try await missingKey(workspace)
        }
        let version = outcome.result
        let restored = outcome.store.versions[key]?.rollbackOf ?? 0
        let fingerprint = outcome.store.versions[key]?.fingerprint ?? ""
        let signed = signer.map { " signed by \($0.signerID)" } ?? ""
        if dryRun.enabled {
            Narration.say(
                "\(key): would store version \(version), restoring version \(restored) (\(fingerprint))\(signed) (dry run: nothing written)"
            )
            return
        }
        Narration.say(
            "\(key): version \(version) restores version \(restored) (\(fingerprint))\(signed); "
                + (wait.wait ? "waiting for the agent" : "the agent will apply it"))
        guard wait.wait else { return }
        let previous = outcome.status?.keys[key]
        try await ChangeFollower(workspace: workspace, timeout: wait.timeout).followSealed(
            key: key, version: version,
            previousAppliedFingerprint: previous?.state == .applied ? previous?.fingerprint : nil,
            before: before, throughRollout: wait.throughRollout)
    }

    /// Stores the restored envelope as the next version; `nil` when the sealed store does not
    /// hold the key.
    private func rollBack(_ workspace: Workspace, author: String, signer: RollbackSigner?)
        async throws(ChangeError)
        -> SealedStoreWriter.Outcome<Int>?
    {
        let key = self.key
        let toVersion = self.toVersion
        do {
            return try await workspace.sealedStore.update(dryRun: dryRun.enabled) {
                (store: inout SealedStore) throws(ChangeError) -> Int in
                try Self.restore(
                    key: key, toVersion: toVersion, in: &store, by: author, signer: signer,
                    change: ClusterTargets.sharedChange)
            }
        } catch {
            if case .store(.keyNotFound) = error { return nil }
            throw error
        }
    }

    /// The edit: signs the rollback when there is a signer; without one, refuses signed versions,
    /// which an agent would not apply again.
    static func restore(
        key: String, toVersion: Int?, in store: inout SealedStore, by author: String,
        signer: RollbackSigner? = nil, change: ChangeID? = nil
    ) throws(ChangeError) -> Int {
        guard store.envelopes[key] != nil, let record = store.versions[key] else {
            throw .store(.keyNotFound(key: key))
        }
        let entry =
            toVersion.map { wanted in record.history.first { $0.version == wanted } } ?? record.history.first
        if signer == nil, let entry, entry.envelope.hasPrefix("bs2.") {
            throw .signedVersionCannotBeRolledBack(key: key, version: entry.version)
        }
        do {
            return try store.rollback(
                key: key, to: toVersion, by: author, at: RFC3339.format(.now()), signer: signer,
                change: change)
        } catch {
            throw .store(error)
        }
    }

    /// Not in the sealed store: a key written with --direct has no versions to go back to.
    private func missingKey(_ workspace: Workspace) async throws -> any Error {
        let secret = try? await workspace.client.getIfPresent(
            Secret.self, name: workspace.names.secret, namespace: workspace.namespace)
        if let secret, secret.data[key] != nil {
            return CommandError(
                "key \"\(key)\" was written into the Secret directly, which keeps no earlier values: "
                    + "set the old value again with `beluga-secrets set \(key) --direct`", .notFound)
        }
        return SealedStoreError.keyNotFound(key: key)
    }
}

import Sealing
import SecretSync

/// The work of `set` and `rotate`: seal the value to the agent's current key and store it as the
/// key's next version in the sealed store, or with `--direct` write it into the Secret and patch
/// the Deployment's content hash; then say what happened, and with `--wait` follow it to the end.
struct KeyWriter {
    let key: String
    let value: KeyValueOptions
    let direct: Bool
    let dryRun: Bool
    let wait: ChangeWaitOptions
    let release: ReleaseOptions
    /// `rotate`: the key must exist already.
    let mustExist: Bool

    func run() async throws {
        let early = try value.prompts ? nil : value.readValue(key: key)
        let workspace = try release.connect()
        // A key name Kubernetes would refuse is refused before anything is written.
        _ = try SecretBinding(namespace: workspace.namespace, secret: workspace.names.secret, key: key)
        if direct {
            try await writeDirect(workspace, early: early)
        } else {
            try await writeSealed(workspace, early: early)
        }
    }

    private func writeSealed(_ workspace: Workspace, early: SecureBytes?) async throws {
        // Everything that can fail without the value is checked before it is typed.
        let recipient = try await SealingKeySource.trustedKey(
            in: workspace, acceptNewIdentity: value.acceptNewIdentity, dryRun: dryRun)
        let signer = try value.signingKey()
        if mustExist { try await requireSealedKey(workspace) }
        let secretValue = try early ?? value.readValue(key: key)
        let before =
            wait.followsRollout && !dryRun ? try await ChangeFollower.deploymentBefore(workspace) : nil
        let outcome = try await SealAndRecord(workspace: workspace, key: key).run(
            secretValue, to: recipient, by: value.author, signer: signer, mustExist: mustExist,
            dryRun: dryRun,
            waiting: wait.wait)
        guard wait.wait, !dryRun else { return }
        let previous = outcome.previousStatus
        try await ChangeFollower(workspace: workspace, timeout: wait.timeout).followSealed(
            key: key, version: outcome.recorded.version,
            previousAppliedFingerprint: previous?.state == .applied ? previous?.fingerprint : nil,
            before: before, throughRollout: wait.throughRollout)
    }

    private func requireSealedKey(_ workspace: Workspace) async throws {
        let object = try await workspace.sealedStore.read()
        guard object?.data[key] != nil else {
            throw ChangeError.keyNotFound(
                key: key, object: "the sealed store \(workspace.namespace)/\(workspace.names.sealedStore)",
                hint:
                    "set it first with `beluga-secrets set \(key)`, or pass --direct for a key written directly"
            )
        }
    }

    private func writeDirect(_ workspace: Workspace, early: SecureBytes?) async throws {
        if early == nil { try await workspace.directSecret.check(key: key, mustExist: mustExist) }
        let secretValue = try early ?? value.readValue(key: key)
        let outcome = try await workspace.directSecret.write(
            key: key, .set(secretValue, mustExist: mustExist), by: value.author, dryRun: dryRun)
        let secret = workspace.describe("Secret", workspace.names.secret)
        let unchanged = outcome.previousFingerprint == outcome.fingerprint
        if dryRun {
            print(
                "\(key): would write version \(outcome.version) (\(outcome.fingerprint)) into \(secret)"
                    + "\(outcome.createdSecret ? ", creating it" : "")\(unchanged ? ", the value it holds already" : "") "
                    + "(dry run: nothing written)")
        } else {
            print(
                "\(key): version \(outcome.version) (\(outcome.fingerprint)) written into \(secret)"
                    + (unchanged ? " (the value it held already)" : ""))
        }
        let pending = DeploymentRestarter.PendingChange(
            object: .secret(workspace.names.secret), key: key,
            value: dryRun ? secretValue.withUnsafeBytes { Array($0) } : nil)
        try await DirectRestart(
            workspace: workspace, dryRun: dryRun, waitTimeout: wait.rolloutLimit, pending: pending,
            writtenSecret: outcome.written
        ).run()
    }
}

import Sealing
import SecretSync

/// The work of `set` and `rotate`: seal the value to the agent's current key and store it as the
/// key's next version in the sealed store, or with `--direct` write it into the Secret and patch
/// the Deployment's content hash; then say what happened, and with `--wait` follow it to the end.
///
/// On several clusters (`--context` given several times, `--all-contexts`) the value is read
/// once and each cluster gets the same change as alone, at the same time: sealed to its own
/// pinned agent key, checked and written on its own, one failure leaving the others to finish.
struct KeyWriter: Sendable {
    let key: String
    let value: KeyValueOptions
    let direct: Bool
    let dryRun: Bool
    let wait: ChangeWaitOptions
    let release: ReleaseOptions
    /// `rotate`: the key must exist already.
    let mustExist: Bool

    /// A cluster checked and ready for the value.
    struct Prepared: Sendable {
        var workspace: Workspace
        /// The agent's trusted current sealing key (sealed mode).
        var recipient: SealingPublicKey?
    }

    /// What one cluster now holds.
    struct Outcome: Sendable {
        var outcome: String
        var version: Int
        var fingerprint: String
    }

    func run() async throws {
        let early = try value.prompts ? nil : value.readValue(key: key)
        let prepared = try await prepare(try release.connect(), early: early)
        let signer = direct ? nil : try value.signingKey()
        if mustExist, !direct { try await requireSealedKey(prepared.workspace) }
        let secretValue = try early ?? value.readValue(key: key)
        _ = try await write(prepared, secretValue, signer: signer, change: nil)
    }

    /// The same change on each of `contexts`, then one summary.
    func run(contexts: [String], output: OutputOptions) async throws {
        let early = try value.prompts ? nil : value.readValue(key: key)
        let signer = direct ? nil : try value.signingKey()
        // One id for the change in every cluster: each version record names it, and each agent
        // writes it into its audit record.
        let change = direct ? nil : ChangeID.random()
        let runner = ClusterTargets.runner(contexts)
        let release = self.release
        // Everything that can fail without the value is checked in every cluster before it is typed.
        let checked = await runner.run { context in
            let prepared = try await prepare(
                try release.with(context: context).connect(), early: early)
            if mustExist, !direct { try await requireSealedKey(prepared.workspace) }
            return prepared
        }
        let ready = checked.compactMap { run in run.value.map { (context: run.context, input: $0) } }
        var written: [String: MultiClusterRunner.Run<Outcome>] = [:]
        if !ready.isEmpty {
            let secretValue = try early ?? value.readValue(key: key)
            for run in await runner.run(
                ready,
                { _, prepared in
                    try await write(prepared, secretValue, signer: signer, change: change)
                })
            {
                written[run.context] = run
            }
        }
        var summary = ClusterSummary(change: change)
        for check in checked {
            if let error = check.error {
                StandardError.write("\(check.context): error: \(ExitStatus.message(of: error))\n")
                summary.failed(check.context, error)
                continue
            }
            guard let run = written[check.context] else { continue }
            switch run.result {
            case .success(let outcome):
                summary.rows.append(
                    ClusterSummary.Row(
                        context: run.context, outcome: outcome.outcome, version: outcome.version,
                        fingerprint: outcome.fingerprint, message: run.lastLine ?? "", status: .ok))
            case .failure(let error):
                StandardError.write("\(run.context): error: \(ExitStatus.message(of: error))\n")
                summary.failed(run.context, error)
            }
        }
        try summary.finish(output)
    }

    /// Checks what can be checked before the value is known: the key's name, and in sealed mode
    /// the agent's published key against this cluster's pin.
    private func prepare(_ workspace: Workspace, early: SecureBytes?) async throws -> Prepared {
        // A key name Kubernetes would refuse is refused before anything is written.
        _ = try SecretBinding(namespace: workspace.namespace, secret: workspace.names.secret, key: key)
        if direct {
            if early == nil { try await workspace.directSecret.check(key: key, mustExist: mustExist) }
            return Prepared(workspace: workspace, recipient: nil)
        }
        let recipient = try await SealingKeySource.trustedKey(
            in: workspace, acceptNewIdentity: value.acceptNewIdentity, dryRun: dryRun)
        return Prepared(workspace: workspace, recipient: recipient)
    }

    private func write(
        _ prepared: Prepared, _ secretValue: SecureBytes, signer: SigningKeyPair?, change: ChangeID?
    ) async throws -> Outcome {
        if let recipient = prepared.recipient {
            return try await writeSealed(
                prepared.workspace, secretValue, to: recipient, signer: signer, change: change)
        }
        return try await writeDirect(prepared.workspace, secretValue)
    }

    private func writeSealed(
        _ workspace: Workspace, _ secretValue: SecureBytes, to recipient: SealingPublicKey,
        signer: SigningKeyPair?,
        change: ChangeID?
    ) async throws -> Outcome {
        let before =
            wait.followsRollout && !dryRun ? try await ChangeFollower.deploymentBefore(workspace) : nil
        // A key written with --direct is handed over first, or the agent would refuse its envelope.
        if let handed = try await workspace.directSecret.handOver(key, dryRun: dryRun) {
            Narration.say(
                "\(key): written with --direct until now (version \(handed)); "
                    + (dryRun
                        ? "would be handed over to the agent"
                        : "handed over to the agent, which applies the sealed value"))
        }
        let outcome = try await SealAndRecord(workspace: workspace, key: key).run(
            secretValue, to: recipient, by: value.author, signer: signer, mustExist: mustExist,
            dryRun: dryRun,
            waiting: wait.wait, change: change)
        let recorded = outcome.recorded
        if outcome.helmOwned {
            // Warned, not refused: a value set ahead of the values file is a normal step of an
            // emergency rotation, as long as the values follow.
            StandardError.writeLine(
                "warning: \(key) is in the Helm values of release \(workspace.names.release) (sealedSecrets): "
                    + "the next helm upgrade puts the value in the values file back; put the new envelope "
                    + "there too (beluga-secrets seal \(key)), or drop the key from sealedSecrets")
        }
        var result = Outcome(
            outcome: dryRun ? "dry run" : "stored", version: recorded.version,
            fingerprint: recorded.fingerprint)
        guard wait.wait, !dryRun else { return result }
        let previous = outcome.previousStatus
        let applied = try await ChangeFollower(workspace: workspace, timeout: wait.timeout).followSealed(
            key: key, version: recorded.version,
            previousAppliedFingerprint: previous?.state == .applied ? previous?.fingerprint : nil,
            before: before, throughRollout: wait.throughRollout)
        result.outcome = applied ? "applied" : "replaced"
        return result
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

    private func writeDirect(_ workspace: Workspace, _ secretValue: SecureBytes) async throws -> Outcome {
        // What the restart decides on is read with the sealed store and the Secret: the change
        // takes three round trips (the four reads at once, the Secret's patch, the Deployment's).
        async let reading = workspace.restarter.read()
        let outcome = try await workspace.directSecret.write(
            key: key, .set(secretValue, mustExist: mustExist), by: value.author, dryRun: dryRun)
        let secret = workspace.describe("Secret", workspace.names.secret)
        let unchanged = outcome.previousFingerprint == outcome.fingerprint
        if dryRun {
            Narration.say(
                "\(key): would write version \(outcome.version) (\(outcome.fingerprint)) into \(secret)"
                    + "\(outcome.createdSecret ? ", creating it" : "")\(unchanged ? ", the value it holds already" : "") "
                    + "(dry run: nothing written)")
        } else {
            Narration.say(
                "\(key): version \(outcome.version) (\(outcome.fingerprint)) written into \(secret)"
                    + (unchanged ? " (the value it held already)" : ""))
        }
        let pending = DeploymentRestarter.PendingChange(
            object: .secret(workspace.names.secret), key: key,
            value: dryRun ? secretValue.withUnsafeBytes { Array($0) } : nil)
        try await DirectRestart(
            workspace: workspace, dryRun: dryRun, waitTimeout: wait.rolloutLimit, pending: pending,
            writtenSecret: outcome.written, reading: await reading
        ).run()
        return Outcome(
            outcome: dryRun ? "dry run" : "written", version: outcome.version,
            fingerprint: outcome.fingerprint)
    }
}

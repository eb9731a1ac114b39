import KubeAPI
import SecretSync

/// After a direct write: bring the Deployment's content hash up to date, say so, and with
/// `--wait` follow the rollout.
struct DirectRestart {
    let workspace: Workspace
    let dryRun: Bool
    /// `--timeout` of `--wait`; `nil` without `--wait`.
    let waitTimeout: DurationArgument?
    /// In a dry run, the change that was not written.
    var pending: DeploymentRestarter.PendingChange? = nil
    /// The Secret as the direct write stored it, so that it is not read again.
    var writtenSecret: GuardedSecret? = nil
    /// The Deployment and settings, read while the Secret was read and written.
    var reading: DeploymentRestarter.Reading? = nil

    func run() async throws {
        let name = workspace.names.deployment
        guard let outcome = try await decide() else {
            Narration.say(
                "no deployment \"\(name)\" in namespace \(workspace.namespace): nothing to restart (--deployment names another)"
            )
            return
        }
        let decision = outcome.decision
        let assumed =
            outcome.annotated
            ? "" : " (not annotated \(ReloadAnnotation.name); assuming the release's Secret and ConfigMap)"
        guard decision.action == .restart else {
            Narration.say("deployment \"\(name)\": \(decision.reason), nothing restarts\(assumed)")
            return
        }
        if dryRun {
            Narration.say("deployment \"\(name)\": would restart, \(decision.reason)\(assumed) (dry run)")
            return
        }
        Narration.say("deployment \"\(name)\": restarting, \(decision.reason)\(assumed)")
        guard let waitTimeout else { return }
        try await ChangeFollower(workspace: workspace, timeout: waitTimeout).followRollout(
            generation: outcome.generation)
    }

    /// The decision (after the patch, unless a dry run); `nil` when the Deployment does not exist.
    private func decide() async throws(ChangeError) -> DeploymentRestarter.Outcome? {
        do {
            return try await workspace.restarter.restart(
                dryRun: dryRun, pending: pending, writtenSecret: writtenSecret, reading: reading)
        } catch {
            if case .api(let failure) = error, failure.category == .notFound { return nil }
            throw error
        }
    }
}

import ArgumentParser

/// `beluga-secrets restart`: brings the Deployment's content hash up to date now.
struct Restart: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Restart the Deployment if the Secret or settings changed since its pods started.",
        discussion: """
            Computes the content hash of the Secret and ConfigMap the Deployment reloads on \
            (annotation beluga-ai.io/reload), exactly as the agent does, and patches its pod \
            template when the hash differs, which rolls the pods. When the hash is current nothing \
            restarts, so running it twice, or alongside the agent, restarts once. Needs permission \
            to get the Secret and ConfigMap and to get and patch the Deployment.
            """)

    @OptionGroup var wait: WaitOptions
    @OptionGroup var dryRun: DryRunOption
    @OptionGroup var release: ReleaseOptions

    func run() async throws {
        let workspace = try release.connect()
        let outcome = try await workspace.restarter.restart(dryRun: dryRun.enabled)
        let name = workspace.names.deployment
        let decision = outcome.decision
        guard decision.action == .restart else {
            print("deployment \"\(name)\": \(decision.reason), nothing restarts")
            return
        }
        if dryRun.enabled {
            print("deployment \"\(name)\": would restart, \(decision.reason) (dry run: nothing written)")
            return
        }
        print("deployment \"\(name)\": restarting, \(decision.reason)")
        guard wait.wait else { return }
        try await ChangeFollower(workspace: workspace, timeout: wait.timeout).followRollout(
            generation: outcome.generation)
    }
}

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
            to get the Secret and ConfigMap and to get and patch the Deployment. \
            With --context given several times, or --all-contexts, the same change is made in \
            every cluster at once, a failure in one leaving the others to finish; one summary \
            follows (see beluga-secrets set --help).
            """)

    @OptionGroup var wait: WaitOptions
    @OptionGroup var dryRun: DryRunOption
    @OptionGroup var release: ReleaseOptions
    @OptionGroup(title: "Several clusters") var clusters: MultiClusterOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        try await ClusterTargets.change(
            release, clusters, output: output, command: "restart", dryRun: dryRun.enabled
        ) { release in try await run(on: release) }
    }

    /// The change in one cluster.
    private func run(on release: ReleaseOptions) async throws {
        let workspace = try release.connect()
        let outcome = try await workspace.restarter.restart(dryRun: dryRun.enabled)
        let name = workspace.names.deployment
        let decision = outcome.decision
        guard decision.action == .restart else {
            Narration.say("deployment \"\(name)\": \(decision.reason), nothing restarts")
            return
        }
        if dryRun.enabled {
            Narration.say(
                "deployment \"\(name)\": would restart, \(decision.reason) (dry run: nothing written)")
            return
        }
        Narration.say("deployment \"\(name)\": restarting, \(decision.reason)")
        guard wait.wait else { return }
        try await ChangeFollower(workspace: workspace, timeout: wait.timeout).followRollout(
            generation: outcome.generation)
    }
}

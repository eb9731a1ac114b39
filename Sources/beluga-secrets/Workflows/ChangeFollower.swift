import KubeAPI
import SecretSync

/// Follows a change to its end for `--wait`, within one time budget: the agent's verdict on a
/// sealed version, the restart it triggers, and the rollout, with progress on standard error
/// and each outcome on standard output.
struct ChangeFollower {
    let workspace: Workspace
    let deadline: ContinuousClock.Instant
    /// `--timeout` as given, for messages.
    let timeoutText: String
    let progress = ProgressLine()

    init(workspace: Workspace, timeout: DurationArgument) {
        self.workspace = workspace
        deadline = .now + timeout.duration
        timeoutText = timeout.text
    }

    /// What is left of the budget (a little at least, so an expired one fails as a time-out).
    var remaining: Duration { max(deadline - .now, .milliseconds(1)) }

    /// The Deployment before a change the agent will act on, so that its restart can be told
    /// from the state before (by the content hash). `nil` when the Deployment does not exist.
    static func deploymentBefore(_ workspace: Workspace) async throws(ChangeError) -> Deployment? {
        do {
            return try await workspace.client.getIfPresent(
                Deployment.self, name: workspace.names.deployment, namespace: workspace.namespace)
        } catch {
            throw .api(error)
        }
    }

    /// Sealed mode: waits for the agent to apply `version` of `key`, then, `throughRollout`,
    /// for the restart it triggers when the value changed. False when a later version replaced
    /// it and the agent rejected that one.
    @discardableResult
    func followSealed(
        key: String, version: Int, previousAppliedFingerprint: String?, before: Deployment?,
        throughRollout: Bool = true
    ) async throws(ChangeError) -> Bool {
        progress.update("waiting for the agent to apply version \(version) of \(key)...")
        let status = try await stage { () async throws(ChangeError) in
            try await workspace.syncStatus.waitForSync(key: key, version: version, timeout: remaining)
        }
        progress.finish()
        if status.version > version {
            // Someone stored a later version before the agent got to this one.
            guard status.state == .applied else {
                Narration.say(
                    "\(key): version \(version) was replaced by version \(status.version) before the agent applied "
                        + "it, and the agent rejected that one (\(status.reason)); see beluga-secrets get \(key)"
                )
                return false
            }
            Narration.say(
                "\(key): version \(version) was replaced by version \(status.version), which the agent applied"
            )
        } else {
            Narration.say("\(key): the agent applied version \(version) (\(status.fingerprint))")
        }
        if let previousAppliedFingerprint, previousAppliedFingerprint == status.fingerprint {
            Narration.say("\(key): the value did not change, so nothing restarts")
            return true
        }
        guard throughRollout else { return true }
        try await followAgentRestart(before: before, reloadingOn: .secret(workspace.names.secret))
        return true
    }

    /// Waits for the restart the agent makes after a change of `object`, then for its rollout.
    func followAgentRestart(before: Deployment?, reloadingOn object: ObjectReference)
        async throws(ChangeError)
    {
        let name = workspace.names.deployment
        guard let before else {
            Narration.say("no deployment \"\(name)\" in namespace \(workspace.namespace): nothing to restart")
            return
        }
        let annotation = before.metadata.annotations[ReloadAnnotation.name]
        let reloads =
            annotation.map { ReloadAnnotation($0).references(among: [object]).contains(object) } ?? false
        guard reloads else {
            Narration.say(
                "deployment \"\(name)\" does not reload on \(object) (annotation \(ReloadAnnotation.name)): "
                    + "its pods keep the old value until restarted (beluga-secrets restart)")
            return
        }
        progress.update("waiting for the agent to restart deployment \"\(name)\"...")
        let generation = try await stage { () async throws(ChangeError) in
            try await workspace.rollout.awaitRestart(
                from: before.templateAnnotations[ContentHash.annotation], timeout: remaining)
        }
        try await followRollout(generation: generation)
    }

    /// Runs one stage of the wait; a time-out names the whole `--timeout`, not what was left of it.
    private func stage<T>(_ body: () async throws(ChangeError) -> T) async throws(ChangeError) -> T {
        do {
            return try await body()
        } catch {
            progress.finish()
            if case .timedOut(let what, _) = error {
                throw .timedOut(waitingFor: what, after: "--timeout \(timeoutText)")
            }
            throw error
        }
    }

    /// Follows the rollout of the Deployment to its end.
    func followRollout(generation: Int?) async throws(ChangeError) {
        let progress = self.progress
        let message = try await stage { () async throws(ChangeError) in
            try await workspace.rollout.follow(generation: generation, timeout: remaining) { line in
                progress.update(line)
            }
        }
        progress.finish()
        Narration.say(message)
    }
}

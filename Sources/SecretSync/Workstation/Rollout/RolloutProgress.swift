import KubeAPI

/// Where a Deployment's rollout stands, judged as `kubectl rollout status` judges it: the new
/// spec must be observed, every replica updated, old ones gone and the updated ones available;
/// the condition `Progressing` with reason `ProgressDeadlineExceeded` means it failed.
public enum RolloutProgress: Sendable, Equatable {
    /// Still rolling out; the message says what it waits for.
    case waiting(String)
    /// Done.
    case complete(String)
    /// The Deployment gave up (its progress deadline passed).
    case failed(String)

    /// The state of `deployment`; with `generation`, a status older than that generation (the one
    /// a patch produced) counts as not yet observed.
    public static func of(_ deployment: Deployment, generation: Int? = nil) -> RolloutProgress {
        let name = deployment.name
        let status = deployment.status
        let current = max(deployment.metadata.generation ?? 0, generation ?? 0)
        guard let observed = status.observedGeneration, observed >= current else {
            return .waiting("Waiting for deployment spec update to be observed...")
        }
        let progressing = status.conditions.first { $0["type"]?.stringValue == "Progressing" }
        if progressing?["reason"]?.stringValue == "ProgressDeadlineExceeded" {
            return .failed("deployment \"\(name)\" exceeded its progress deadline")
        }
        let wanted = deployment.replicas ?? 1
        if status.updatedReplicas < wanted {
            return .waiting(
                "Waiting for deployment \"\(name)\" rollout to finish: \(status.updatedReplicas) out of "
                    + "\(wanted) new replicas have been updated...")
        }
        if status.replicas > status.updatedReplicas {
            return .waiting(
                "Waiting for deployment \"\(name)\" rollout to finish: "
                    + "\(status.replicas - status.updatedReplicas) old replicas are pending termination...")
        }
        if status.availableReplicas < status.updatedReplicas {
            return .waiting(
                "Waiting for deployment \"\(name)\" rollout to finish: \(status.availableReplicas) of "
                    + "\(status.updatedReplicas) updated replicas are available...")
        }
        return .complete("deployment \"\(name)\" successfully rolled out")
    }
}

import KubeAPI

/// Follows one Deployment's rollout to its end, like `kubectl rollout status`: it watches the
/// Deployment by name (so a Role with `resourceNames` suffices) and reports each new state.
public struct RolloutFollower: Sendable {
    public let client: KubeClient
    public let namespace: String
    public let deployment: String

    public init(client: KubeClient, namespace: String, deployment: String) {
        self.client = client
        self.namespace = namespace
        self.deployment = deployment
    }

    /// Waits until the rollout is complete and returns kubectl's closing line. `progress` gets
    /// every message while it waits, once per change. Throws `rolloutFailed` on
    /// ProgressDeadlineExceeded, naming why the pods are not ready when they may be listed, and
    /// `timedOut` after `timeout`.
    public func follow(
        generation: Int? = nil, timeout: Duration, progress: @escaping @Sendable (String) -> Void
    ) async throws(ChangeError) -> String {
        let client = self.client
        let namespace = self.namespace
        let name = deployment
        return try await Deadline.run(timeout, waitingFor: "the rollout of deployment \"\(name)\"") {
            var last = ""
            for try await object in client.watchObject(Deployment.self, name: name, namespace: namespace) {
                guard let object else {
                    throw ChangeError.disappeared(object: "deployment \(namespace)/\(name)")
                }
                switch RolloutProgress.of(object, generation: generation) {
                case .waiting(let message):
                    if message != last { progress(message) }
                    last = message
                case .complete(let message):
                    return message
                case .failed(let message):
                    let cause = await Self.stallCause(of: object, client: client)
                    throw ChangeError.rolloutFailed(
                        deployment: name, message: cause.map { "\(message): \($0)" } ?? message)
                }
            }
            throw ChangeError.disappeared(object: "deployment \(namespace)/\(name)")
        }
    }

    /// Why the Deployment's pods are not ready (`RolloutStall`), when the pods may be listed.
    static func stallCause(of deployment: Deployment, client: KubeClient) async -> String? {
        let selector = deployment.selectorLabels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
            .joined(separator: ",")
        guard !selector.isEmpty,
            let pods = try? await client.list(
                Pod.self, namespace: deployment.namespace, options: ListOptions(labelSelector: selector))
        else { return nil }
        return RolloutStall.cause(of: pods.items)
    }

    /// Waits until the Deployment's content hash differs from `hash` (the agent restarted it
    /// after a change) and returns the generation that change produced.
    public func awaitRestart(from hash: String?, timeout: Duration) async throws(ChangeError) -> Int? {
        let client = self.client
        let namespace = self.namespace
        let name = deployment
        return try await Deadline.run(timeout, waitingFor: "the agent to restart deployment \"\(name)\"") {
            for try await object in client.watchObject(Deployment.self, name: name, namespace: namespace) {
                guard let object else {
                    throw ChangeError.disappeared(object: "deployment \(namespace)/\(name)")
                }
                if object.templateAnnotations[ContentHash.annotation] != hash {
                    return object.metadata.generation
                }
            }
            throw ChangeError.disappeared(object: "deployment \(namespace)/\(name)")
        }
    }
}

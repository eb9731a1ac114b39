import KubeAPI

/// The steps of a restart that the agent (`AgentRestart`) and the workstation
/// (`DeploymentRestarter`) share around `RestartDecision`: what a Deployment may reload on, as
/// the decision reads it, and the patch that restarts its pods.
enum RestartStep {
    /// The contents of the release's Secret and settings ConfigMap (`nil` for one that does not
    /// exist), as `RestartDecision` hashes them.
    static func contents(secret: Secret?, settings: ConfigMap?, names: ObjectNames)
        -> [ObjectReference: [String: [UInt8]]?]
    {
        [
            .secret(names.secret): secret.map { ContentHash.content(ofSecret: $0.json) },
            .configMap(names.configMap): settings.map { ContentHash.content(ofConfigMap: $0.json) },
        ]
    }

    /// Patches the Deployment's pod-template content hash as `decision` says (the pods roll).
    static func patch(_ decision: RestartDecision, client: KubeClient, namespace: String)
        async throws(KubeError) -> Deployment
    {
        try await client.patch(
            Deployment.self, name: decision.deployment, namespace: namespace, patch: .merge(decision.patch))
    }
}

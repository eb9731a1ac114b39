import KubeAPI
import Sealing

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

    /// The same from a Secret read guarded: its values are copied into the arrays the decision
    /// hashes, which `wipe` zeroes once it is made.
    static func contents(guarded secret: GuardedSecret?, settings: ConfigMap?, names: ObjectNames)
        -> [ObjectReference: [String: [UInt8]]?]
    {
        [
            .secret(names.secret): secret.map { secret in
                secret.values.mapValues { value in value.withUnsafeBytes { Array($0) } }
            },
            .configMap(names.configMap): settings.map { ContentHash.content(ofConfigMap: $0.json) },
        ]
    }

    /// Zeroes the value bytes of `contents` in place.
    static func wipe(_ contents: inout [ObjectReference: [String: [UInt8]]?]) {
        for reference in Array(contents.keys) {
            guard case .some(.some(var object)) = contents[reference] else { continue }
            contents[reference] = nil  // keep the arrays uniquely referenced, so zeroing is in place
            for key in Array(object.keys) {
                object[key]?.withUnsafeMutableBytes { bytes in
                    if let base = bytes.baseAddress { SecureBytes.wipe(base, count: bytes.count) }
                }
            }
        }
    }

    /// Patches the Deployment's pod-template content hash as `decision` says (the pods roll).
    static func patch(_ decision: RestartDecision, client: KubeClient, namespace: String)
        async throws(KubeError) -> Deployment
    {
        try await client.patch(
            Deployment.self, name: decision.deployment, namespace: namespace, patch: .merge(decision.patch))
    }
}

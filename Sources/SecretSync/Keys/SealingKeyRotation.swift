/// How an operator asks the agent for a new sealing key: `beluga-secrets keys rotate` sets an
/// annotation on the public-key ConfigMap; the agent that leads sees it, makes a new current
/// key, re-seals the stored envelopes to it in the background, publishes the result and removes
/// the annotation. Asking needs only `patch` on that one ConfigMap, never access to the keys.
public enum SealingKeyRotation {
    /// Annotation on the public-key ConfigMap; its value is when the rotation was asked for.
    public static let requestAnnotation = "beluga-ai.io/rotate-sealing-key"

    /// The merge patch `keys rotate` sends.
    public static func requestPatch(at time: String) -> [String: [String: [String: String]]] {
        ["metadata": ["annotations": [requestAnnotation: time]]]
    }
}

import JSONValue

/// The signature policy the agent last saw set for its namespace by the annotation
/// `beluga-ai.io/signatures` of the allowed signers' ConfigMap. Kept so that the policy never
/// weakens silently: with the annotation or the whole ConfigMap gone, the agent keeps the
/// stricter of this and its `--signatures` flag; only the annotation set to `optional` lowers it.
public struct PolicyRecord: Sendable, Equatable {
    public var policy: SignaturePolicy
    /// When the agent first saw it.
    public var since: String

    public init(policy: SignaturePolicy, since: String) {
        self.policy = policy
        self.since = since
    }
}

extension PolicyRecord {
    var json: JSON { ["policy": .string(policy.rawValue), "since": .string(since)] }

    init(untrusted json: JSON, at path: UntrustedField.Path) throws(FieldProblem) {
        guard json.objectValue != nil else { throw path.problem("is not an object") }
        self.init(
            policy: try UntrustedField.choice(
                json, "policy", otherwise: "neither optional nor required", at: path),
            since: try UntrustedField.time(json, "since", at: path))
    }
}

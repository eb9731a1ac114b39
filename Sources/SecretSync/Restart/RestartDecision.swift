import JSONValue
import KubeAPI

/// Whether one Deployment must restart, and why, as a plain record.
///
/// Deciding is separate from patching, so that "why did it restart?" is one log line and one
/// unit test, and so that `beluga-secrets restart --dry-run` can show the same decision.
public struct RestartDecision: Sendable, Equatable, CustomStringConvertible {
    /// What to do with the Deployment.
    public enum Action: String, Sendable {
        /// Patch the pod-template annotation with `hash`: the pods roll.
        case restart
        /// Record `hash` in a label of the Deployment, not in its pod template: nothing rolls and
        /// the generation stays (the agent's first look at a Deployment that carries no hash).
        case record
        /// Leave the Deployment alone.
        case none
    }

    public var namespace: String
    public var deployment: String
    public var action: Action
    /// Why, in words an operator understands.
    public var reason: String
    /// The content hash the Deployment should carry (empty when it reloads on nothing known).
    public var hash: String
    /// The hash it carries now, if any.
    public var currentHash: String?
    /// The objects the hash covers.
    public var objects: [ObjectReference]

    public var description: String {
        "deployment \(namespace)/\(deployment): \(action == .restart ? "restart" : "no restart"), \(reason)"
    }

    /// The content hash recorded on `deployment`: its pod template's, else the one recorded in
    /// its label without a rollout (`record`); `nil` when neither is there.
    public static func recordedHash(of deployment: Deployment) -> String? {
        if let hash = deployment.templateAnnotations[ContentHash.annotation], !hash.isEmpty { return hash }
        if let hash = deployment.metadata.labels[ContentHash.label], !hash.isEmpty { return hash }
        return nil
    }

    /// Decides for one Deployment.
    ///
    /// - Parameters:
    ///   - reloadAnnotation: the value of `beluga-ai.io/reload`, `nil` when the Deployment has none.
    ///   - currentHash: its pod-template annotation `beluga-ai.io/content-hash`.
    ///   - contents: every object the agent knows, with its keys and value bytes (`nil`: absent).
    ///   - changed: the objects that changed since the last decision, for the reason only; the
    ///     hash alone decides, so that a restarted agent restarts nothing that is current.
    ///   - recordFirst: with no hash recorded, take `contents` as what the running pods already
    ///     have and record its hash (`record`) instead of restarting: the agent's look before its
    ///     first reconcile, so that installing it restarts nothing.
    public static func decide(
        namespace: String, deployment: String, reloadAnnotation: String?, currentHash: String?,
        contents: [ObjectReference: [String: [UInt8]]?], changed: Set<ObjectReference> = [],
        recordFirst: Bool = false
    ) -> RestartDecision {
        var decision = RestartDecision(
            namespace: namespace, deployment: deployment, action: .none, reason: "", hash: "",
            currentHash: currentHash, objects: [])
        guard let reloadAnnotation else {
            decision.reason = "not annotated \(ReloadAnnotation.name)"
            return decision
        }
        let annotation = ReloadAnnotation(reloadAnnotation)
        let known = Set(contents.keys)
        let references = annotation.references(among: known)
        decision.objects = references
        guard !references.isEmpty else {
            let named = annotation.entries.map(\.description).joined(separator: ",")
            decision.reason =
                "reloads on \(named.isEmpty ? "nothing" : named), none of which the agent manages"
            return decision
        }
        var covered: [ObjectReference: [String: [UInt8]]?] = [:]
        for reference in references { covered[reference] = contents[reference] ?? nil }
        decision.hash = ContentHash.compute(covered)

        let changedHere = references.filter { changed.contains($0) }.map(\.description)
        let because = changedHere.isEmpty ? "" : " after a change of " + changedHere.joined(separator: ", ")
        switch currentHash {
        case let current? where ContentHash.matches(recorded: current, hash: decision.hash):
            decision.reason = "content hash \(short(decision.hash)) is current"
        case nil, ""?:
            if recordFirst {
                decision.action = .record
                decision.reason =
                    "no content hash recorded yet; recording \(short(decision.hash)) as what the running pods have"
            } else {
                decision.action = .restart
                decision.reason = "no content hash recorded yet; setting \(short(decision.hash))\(because)"
            }
        case let current?:
            decision.action = .restart
            // No change seen by this process (a new leader, the periodic check, `restart`): say
            // that the content moved on since the hash was recorded, rather than give no cause.
            let cause = because.isEmpty ? "; the content changed since the hash was recorded" : because
            decision.reason = "content hash \(short(current)) → \(short(decision.hash))\(cause)"
        }
        return decision
    }

    /// The JSON merge patch that records `hash` in the pod template: the same effect as
    /// `kubectl rollout restart`, but idempotent, since the value is the content's hash.
    public static func patch(hash: String) -> JSON {
        ["spec": ["template": ["metadata": ["annotations": [ContentHash.annotation: .string(hash)]]]]]
    }

    /// The JSON merge patch that records `hash` in the Deployment's label: a label, because a
    /// change of a Deployment's labels leaves its generation, ReplicaSets and pods as they are,
    /// whereas one of its annotations bumps the generation (they are copied to the ReplicaSet).
    public static func recordPatch(hash: String) -> JSON {
        ["metadata": ["labels": [ContentHash.label: .string(ContentHash.labelValue(hash))]]]
    }

    /// The patch for this decision.
    public var patch: JSON { action == .record ? Self.recordPatch(hash: hash) : Self.patch(hash: hash) }

    static func short(_ hash: String) -> String { String(hash.prefix(12)) }
}

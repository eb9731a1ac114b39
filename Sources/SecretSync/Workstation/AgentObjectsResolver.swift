import KubeAPI

/// Which objects of the namespace are the agent's of a release, as the CLI finds them.
///
/// A release installed by this chart names them after itself (`<fullname>-public-key` …); a
/// release installed before that keeps the fixed names it owns (`beluga-secrets-public-key` …).
/// The CLI takes the fixed names only when the public-key ConfigMap under them is this
/// release's: its instance label or Helm release annotation name the release, or, for an agent
/// run without Helm (it marks nothing), the release is the default one that such an agent
/// serves. Another release's keys and signers are never used.
public enum AgentObjectsResolver {
    /// What resolving found: the names, and the public-key ConfigMap read under them (nil when
    /// it does not exist), so the caller need not read it again.
    public struct Resolution: Sendable {
        public var names: ObjectNames
        public var publicKeys: ConfigMap?
        /// The release owns the fixed (legacy) names.
        public var legacy: Bool
    }

    public static let instanceLabel = "app.kubernetes.io/instance"
    public static let releaseAnnotation = "meta.helm.sh/release-name"

    /// Resolves `names` (derived from their release) in `namespace`. Names whose agent objects
    /// are not the derived ones (given explicitly) are kept as they are.
    public static func resolve(
        _ names: ObjectNames, client: KubeClient, namespace: String
    ) async throws(KubeError) -> Resolution {
        let derived = AgentObjects(release: names.release)
        guard names.agentObjects == derived else {
            let found = try await client.getIfPresent(
                ConfigMap.self, name: names.publicKeyConfigMap, namespace: namespace)
            return Resolution(names: names, publicKeys: found, legacy: false)
        }
        // A Role limited to the fixed names may refuse the derived one: the fixed names are then
        // tried, and the refusal stands if they are not the release's.
        var refused: KubeError?
        do {
            if let found = try await client.getIfPresent(
                ConfigMap.self, name: derived.publicKeyConfigMap, namespace: namespace)
            {
                return Resolution(names: names, publicKeys: found, legacy: false)
            }
        } catch  where error.category == .forbidden {
            refused = error
        }
        let old: ConfigMap?
        do {
            old = try await client.getIfPresent(
                ConfigMap.self, name: ObjectNames.Legacy.publicKeyConfigMap, namespace: namespace)
        } catch  where error.category == .forbidden {
            // Not readable, so not shown to be this release's: the derived names stand.
            old = nil
        }
        if let old, belongs(old.metadata, to: names.release) {
            return Resolution(names: names.with(.legacy), publicKeys: old, legacy: true)
        }
        if let refused { throw refused }
        return Resolution(names: names, publicKeys: nil, legacy: false)
    }

    /// The release that marks an object (instance label or Helm release annotation) when that is
    /// not `release`: the agent's own objects so marked are another release's, never to be used.
    /// An unmarked object (an agent run without Helm made it) names no other release.
    public static func otherRelease(_ metadata: ObjectMeta, than release: String) -> String? {
        [metadata.labels[instanceLabel], metadata.annotations[releaseAnnotation]]
            .compactMap { $0 }.first { $0 != release }
    }

    /// Whether an object under the fixed names is the release's: every release marking it
    /// carries names the release, and it carries one; an unmarked object (made by an agent run
    /// without Helm) is the default release's.
    public static func belongs(_ metadata: ObjectMeta, to release: String) -> Bool {
        let marks = [metadata.labels[instanceLabel], metadata.annotations[releaseAnnotation]]
            .compactMap { $0 }
        if marks.isEmpty { return release == ObjectNames.defaultRelease }
        return marks.allSatisfy { $0 == release }
    }
}

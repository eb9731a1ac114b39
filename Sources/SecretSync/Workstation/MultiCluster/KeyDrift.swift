/// Drift between clusters, per key: whether the clusters hold the same value, a different one or
/// none, and which version each holds, told from fingerprints only (no value is read).
///
/// Fingerprints are keyed by namespace, Secret and key, not by cluster, so equal values under the
/// same namespace and Secret have equal fingerprints in every cluster. Under different namespaces
/// or Secret names they cannot be compared, and the verdict says so instead of guessing.
public struct KeyDrift: Sendable, Equatable {
    public enum Verdict: String, Sendable {
        /// Every cluster holds the key, all with the same fingerprint.
        case same
        /// At least two clusters hold different values.
        case different
        /// Some clusters do not hold the key; those that do agree.
        case missing
        /// Fingerprints cannot be compared (different namespaces or Secrets, or one unknown).
        case unknown
    }

    /// What one cluster holds of the key.
    public struct Holding: Sendable, Equatable {
        public var version: Int
        public var fingerprint: String
        public var state: String
    }

    /// One cluster's keys, as `list` reads them.
    public struct Cluster: Sendable {
        public var context: String
        public var namespace: String
        public var secret: String
        public var reports: [KeyReport]

        public init(context: String, namespace: String, secret: String, reports: [KeyReport]) {
            self.context = context
            self.namespace = namespace
            self.secret = secret
            self.reports = reports
        }
    }

    public var key: String
    /// By context; a context without the key has no entry.
    public var holdings: [String: Holding]
    public var verdict: Verdict

    /// Whether fingerprints of `clusters` can be compared at all: same namespace and Secret.
    public static func comparable(_ clusters: [Cluster]) -> Bool {
        Set(clusters.map { "\($0.namespace)\u{0}\($0.secret)" }).count <= 1
    }

    /// Every key any of `clusters` holds, sorted by name, with its verdict.
    public static func compare(_ clusters: [Cluster]) -> [KeyDrift] {
        let comparable = comparable(clusters)
        var keys = Set<String>()
        for cluster in clusters { keys.formUnion(cluster.reports.map(\.key)) }
        return keys.sorted().map { key in
            var holdings: [String: Holding] = [:]
            for cluster in clusters {
                guard let report = cluster.reports.first(where: { $0.key == key }) else { continue }
                holdings[cluster.context] = Holding(
                    version: report.version, fingerprint: report.fingerprint, state: report.state)
            }
            let prints = Set(holdings.values.map(\.fingerprint))
            let verdict: Verdict
            if !comparable || prints.contains("") {
                verdict = .unknown
            } else if prints.count > 1 {
                verdict = .different
            } else if holdings.count < clusters.count {
                verdict = .missing
            } else {
                verdict = .same
            }
            return KeyDrift(key: key, holdings: holdings, verdict: verdict)
        }
    }
}

import KubeAPI
import Sealing
import TimeFormat

/// What `list` and `get` show of each key: where it is kept, its version, its fingerprint, who
/// wrote it and when, and whether the Secret holds it yet. Read from the sealed store (readable
/// by operators who may not read Secrets) and, when it can be read, the Secret.
public struct KeyReport: Sendable, Equatable {
    /// Where a key's value comes from.
    public enum Source: String, Sendable {
        /// Sealed in the sealed store; the agent applies it.
        case sealed
        /// Written into the Secret with `--direct`.
        case direct
        /// In the Secret, written by something else (kubectl, Helm).
        case unmanaged
    }

    public var key: String
    public var source: Source
    /// The key's version (0 when no writer recorded one).
    public var version: Int
    public var fingerprint: String
    /// Who sealed or set the current version, as they named themselves.
    public var by: String
    /// When (RFC 3339), empty when unknown.
    public var at: String
    /// `applied`, `pending` or `rejected` for sealed keys; `direct` or `unmanaged` otherwise.
    public var state: String
    /// Why a version was rejected, or what a pending key waits for.
    public var reason: String
    /// The version the agent last applied, for sealed keys.
    public var appliedVersion: Int?
    /// Previous versions kept for rollback, newest first.
    public var history: [SealedHistoryEntry]

    /// The reports of every key, sorted by name. `secret` is `nil` when it does not exist or
    /// could not be read; its values are only fingerprinted, in secure memory.
    public static func all(store: SealedStore?, secret: GuardedSecret?, namespace: String, secretName: String)
        -> [KeyReport]
    {
        var reports: [String: KeyReport] = [:]
        if let store {
            for key in store.keys {
                let record = store.versions[key]
                let status = store.status[key]
                let state = store.state(of: key)
                var reason = ""
                switch state {
                case .rejected: reason = status?.reason ?? ""
                case .pending:
                    if let status, status.state == .applied {
                        reason = "the agent applied version \(status.version)"
                    } else if let status, status.state == .rejected {
                        reason = "version \(status.version) was rejected: \(status.reason)"
                    } else {
                        reason = "not yet applied by the agent"
                    }
                case .applied: break
                }
                reports[key] = KeyReport(
                    key: key, source: .sealed, version: store.version(of: key),
                    fingerprint: record?.fingerprint ?? "", by: record?.sealedBy ?? "",
                    at: record?.sealedAt ?? "",
                    state: state.rawValue, reason: reason,
                    appliedVersion: status?.state == .applied ? status?.version : nil,
                    history: record?.history ?? [])
            }
        }
        guard let secret else { return reports.keys.sorted().compactMap { reports[$0] } }
        let direct = DirectVersions(secret: secret.object.json)
        let managed = Set(
            (secret.metadata.annotations[SecretPlan.managedKeysAnnotation] ?? "").split(
                separator: ","
            )
            .map(String.init))
        for (key, value) in secret.values where reports[key] == nil {
            let live =
                (try? SecretBinding(namespace: namespace, secret: secretName, key: key)).map {
                    Fingerprint(of: value, binding: $0).text
                } ?? ""
            if let record = direct.entries[key] {
                reports[key] = KeyReport(
                    key: key, source: .direct, version: record.version, fingerprint: live, by: record.setBy,
                    at: record.setAt, state: "direct",
                    reason: record.fingerprint == live
                        ? "" : "changed outside beluga-secrets since version \(record.version)",
                    appliedVersion: nil, history: [])
            } else {
                reports[key] = KeyReport(
                    key: key, source: .unmanaged, version: 0, fingerprint: live, by: "", at: "",
                    state: managed.contains(key) ? "pending" : "unmanaged",
                    reason: managed.contains(key)
                        ? "deleted from the sealed store; the agent removes it" : "",
                    appliedVersion: nil, history: [])
            }
        }
        return reports.keys.sorted().compactMap { reports[$0] }
    }

    /// How long ago the current version was written; `nil` when unknown.
    public func age(now: UnixTime = .now()) -> Double? {
        RFC3339.parse(at).map { (now - $0).inSeconds }
    }
}

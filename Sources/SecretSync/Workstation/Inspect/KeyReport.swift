import KubeAPI
import Sealing
import TimeFormat

/// What `list` and `get` show of each key: where it is kept, its version, its fingerprint, who
/// wrote it and when, and whether the Secret holds it yet. Read from the sealed store and the
/// agent's status object (both readable by operators who may not read Secrets) and, when it can
/// be read, the Secret.
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
    /// `applied`, `pending`, `rejected` or `orphaned` for sealed keys; `direct` or `unmanaged`
    /// otherwise.
    public var state: String
    /// Why a version was rejected, or what a pending key waits for.
    public var reason: String
    /// The version the agent last applied, for sealed keys.
    public var appliedVersion: Int?
    /// Previous versions kept for rollback, newest first.
    public var history: [SealedHistoryEntry]
    /// The key's maximum age (`beluga-ai.io/key-max-age`), for sealed keys that have one.
    public var maxAge: KeyMaxAge? = nil
    /// For a key Helm values own: the agent's report that its envelope is sealed to a previous
    /// sealing key and needs re-sealing into the values (`beluga-secrets keys helm-values`).
    public var helmReseal: HelmReseal? = nil

    /// Where a sealed key stands.
    public enum KeyState: String, Sendable {
        /// The agent applied the current version.
        case applied
        /// The agent has not yet applied the current version.
        case pending
        /// The agent refused the current version; the Secret keeps the previous value.
        case rejected
        /// The key left the sealed store without a deletion; the Secret keeps it.
        case orphaned
    }

    /// The state of `key`, from the writers' version and the agent's status.
    public static func state(of key: String, store: SealedStore, status: AgentStatus?) -> KeyState {
        guard let entry = status?.keys[key], entry.version >= store.version(of: key) else { return .pending }
        switch entry.state {
        case .applied: return .applied
        case .rejected: return .rejected
        case .deleted: return .pending
        }
    }

    /// The reports of every key, sorted by name. `status` is `nil` when the agent wrote none (or
    /// it could not be read), `secret` when it does not exist or could not be read; its values are only fingerprinted, in
    /// secure memory.
    public static func all(
        store: SealedStore?, status agentStatus: AgentStatus?, secret: GuardedSecret?, namespace: String,
        secretName: String
    ) -> [KeyReport] {
        var reports: [String: KeyReport] = [:]
        if let store {
            for key in store.keys {
                let record = store.versions[key]
                let status = agentStatus?.keys[key]
                let state = Self.state(of: key, store: store, status: agentStatus)
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
                case .applied, .orphaned: break
                }
                reports[key] = KeyReport(
                    key: key, source: .sealed, version: store.version(of: key),
                    fingerprint: record?.fingerprint ?? "", by: record?.sealedBy ?? "",
                    at: record?.sealedAt ?? "",
                    state: state.rawValue, reason: reason,
                    appliedVersion: status?.state == .applied ? status?.version : nil,
                    history: record?.history ?? [], maxAge: store.maxAges[key])
            }
            // Keys whose envelope in the values is sealed to a previous key, as long as the
            // agent's report is about the envelope the store holds.
            for (key, entry) in agentStatus?.helmReseal ?? [:] {
                guard let text = store.envelopes[key], HelmReseal.source(of: text) == entry.source else {
                    continue
                }
                reports[key]?.helmReseal = entry
            }
            // Deletions the agent has not applied yet (or refused).
            for (key, record) in store.versions where record.isTombstone && store.envelopes[key] == nil {
                let status = agentStatus?.keys[key]
                if let status, status.state == .deleted, status.version >= record.version { continue }
                let refused = status?.state == .rejected && status?.version == record.version
                reports[key] = KeyReport(
                    key: key, source: .sealed, version: record.version, fingerprint: "",
                    by: record.deletedBy ?? "", at: record.deletedAt ?? "",
                    state: refused ? KeyState.rejected.rawValue : KeyState.pending.rawValue,
                    reason: refused
                        ? "deletion refused: \(status?.reason ?? "")"
                        : "deleted (version \(record.version)); the agent removes it from the Secret",
                    appliedVersion: status?.state == .applied ? status?.version : nil, history: [])
            }
        }
        for (key, orphan) in agentStatus?.orphaned ?? [:] where reports[key] == nil {
            reports[key] = KeyReport(
                key: key, source: .sealed, version: orphan.version,
                fingerprint: agentStatus?.keys[key]?.fingerprint ?? "", by: "", at: "",
                state: KeyState.orphaned.rawValue,
                reason: "left the sealed store without a deletion (since \(orphan.since)); the Secret keeps "
                    + "version \(orphan.version): delete it with beluga-secrets delete \(key), or put it back",
                appliedVersion: orphan.version, history: [])
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
                    state: managed.contains(key) ? KeyState.orphaned.rawValue : "unmanaged",
                    reason: managed.contains(key)
                        ? "not in the sealed store; the Secret keeps it: delete it with beluga-secrets delete \(key)"
                        : "",
                    appliedVersion: nil, history: [])
            }
        }
        return reports.keys.sorted().compactMap { reports[$0] }
    }

    /// Whether the current version is older than the key's maximum age.
    public func overdue(now: UnixTime = .now()) -> Bool {
        guard let maxAge, let age = age(now: now) else { return false }
        return age >= Double(maxAge.seconds)
    }

    /// What to do about `helmReseal`, in one line; empty when nothing is to be done.
    public var helmResealText: String {
        guard let helmReseal else { return "" }
        if helmReseal.signed {
            return
                "Helm values hold it signed and sealed to sealing key \(helmReseal.kid): its signer seals it "
                + "again (beluga-secrets seal \(key) --version \(helmReseal.version + 1))"
        }
        return
            "Helm values hold it sealed to sealing key \(helmReseal.kid): re-seal with beluga-secrets keys "
            + "helm-values"
    }

    /// How long ago the current version was written; `nil` when unknown.
    public func age(now: UnixTime = .now()) -> Double? {
        RFC3339.parse(at).map { (now - $0).inSeconds }
    }
}

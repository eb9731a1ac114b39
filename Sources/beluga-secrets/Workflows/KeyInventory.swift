import JSONValue
import KubeAPI
import SecretSync

/// The keys of a namespace as `list` and `get` show them, read from the sealed store, the agent's
/// status object and, when this user may read it, the Secret.
struct KeyInventory {
    var reports: [KeyReport]
    /// The sealed store, `nil` when it does not exist.
    var store: SealedStore?
    /// The agent's status, `nil` when it wrote none or it may not be read.
    var status: AgentStatus?
    /// The Secret, `nil` when it does not exist or may not be read; read guarded, so that its
    /// values stay in secure memory (`get --reveal` writes one from there).
    var secret: GuardedSecret?
    /// Why the Secret could not be read, when it could not.
    var secretDenied: KubeError?

    static func read(_ workspace: Workspace) async throws -> KeyInventory {
        let object = try await workspace.sealedStore.read()
        let store = try object.map { configMap throws(SealedStoreError) in
            try SealedStore(configMap: configMap.json)
        }
        let status = try await workspace.agentStatus.readIfPermitted()
        var secret: GuardedSecret?
        var denied: KubeError?
        do {
            secret = try await workspace.client.getGuardedSecretIfPresent(
                name: workspace.names.secret, namespace: workspace.namespace)
        } catch {
            guard error.category == .forbidden else { throw error }
            denied = error
        }
        let reports = KeyReport.all(
            store: store, status: status, secret: secret, namespace: workspace.namespace,
            secretName: workspace.names.secret)
        return KeyInventory(
            reports: reports, store: store, status: status, secret: secret, secretDenied: denied)
    }

    /// Said on standard error when the Secret could not be read: keys only it holds are missing.
    func noteIfSecretDenied(_ workspace: Workspace) {
        guard secretDenied != nil else { return }
        StandardError.writeLine(
            "note: keys written straight into Secret \(workspace.namespace)/\(workspace.names.secret) are not shown: "
                + "you may not get secrets (check with: kubectl auth can-i get secrets \(workspace.names.secret) "
                + "-n \(workspace.namespace))")
    }
}

extension KeyReport {
    /// The report as data (`-o json|yaml`).
    var json: JSON {
        var object: JSON = [
            "key": .string(key), "source": .string(source.rawValue), "version": .int(version),
            "fingerprint": .string(fingerprint), "by": .string(by), "at": .string(at),
            "state": .string(state),
            "reason": .string(reason),
        ]
        if let appliedVersion { object["appliedVersion"] = .int(appliedVersion) }
        if let maxAge {
            object["maxAge"] = .string(maxAge.text)
            object["overdue"] = .bool(overdue())
        }
        if let helmReseal {
            object["helmReseal"] = ["kid": .string(helmReseal.kid), "signed": .bool(helmReseal.signed)]
        }
        if !history.isEmpty {
            object["history"] = .array(
                history.map { entry in
                    var item: JSON = [
                        "version": .int(entry.version), "fingerprint": .string(entry.fingerprint),
                        "by": .string(entry.sealedBy), "at": .string(entry.sealedAt),
                        "format": .string(String(entry.envelope.prefix(3))),
                    ]
                    if let rollbackOf = entry.rollbackOf { item["rollbackOf"] = .int(rollbackOf) }
                    return item
                })
        }
        return object
    }

    /// `3` or `-` when no writer recorded a version.
    var versionText: String { version > 0 ? String(version) : "-" }
}

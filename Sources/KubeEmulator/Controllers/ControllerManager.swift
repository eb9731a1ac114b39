import JSONValue

/// The controllers a real cluster runs next to the API server, reduced to what clients observe:
/// namespaces get their default service account and are emptied when deleted, owners' deletion
/// cascades to dependents (garbage collector), Deployments roll out through ReplicaSets and pods.
/// Each reacts to committed changes asynchronously, as real controllers do through watches.
final class ControllerManager: Sendable {
    let store: ClusterStore
    let rolloutDelay: Duration
    let caCertificatePEM: String?

    init(store: ClusterStore, rolloutDelay: Duration, caCertificatePEM: String?) {
        self.store = store
        self.rolloutDelay = rolloutDelay
        self.caCertificatePEM = caCertificatePEM
    }

    func start() async {
        await store.addObserver { [weak self] change in self?.react(to: change) }
    }

    private func react(to change: StoredChange) {
        let store = self.store
        let meta = change.object["metadata"] ?? [:]
        let namespace = meta["namespace"]?.stringValue ?? ""
        let name = meta["name"]?.stringValue ?? ""
        let beingDeleted = meta["deletionTimestamp"] != nil
        switch (change.resource.group, change.resource.resource) {
        case ("", "namespaces"):
            if change.type == .added {
                let ca = caCertificatePEM
                emulatorTask { await store.populateNamespace(name, caCertificatePEM: ca) }
            } else if change.type == .modified && beingDeleted {
                emulatorTask { await store.purgeNamespace(name) }
            }
        case ("apps", "deployments") where change.type != .deleted:
            let delay = rolloutDelay
            emulatorTask { await store.syncDeployment(namespace: namespace, name: name, rolloutDelay: delay) }
        case ("apps", "replicasets") where change.type != .deleted:
            // A ReplicaSet changed by someone else (scaled by hand, say): resync its owner.
            if let owner = (meta["ownerReferences"]?.arrayValue ?? []).first(where: {
                $0["kind"] == "Deployment"
            }),
                let ownerName = owner["name"]?.stringValue
            {
                let delay = rolloutDelay
                emulatorTask {
                    await store.syncDeployment(namespace: namespace, name: ownerName, rolloutDelay: delay)
                }
            }
        default:
            break
        }
        if change.type == .deleted, let uid = meta["uid"]?.stringValue {
            emulatorTask { await store.collectGarbage(ownerUID: uid) }
        } else if change.type == .modified && beingDeleted {
            let finalizers = meta["finalizers"]?.arrayValue ?? []
            if finalizers.contains("foregroundDeletion") || finalizers.contains("orphan") {
                let resource = change.resource
                emulatorTask {
                    await store.finishDependentsThenOwner(
                        resource, ObjectName(namespace: namespace, name: name))
                }
            }
        }
    }
}

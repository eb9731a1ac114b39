import JSONValue

/// The controllers a real cluster runs next to the API server, reduced to what clients observe:
/// namespaces get their default service account and are emptied when deleted, owners' deletion
/// cascades to dependents (garbage collector), Deployments roll out through ReplicaSets, whose
/// pods a simulated kubelet runs (docs/kube-emulator.md, "Workloads"). Each reacts to committed
/// changes asynchronously, as real controllers do through watches.
final class ControllerManager: Sendable {
    let store: ClusterStore
    let simulation: WorkloadSimulation
    let caCertificatePEM: String?

    init(store: ClusterStore, simulation: WorkloadSimulation, caCertificatePEM: String?) {
        self.store = store
        self.simulation = simulation
        self.caCertificatePEM = caCertificatePEM
    }

    func start() async {
        await store.configureSimulation(simulation)
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
            emulatorTask { await store.syncDeployment(namespace: namespace, name: name) }
        case ("apps", "replicasets"):
            if change.type != .deleted {
                emulatorTask { await store.syncReplicaSet(namespace: namespace, name: name) }
            }
            // A ReplicaSet changed (by this controller or someone else): resync its owner.
            if let owner = ClusterStore.controllerOwner(of: change.object, kind: "Deployment") {
                emulatorTask { await store.syncDeployment(namespace: namespace, name: owner) }
            }
        case ("", "pods"):
            guard let owner = ClusterStore.controllerOwner(of: change.object, kind: "ReplicaSet") else {
                break
            }
            let uid = meta["uid"]?.stringValue ?? ""
            switch change.type {
            case .added:
                emulatorTask { await store.kubeletAdmit(namespace: namespace, name: name, uid: uid) }
            case .deleted:
                emulatorTask { await store.kubeletForget(uid: uid) }
            default:
                break
            }
            emulatorTask { await store.syncReplicaSet(namespace: namespace, name: owner) }
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

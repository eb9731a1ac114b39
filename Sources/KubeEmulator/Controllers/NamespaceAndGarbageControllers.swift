import JSONValue

/// The namespace controllers (service account, root CA, deletion) and the garbage collector.
extension ClusterStore {
    /// What the serviceaccount and root-ca-cert-publisher controllers add to a new namespace.
    func populateNamespace(_ name: String, caCertificatePEM: String?) {
        let accounts = GroupResource(group: "", resource: "serviceaccounts")
        guard
            let namespace = object(
                GroupResource(group: "", resource: "namespaces"), ObjectName(namespace: "", name: name)),
            namespace[path: "metadata", "deletionTimestamp"] == nil
        else { return }
        if object(accounts, ObjectName(namespace: name, name: "default")) == nil {
            commit(
                .added, accounts,
                [
                    "kind": "ServiceAccount", "apiVersion": "v1",
                    "metadata": [
                        "name": "default", "namespace": .string(name),
                        "uid": .string(ObjectMetaRules.newUID()),
                        "creationTimestamp": .string(Clock.timestamp()),
                    ],
                ], previous: nil)
        }
        let configMaps = GroupResource(group: "", resource: "configmaps")
        if let caCertificatePEM,
            object(configMaps, ObjectName(namespace: name, name: "kube-root-ca.crt")) == nil
        {
            commit(
                .added, configMaps,
                [
                    "kind": "ConfigMap", "apiVersion": "v1",
                    "metadata": [
                        "name": "kube-root-ca.crt", "namespace": .string(name),
                        "uid": .string(ObjectMetaRules.newUID()),
                        "creationTimestamp": .string(Clock.timestamp()),
                        "annotations": [
                            "kubernetes.io/description":
                                "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters."
                        ],
                    ],
                    "data": ["ca.crt": .string(caCertificatePEM)],
                ], previous: nil)
        }
    }

    /// The namespace controller: deletes everything in a terminating namespace, then the
    /// namespace itself.
    func purgeNamespace(_ name: String) {
        let namespaces = GroupResource(group: "", resource: "namespaces")
        guard let namespace = object(namespaces, ObjectName(namespace: "", name: name)),
            namespace[path: "metadata", "deletionTimestamp"] != nil
        else { return }
        for resource in catalog.resources where resource.namespaced {
            for (_, object) in objects(of: resource.groupResource, namespace: name) {
                commit(.deleted, resource.groupResource, object, previous: object)
            }
        }
        guard let current = object(namespaces, ObjectName(namespace: "", name: name)) else { return }
        commit(.deleted, namespaces, current, previous: current)
    }

    /// The garbage collector: dependents of a deleted owner are deleted, unless another owner
    /// of theirs still exists (then only the dangling reference goes).
    func collectGarbage(ownerUID: String) {
        let existingUIDs = Set(
            objects.values.flatMap { $0.values.compactMap { $0[path: "metadata", "uid"]?.stringValue } })
        for (resource, objectsOfResource) in objects {
            for (_, object) in objectsOfResource.sorted(by: { $0.key < $1.key }) {
                let owners = object[path: "metadata", "ownerReferences"]?.arrayValue ?? []
                guard owners.contains(where: { $0["uid"]?.stringValue == ownerUID }) else { continue }
                let remaining = owners.filter { $0["uid"]?.stringValue != ownerUID }
                if remaining.contains(where: { existingUIDs.contains($0["uid"]?.stringValue ?? "") }) {
                    var updated = object
                    updated[path: "metadata", "ownerReferences"] = .array(remaining)
                    commit(.modified, resource, updated, previous: object)
                } else if object[path: "metadata", "finalizers"]?.arrayValue?.isEmpty == false {
                    if object[path: "metadata", "deletionTimestamp"] == nil {
                        var marked = object
                        marked[path: "metadata", "deletionTimestamp"] = .string(Clock.timestamp())
                        marked[path: "metadata", "deletionGracePeriodSeconds"] = 0
                        commit(.modified, resource, marked, previous: object)
                    }
                } else {
                    commit(.deleted, resource, object, previous: object)
                }
            }
        }
    }

    /// Foreground and orphan deletion: handle the dependents, then drop the finalizer so that
    /// the owner goes.
    func finishDependentsThenOwner(_ resource: GroupResource, _ name: ObjectName) {
        guard let owner = object(resource, name), owner[path: "metadata", "deletionTimestamp"] != nil else {
            return
        }
        let uid = owner[path: "metadata", "uid"]?.stringValue ?? ""
        var finalizers = owner[path: "metadata", "finalizers"]?.arrayValue ?? []
        if finalizers.contains("orphan") {
            for (dependentResource, objectsOfResource) in objects {
                for (_, object) in objectsOfResource {
                    let owners = object[path: "metadata", "ownerReferences"]?.arrayValue ?? []
                    guard owners.contains(where: { $0["uid"]?.stringValue == uid }) else { continue }
                    var updated = object
                    let remaining = owners.filter { $0["uid"]?.stringValue != uid }
                    updated[path: "metadata", "ownerReferences"] = remaining.isEmpty ? nil : .array(remaining)
                    commit(.modified, dependentResource, updated, previous: object)
                }
            }
            finalizers.removeAll { $0 == "orphan" }
        }
        if finalizers.contains("foregroundDeletion") {
            collectGarbage(ownerUID: uid)
            finalizers.removeAll { $0 == "foregroundDeletion" }
        }
        var updated = owner
        updated[path: "metadata", "finalizers"] = finalizers.isEmpty ? nil : .array(finalizers)
        commit(finalizers.isEmpty ? .deleted : .modified, resource, updated, previous: owner)
    }
}

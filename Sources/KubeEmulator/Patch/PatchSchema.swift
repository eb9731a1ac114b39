/// How a list field merges in a strategic merge patch (the `patchStrategy` and `patchMergeKey`
/// tags of the Go types, also published in OpenAPI as `x-kubernetes-patch-strategy` and
/// `x-kubernetes-patch-merge-key`).
enum ListMerge: Sendable, Equatable {
    /// Merge elements that share the key; unknown keys are appended.
    case byKey(String)
    /// A list of scalars merged as a set (`finalizers`).
    case primitiveSet
}

/// The list fields with a merge strategy, by field path from the object root (array elements
/// add no path component: `spec.template.spec.containers.env`). Every other list is replaced.
struct PatchSchema: Sendable {
    let lists: [String: ListMerge]
    /// Fields whose maps carry `patchStrategy: retainKeys` (`volumes` elements, `strategy`).
    let retainKeys: Set<String>

    func listMerge(_ path: [String]) -> ListMerge? { lists[path.joined(separator: ".")] }

    static func forKind(_ kind: String) -> PatchSchema {
        var lists: [String: ListMerge] = [
            "metadata.finalizers": .primitiveSet,
            "metadata.ownerReferences": .byKey("uid"),
            "status.conditions": .byKey("type"),
        ]
        var retain: Set<String> = []
        func addPodSpec(_ prefix: String) {
            for (field, key) in [
                ("containers", "name"), ("initContainers", "name"), ("ephemeralContainers", "name"),
                ("volumes", "name"), ("imagePullSecrets", "name"), ("hostAliases", "ip"),
                ("topologySpreadConstraints", "topologyKey"), ("resourceClaims", "name"),
                ("schedulingGates", "name"),
            ] {
                lists["\(prefix).\(field)"] = .byKey(key)
            }
            retain.insert("\(prefix).volumes")
            for containers in ["containers", "initContainers", "ephemeralContainers"] {
                let base = "\(prefix).\(containers)"
                lists["\(base).env"] = .byKey("name")
                lists["\(base).ports"] = .byKey("containerPort")
                lists["\(base).volumeMounts"] = .byKey("mountPath")
                lists["\(base).volumeDevices"] = .byKey("devicePath")
                lists["\(base).resizePolicy"] = nil
            }
        }
        switch kind {
        case "Pod":
            addPodSpec("spec")
            lists["status.containerStatuses"] = nil
        case "PodTemplate":
            addPodSpec("template.spec")
        case "Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job":
            addPodSpec("spec.template.spec")
            if kind == "Deployment" { retain.insert("spec.strategy") }
            if kind == "DaemonSet" { retain.insert("spec.updateStrategy") }
        case "CronJob":
            addPodSpec("spec.jobTemplate.spec.template.spec")
        case "Service":
            lists["spec.ports"] = .byKey("port")
        case "Node":
            lists["spec.taints"] = nil
            lists["status.addresses"] = .byKey("type")
        default:
            break
        }
        return PatchSchema(lists: lists, retainKeys: retain)
    }
}

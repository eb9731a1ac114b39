/// The resource types the emulator serves, grouped by API group and version as discovery lists
/// them. Names, short names, categories, verbs and subresources follow a v1.32 API server.
struct ResourceCatalog: Sendable {
    let resources: [APIResource]

    /// Group names in the order `/apis` lists them (the real server sorts by priority; this is
    /// the same order for these groups).
    let groupOrder: [String]

    static let standard = ResourceCatalog(resources: standardResources)

    init(resources: [APIResource]) {
        self.resources = resources
        var order: [String] = []
        for resource in resources where !resource.group.isEmpty && !order.contains(resource.group) {
            order.append(resource.group)
        }
        groupOrder = order
    }

    func resource(group: String, version: String, name: String) -> APIResource? {
        resources.first { $0.group == group && $0.version == version && $0.name == name }
    }

    /// The resources of a group/version, in discovery order.
    func resources(group: String, version: String) -> [APIResource] {
        resources.filter { $0.group == group && $0.version == version }
    }

    func versions(of group: String) -> [String] {
        var versions: [String] = []
        for resource in resources where resource.group == group && !versions.contains(resource.version) {
            versions.append(resource.version)
        }
        return versions
    }

    /// The resource for a kind (`apps/v1`, `Deployment`), for objects given without a URL.
    func resource(apiVersion: String, kind: String) -> APIResource? {
        resources.first { $0.apiVersion == apiVersion && $0.kind == kind }
    }

    /// A resource by plural name, short name or kind (case-insensitive), as `kubectl` resolves them.
    func resource(named name: String) -> APIResource? {
        let lower = name.lowercased()
        return resources.first { $0.name == lower }
            ?? resources.first { $0.shortNames.contains(lower) || $0.singularName == lower }
    }
}

private let core = "", apps = "apps"
private let podFields = [
    "spec.nodeName", "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName",
    "spec.hostNetwork",
    "status.phase", "status.podIP", "status.podIPs", "status.nominatedNodeName",
]
private let eventFields = [
    "involvedObject.kind", "involvedObject.namespace", "involvedObject.name", "involvedObject.uid",
    "involvedObject.apiVersion", "involvedObject.resourceVersion", "involvedObject.fieldPath", "reason",
    "reportingComponent", "source", "type",
]

private let standardResources: [APIResource] = [
    // core/v1
    APIResource(kind: "ConfigMap", name: "configmaps", shortNames: ["cm"]),
    APIResource(kind: "Endpoints", name: "endpoints", shortNames: ["ep"]),
    APIResource(kind: "Event", name: "events", shortNames: ["ev"], fieldSelectors: eventFields),
    APIResource(
        kind: "Namespace", name: "namespaces", namespaced: false, shortNames: ["ns"],
        verbs: ["create", "delete", "get", "list", "patch", "update", "watch"],
        subresources: ["finalize", "status"],
        fieldSelectors: ["status.phase"]),
    APIResource(
        kind: "Node", name: "nodes", namespaced: false, shortNames: ["no"], subresources: ["status"],
        fieldSelectors: ["spec.unschedulable"]),
    APIResource(
        kind: "PersistentVolumeClaim", name: "persistentvolumeclaims", shortNames: ["pvc"],
        subresources: ["status"]),
    APIResource(
        kind: "Pod", name: "pods", shortNames: ["po"], categories: ["all"],
        subresources: ["eviction", "log", "status"],
        fieldSelectors: podFields),
    APIResource(kind: "Secret", name: "secrets", fieldSelectors: ["type"]),
    APIResource(kind: "ServiceAccount", name: "serviceaccounts", shortNames: ["sa"], subresources: ["token"]),
    APIResource(
        kind: "Service", name: "services", shortNames: ["svc"], categories: ["all"],
        verbs: ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"],
        subresources: ["status"]),
    // apps/v1
    APIResource(
        group: apps, kind: "ControllerRevision", name: "controllerrevisions"),
    APIResource(
        group: apps, kind: "DaemonSet", name: "daemonsets", shortNames: ["ds"], categories: ["all"],
        subresources: ["status"]),
    APIResource(
        group: apps, kind: "Deployment", name: "deployments", shortNames: ["deploy"], categories: ["all"],
        subresources: ["scale", "status"]),
    APIResource(
        group: apps, kind: "ReplicaSet", name: "replicasets", shortNames: ["rs"], categories: ["all"],
        subresources: ["scale", "status"], fieldSelectors: ["status.replicas"]),
    APIResource(
        group: apps, kind: "StatefulSet", name: "statefulsets", shortNames: ["sts"], categories: ["all"],
        subresources: ["scale", "status"]),
    // authentication.k8s.io/v1
    APIResource(
        group: "authentication.k8s.io", kind: "SelfSubjectReview", name: "selfsubjectreviews",
        namespaced: false,
        verbs: ["create"]),
    APIResource(
        group: "authentication.k8s.io", kind: "TokenReview", name: "tokenreviews", namespaced: false,
        verbs: ["create"]),
    // authorization.k8s.io/v1
    APIResource(
        group: "authorization.k8s.io", kind: "LocalSubjectAccessReview", name: "localsubjectaccessreviews",
        verbs: ["create"]),
    APIResource(
        group: "authorization.k8s.io", kind: "SelfSubjectAccessReview", name: "selfsubjectaccessreviews",
        namespaced: false, verbs: ["create"]),
    APIResource(
        group: "authorization.k8s.io", kind: "SelfSubjectRulesReview", name: "selfsubjectrulesreviews",
        namespaced: false, verbs: ["create"]),
    APIResource(
        group: "authorization.k8s.io", kind: "SubjectAccessReview", name: "subjectaccessreviews",
        namespaced: false,
        verbs: ["create"]),
    // autoscaling/v2
    APIResource(
        group: "autoscaling", version: "v2", kind: "HorizontalPodAutoscaler",
        name: "horizontalpodautoscalers",
        shortNames: ["hpa"], categories: ["all"], subresources: ["status"]),
    // batch/v1
    APIResource(
        group: "batch", kind: "CronJob", name: "cronjobs", shortNames: ["cj"], categories: ["all"],
        subresources: ["status"]),
    APIResource(group: "batch", kind: "Job", name: "jobs", categories: ["all"], subresources: ["status"]),
    // coordination.k8s.io/v1
    APIResource(group: "coordination.k8s.io", kind: "Lease", name: "leases"),
    // events.k8s.io/v1
    APIResource(group: "events.k8s.io", kind: "Event", name: "events", shortNames: ["ev"]),
    // networking.k8s.io/v1
    APIResource(
        group: "networking.k8s.io", kind: "Ingress", name: "ingresses", shortNames: ["ing"],
        subresources: ["status"]),
    APIResource(
        group: "networking.k8s.io", kind: "NetworkPolicy", name: "networkpolicies", shortNames: ["netpol"]),
    // policy/v1
    APIResource(
        group: "policy", kind: "PodDisruptionBudget", name: "poddisruptionbudgets", shortNames: ["pdb"],
        subresources: ["status"]),
    // rbac.authorization.k8s.io/v1
    APIResource(
        group: "rbac.authorization.k8s.io", kind: "ClusterRoleBinding", name: "clusterrolebindings",
        namespaced: false),
    APIResource(
        group: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "clusterroles", namespaced: false),
    APIResource(group: "rbac.authorization.k8s.io", kind: "RoleBinding", name: "rolebindings"),
    APIResource(group: "rbac.authorization.k8s.io", kind: "Role", name: "roles"),
]

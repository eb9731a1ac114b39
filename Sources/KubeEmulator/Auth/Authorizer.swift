import JSONValue
import Synchronization

/// Decides whether a user may make a request: `system:masters` may do everything; every
/// authenticated user may read discovery and ask about its own access (the real server's
/// `system:discovery`, `system:basic-user` and `system:public-info-viewer` roles); the rest comes
/// from the policy file and from the RBAC objects (Roles, ClusterRoles and their bindings)
/// stored in the cluster, with RBAC's matching rules.
final class Authorizer: Sendable {
    private let policy: Mutex<AccessPolicy>

    static let authenticatedRules: [AccessRule] = [
        AccessRule(
            verbs: ["get"],
            nonResourceURLs: [
                "/api", "/api/*", "/apis", "/apis/*", "/openapi", "/openapi/*", "/version", "/version/",
                "/healthz",
                "/livez", "/readyz",
            ]),
        AccessRule(
            verbs: ["create"], apiGroups: ["authorization.k8s.io"],
            resources: ["selfsubjectaccessreviews", "selfsubjectrulesreviews"]),
        AccessRule(
            verbs: ["create"], apiGroups: ["authentication.k8s.io"], resources: ["selfsubjectreviews"]),
    ]

    init(policy: AccessPolicy) {
        self.policy = Mutex(policy)
    }

    func replacePolicy(_ new: AccessPolicy) { policy.withLock { $0 = new } }

    var currentPolicy: AccessPolicy { policy.withLock { $0 } }

    /// The RBAC objects a decision needs, read from the store.
    struct RBACSnapshot: Sendable {
        var roles: [ObjectName: JSON] = [:]
        var clusterRoles: [String: JSON] = [:]
        var roleBindings: [JSON] = []
        var clusterRoleBindings: [JSON] = []
    }

    func allows(_ user: UserInfo, _ request: RequestInfo, rbac: RBACSnapshot) -> Bool {
        if user.groups.contains("system:masters") { return true }
        if Authorizer.authenticatedRules.contains(where: { $0.allows(request) }) { return true }
        return rules(for: user, namespace: request.namespace, rbac: rbac).contains { $0.allows(request) }
    }

    /// Every rule that applies to the user for requests in `namespace` ("" = cluster scope).
    func rules(for user: UserInfo, namespace: String, rbac: RBACSnapshot) -> [AccessRule] {
        let policy = self.policy.withLock { $0 }
        var rules: [AccessRule] = []
        for entry in policy.users where entry.info.name == user.name { rules += entry.rules }
        for group in user.groups { rules += policy.groupRules[group] ?? [] }
        for binding in rbac.clusterRoleBindings where Authorizer.binding(binding, names: user) {
            if let role = rbac.clusterRoles[binding[path: "roleRef", "name"]?.stringValue ?? ""] {
                rules += Authorizer.accessRules(of: role, namespace: nil)
            }
        }
        if !namespace.isEmpty {
            for binding in rbac.roleBindings
            where binding[path: "metadata", "namespace"]?.stringValue == namespace
                && Authorizer.binding(binding, names: user)
            {
                let roleName = binding[path: "roleRef", "name"]?.stringValue ?? ""
                let role: JSON?
                if binding[path: "roleRef", "kind"]?.stringValue == "ClusterRole" {
                    role = rbac.clusterRoles[roleName]
                } else {
                    role = rbac.roles[ObjectName(namespace: namespace, name: roleName)]
                }
                if let role { rules += Authorizer.accessRules(of: role, namespace: namespace) }
            }
        }
        return rules
    }

    static func binding(_ binding: JSON, names user: UserInfo) -> Bool {
        let bindingNamespace = binding[path: "metadata", "namespace"]?.stringValue ?? ""
        return (binding["subjects"]?.arrayValue ?? []).contains { subject in
            let name = subject["name"]?.stringValue ?? ""
            switch subject["kind"]?.stringValue ?? "" {
            case "User": return name == user.name
            case "Group": return user.groups.contains(name)
            case "ServiceAccount":
                let namespace = subject["namespace"]?.stringValue ?? bindingNamespace
                return user.name == "system:serviceaccount:\(namespace):\(name)"
            default: return false
            }
        }
    }

    static func accessRules(of role: JSON, namespace: String?) -> [AccessRule] {
        (role["rules"]?.arrayValue ?? []).compactMap { rule in
            guard var parsed = try? AccessRule(json: rule.droppingApiGroupsDefault) else { return nil }
            parsed.namespaces = namespace.map { [$0] } ?? []
            return parsed
        }
    }
}

extension JSON {
    /// An RBAC rule without `apiGroups` matches no resource (unlike the policy file's default).
    fileprivate var droppingApiGroupsDefault: JSON {
        var rule = self
        if rule["apiGroups"] == nil { rule["apiGroups"] = [] }
        return rule
    }
}

extension ClusterStore {
    func rbacSnapshot() -> Authorizer.RBACSnapshot {
        let group = "rbac.authorization.k8s.io"
        var snapshot = Authorizer.RBACSnapshot()
        for (name, role) in objects[GroupResource(group: group, resource: "roles")] ?? [:] {
            snapshot.roles[name] = role
        }
        for (name, role) in objects[GroupResource(group: group, resource: "clusterroles")] ?? [:] {
            snapshot.clusterRoles[name.name] = role
        }
        snapshot.roleBindings = Array(
            (objects[GroupResource(group: group, resource: "rolebindings")] ?? [:]).values)
        snapshot.clusterRoleBindings = Array(
            (objects[GroupResource(group: group, resource: "clusterrolebindings")] ?? [:]).values)
        return snapshot
    }
}

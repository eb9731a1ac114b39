import JSONValue

/// Namespaces: DNS-1123 label names, the `kubernetes.io/metadata.name` label, phase Active and
/// the `kubernetes` finalizer.
struct NamespaceRules: ResourceRules {
    var hasStatusSubresource: Bool { true }

    func nameProblems(_ name: String) -> [String] { Validation.dns1123LabelProblems(name) }

    func applyDefaults(_ object: inout JSON) {
        if let name = object[path: "metadata", "name"]?.stringValue, !name.isEmpty {
            object[path: "metadata", "labels", "kubernetes.io/metadata.name"] = .string(name)
        }
    }

    func prepareForCreate(_ object: inout JSON) {
        object["status"] = ["phase": "Active"]
        if (object[path: "spec", "finalizers"]?.arrayValue ?? []).isEmpty {
            object[path: "spec", "finalizers"] = ["kubernetes"]
        }
    }

    func prepareForUpdate(_ object: inout JSON, old: JSON) {
        object["status"] = old["status"]
        // spec.finalizers change only through the `finalize` subresource.
        object["spec"] = old["spec"]
    }
}

/// Services: DNS-1035 names, ports required, defaults and a cluster IP.
struct ServiceRules: ResourceRules {
    var hasStatusSubresource: Bool { true }

    func nameProblems(_ name: String) -> [String] { Validation.dns1035LabelProblems(name) }

    func applyDefaults(_ object: inout JSON) {
        object.setDefault(["spec", "type"], "ClusterIP")
        object.setDefault(["spec", "sessionAffinity"], "None")
        let type = object[path: "spec", "type"]?.stringValue ?? "ClusterIP"
        if type != "ExternalName" {
            object.setDefault(["spec", "ipFamilies"], ["IPv4"])
            object.setDefault(["spec", "ipFamilyPolicy"], "SingleStack")
            object.setDefault(["spec", "internalTrafficPolicy"], "Cluster")
        }
        if let ports = object[path: "spec", "ports"]?.arrayValue {
            object[path: "spec", "ports"] = .array(
                ports.map { port in
                    var port = port
                    port.setDefault(["protocol"], "TCP")
                    if port["targetPort"] == nil, let number = port["port"] { port["targetPort"] = number }
                    return port
                })
        }
    }

    func prepareForCreate(_ object: inout JSON) {
        object["status"] = ["loadBalancer": [:]]
        let type = object[path: "spec", "type"]?.stringValue ?? "ClusterIP"
        if type != "ExternalName", object[path: "spec", "clusterIP"]?.stringValue != "None",
            (object[path: "spec", "clusterIP"]?.stringValue ?? "").isEmpty
        {
            let ip = "10.96.\(Int.random(in: 1...254)).\(Int.random(in: 1...254))"
            object[path: "spec", "clusterIP"] = .string(ip)
            object[path: "spec", "clusterIPs"] = [.string(ip)]
        }
    }

    func prepareForUpdate(_ object: inout JSON, old: JSON) {
        object["status"] = old["status"]
        if (object[path: "spec", "clusterIP"]?.stringValue ?? "").isEmpty {
            object[path: "spec", "clusterIP"] = old[path: "spec", "clusterIP"]
            object[path: "spec", "clusterIPs"] = old[path: "spec", "clusterIPs"]
        }
    }

    func validate(_ object: JSON) -> [FieldError] {
        var errors: [FieldError] = []
        let type = object[path: "spec", "type"]?.stringValue ?? "ClusterIP"
        let ports = object[path: "spec", "ports"]?.arrayValue ?? []
        if type != "ExternalName", ports.isEmpty, object[path: "spec", "clusterIP"]?.stringValue != "None" {
            errors.append(.required("spec.ports"))
        }
        for (index, port) in ports.enumerated() {
            guard let number = port["port"]?.intValue else {
                errors.append(.required("spec.ports[\(index)].port"))
                continue
            }
            if !(1...65535).contains(number) {
                errors.append(
                    .invalid(
                        "spec.ports[\(index)].port", .int(number), "must be between 1 and 65535, inclusive"))
            }
        }
        return errors
    }
}

/// Events (core/v1): the involved object's namespace must be the event's.
struct EventRules: ResourceRules {
    func validate(_ object: JSON) -> [FieldError] {
        var errors: [FieldError] = []
        let namespace = object[path: "metadata", "namespace"]?.stringValue ?? ""
        if let involved = object[path: "involvedObject", "namespace"]?.stringValue, !involved.isEmpty,
            involved != namespace
        {
            errors.append(
                .invalid("involvedObject.namespace", .string(involved), "does not match event.namespace"))
        }
        return errors
    }
}

/// RBAC objects: path-segment names, verbs required in every rule.
struct RBACRules: ResourceRules {
    var kind: String

    func nameProblems(_ name: String) -> [String] { Validation.pathSegmentProblems(name) }

    func validate(_ object: JSON) -> [FieldError] {
        var errors: [FieldError] = []
        if kind == "Role" || kind == "ClusterRole" {
            for (index, rule) in (object["rules"]?.arrayValue ?? []).enumerated() {
                if (rule["verbs"]?.arrayValue ?? []).isEmpty {
                    errors.append(.required("rules[\(index)].verbs", "verbs must contain at least one value"))
                }
                let hasURLs = !(rule["nonResourceURLs"]?.arrayValue ?? []).isEmpty
                if kind == "Role" && hasURLs {
                    errors.append(
                        .invalid(
                            "rules[\(index)].nonResourceURLs", rule["nonResourceURLs"] ?? [],
                            "namespaced rules cannot apply to non-resource URLs"))
                }
                if !hasURLs && rule["apiGroups"] == nil {
                    errors.append(
                        .required(
                            "rules[\(index)].apiGroups", "resource rules must supply at least one api group"))
                }
            }
        }
        if kind == "RoleBinding" || kind == "ClusterRoleBinding" {
            if (object[path: "roleRef", "name"]?.stringValue ?? "").isEmpty {
                errors.append(.required("roleRef.name"))
            }
            let roleKind = object[path: "roleRef", "kind"]?.stringValue ?? ""
            let allowed = kind == "RoleBinding" ? ["Role", "ClusterRole"] : ["ClusterRole"]
            if !allowed.contains(roleKind) {
                errors.append(.notSupported("roleRef.kind", .string(roleKind), allowed))
            }
        }
        return errors
    }

    func validateUpdate(_ object: JSON, old: JSON) -> [FieldError] {
        var errors = validate(object)
        if kind.hasSuffix("Binding"), object["roleRef"] != old["roleRef"] {
            errors.append(
                .invalid("roleRef", object["roleRef"] ?? .null, "cannot change roleRef"))
        }
        return errors
    }
}

/// Leases: updates must name the resourceVersion they replace; the spec's numbers are checked
/// (`ValidateLeaseSpec`).
struct LeaseRules: ResourceRules {
    var allowsUnconditionalUpdate: Bool { false }

    func validate(_ object: JSON) -> [FieldError] {
        var errors: [FieldError] = []
        if let duration = object[path: "spec", "leaseDurationSeconds"]?.intValue, duration <= 0 {
            errors.append(.invalid("spec.leaseDurationSeconds", .int(duration), "must be greater than 0"))
        }
        if let transitions = object[path: "spec", "leaseTransitions"]?.intValue, transitions < 0 {
            errors.append(
                .invalid("spec.leaseTransitions", .int(transitions), "must be greater than or equal to 0"))
        }
        let strategy = object[path: "spec", "strategy"]?.stringValue ?? ""
        if !(object[path: "spec", "preferredHolder"]?.stringValue ?? "").isEmpty, strategy.isEmpty {
            errors.append(
                .forbidden("spec.preferredHolder", "may only be specified if `strategy` is defined"))
        }
        return errors
    }
}

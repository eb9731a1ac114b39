import JSONValue

/// The per-kind behaviour of the real server's registry strategies: decoding checks, defaults,
/// what create and update may change, generation tracking and validation.
protocol ResourceRules: Sendable {
    /// Problems with `metadata.name` (each becomes one `Invalid value` cause).
    func nameProblems(_ name: String) -> [String]
    /// Whether spec changes bump `metadata.generation` (workloads).
    var tracksGeneration: Bool { get }
    /// Whether the kind has a `status` subresource: writes to the main resource keep the stored
    /// status, writes to `status` keep everything else.
    var hasStatusSubresource: Bool { get }
    /// Whether an update without `metadata.resourceVersion` overwrites whatever is stored
    /// (most kinds) or is refused with 422 (Leases: their holders must not race blindly).
    var allowsUnconditionalUpdate: Bool { get }
    /// What decoding the body into the typed object checks and converts (400 when it fails),
    /// e.g. base64 in Secret `data`, `stringData` merged into `data`.
    func decode(_ object: inout JSON) throws(APIError)
    /// Server-side defaults (`SetDefaults_*`), applied on every write.
    func applyDefaults(_ object: inout JSON)
    func prepareForCreate(_ object: inout JSON)
    func prepareForUpdate(_ object: inout JSON, old: JSON)
    func validate(_ object: JSON) -> [FieldError]
    func validateUpdate(_ object: JSON, old: JSON) -> [FieldError]
}

extension ResourceRules {
    func nameProblems(_ name: String) -> [String] { Validation.dns1123SubdomainProblems(name) }
    var tracksGeneration: Bool { false }
    var hasStatusSubresource: Bool { false }
    var allowsUnconditionalUpdate: Bool { true }
    func decode(_ object: inout JSON) throws(APIError) {}
    func applyDefaults(_ object: inout JSON) {}

    func prepareForCreate(_ object: inout JSON) {
        if hasStatusSubresource { object["status"] = nil }
        if tracksGeneration { object[path: "metadata", "generation"] = 1 }
    }

    func prepareForUpdate(_ object: inout JSON, old: JSON) {
        if hasStatusSubresource { object["status"] = old["status"] }
        if tracksGeneration, object["spec"] != old["spec"] {
            object[path: "metadata", "generation"] = .int(
                (old[path: "metadata", "generation"]?.intValue ?? 0) + 1)
        }
    }

    func validate(_ object: JSON) -> [FieldError] { [] }
    func validateUpdate(_ object: JSON, old: JSON) -> [FieldError] { validate(object) }
}

/// Rules for kinds without special behaviour.
struct GenericRules: ResourceRules {
    var hasStatusSubresource: Bool
    var tracksGeneration: Bool
    var nameRule: @Sendable (String) -> [String] = Validation.dns1123SubdomainProblems

    func nameProblems(_ name: String) -> [String] { nameRule(name) }
}

/// The rules for each served resource.
enum RulesRegistry {
    static func rules(for resource: APIResource) -> any ResourceRules {
        switch (resource.group, resource.name) {
        case ("", "secrets"): return SecretRules()
        case ("", "configmaps"): return ConfigMapRules()
        case ("", "namespaces"): return NamespaceRules()
        case ("", "pods"): return PodRules()
        case ("", "services"): return ServiceRules()
        case ("", "events"): return EventRules()
        case ("apps", "deployments"): return DeploymentRules()
        case ("apps", "replicasets"), ("apps", "statefulsets"), ("apps", "daemonsets"):
            return WorkloadRules()
        case ("rbac.authorization.k8s.io", _):
            return RBACRules(kind: resource.kind)
        case ("coordination.k8s.io", "leases"):
            return LeaseRules()
        default:
            return GenericRules(
                hasStatusSubresource: resource.subresources.contains("status"),
                tracksGeneration: ["batch", "autoscaling", "networking.k8s.io", "policy"].contains(
                    resource.group))
        }
    }
}

// MARK: - Helpers shared by the kind rules

extension JSON {
    /// Removes members whose value is `null`, recursively (Go drops them when decoding into
    /// typed structs).
    func droppingNulls() -> JSON {
        switch self {
        case .object(let members):
            var out: [String: JSON] = [:]
            for (key, value) in members where !value.isNull { out[key] = value.droppingNulls() }
            return .object(out)
        case .array(let elements):
            return .array(elements.map { $0.droppingNulls() })
        default:
            return self
        }
    }

    /// Sets `value` at `path` only when nothing is there yet.
    mutating func setDefault(_ path: [String], _ value: JSON) {
        if self[path: path] == nil || self[path: path]?.isNull == true { self[path: path] = value }
    }
}

/// "cannot be handled as" decoding failures, worded as the real server's.
func decodingError(kind: String, version: String = "v1", _ detail: String) -> APIError {
    APIError.badRequest("\(kind) in version \"\(version)\" cannot be handled as a \(kind): \(detail)")
}

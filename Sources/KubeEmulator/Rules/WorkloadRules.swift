import JSONValue

/// Deployments: defaults, generation bumped by spec or annotation changes (the deployment
/// strategy copies annotations to ReplicaSets), selector required, matching the template and
/// immutable, containers with names and images.
struct DeploymentRules: ResourceRules {
    var tracksGeneration: Bool { true }
    var hasStatusSubresource: Bool { true }

    func applyDefaults(_ object: inout JSON) {
        object.setDefault(["spec", "replicas"], 1)
        object.setDefault(["spec", "revisionHistoryLimit"], 10)
        object.setDefault(["spec", "progressDeadlineSeconds"], 600)
        let type = object[path: "spec", "strategy", "type"]?.stringValue ?? "RollingUpdate"
        object[path: "spec", "strategy", "type"] = .string(type)
        if type == "RollingUpdate" {
            object.setDefault(["spec", "strategy", "rollingUpdate", "maxUnavailable"], "25%")
            object.setDefault(["spec", "strategy", "rollingUpdate", "maxSurge"], "25%")
        }
        PodSpecDefaults.applyToTemplate(&object, at: ["spec", "template"])
    }

    func prepareForUpdate(_ object: inout JSON, old: JSON) {
        object["status"] = old["status"]
        if object["spec"] != old["spec"]
            || object[path: "metadata", "annotations"] != old[path: "metadata", "annotations"]
        {
            object[path: "metadata", "generation"] = .int(
                (old[path: "metadata", "generation"]?.intValue ?? 0) + 1)
        }
    }

    func validate(_ object: JSON) -> [FieldError] {
        WorkloadRules.validateSelectorAndTemplate(object)
    }

    func validateUpdate(_ object: JSON, old: JSON) -> [FieldError] {
        var errors = validate(object)
        if let selector = object[path: "spec", "selector"], selector != old[path: "spec", "selector"] {
            errors.append(.immutable("spec.selector", selector))
        }
        return errors
    }
}

/// ReplicaSets, StatefulSets, DaemonSets: generation tracking and template validation.
struct WorkloadRules: ResourceRules {
    var tracksGeneration: Bool { true }
    var hasStatusSubresource: Bool { true }

    func applyDefaults(_ object: inout JSON) {
        if object[path: "kind"]?.stringValue != "DaemonSet" { object.setDefault(["spec", "replicas"], 1) }
        PodSpecDefaults.applyToTemplate(&object, at: ["spec", "template"])
    }

    func validate(_ object: JSON) -> [FieldError] { WorkloadRules.validateSelectorAndTemplate(object) }

    static func validateSelectorAndTemplate(_ object: JSON) -> [FieldError] {
        var errors: [FieldError] = []
        if let replicas = object[path: "spec", "replicas"]?.intValue, replicas < 0 {
            errors.append(.invalid("spec.replicas", .int(replicas), "must be greater than or equal to 0"))
        }
        let selector = object[path: "spec", "selector"]
        let selectorEmpty =
            selector == nil
            || ((selector?["matchLabels"]?.objectValue ?? [:]).isEmpty
                && (selector?["matchExpressions"]?.arrayValue ?? []).isEmpty)
        if selectorEmpty {
            errors.append(.required("spec.selector"))
        }
        let templateLabels = object[path: "spec", "template", "metadata", "labels"] ?? .object([:])
        if !selectorEmpty, let selector {
            let parsed = LabelSelector(object: selector)
            if !parsed.matches(object: ["metadata": ["labels": templateLabels]]) {
                errors.append(
                    .invalid(
                        "spec.template.metadata.labels", templateLabels,
                        "`selector` does not match template `labels`"))
            }
        }
        errors += PodSpecDefaults.validate(object[path: "spec", "template", "spec"], at: "spec.template.spec")
        return errors
    }
}

/// Pods: status starts Pending, the pod spec gets its defaults.
struct PodRules: ResourceRules {
    var hasStatusSubresource: Bool { true }

    func applyDefaults(_ object: inout JSON) {
        var spec = object["spec"] ?? .object([:])
        PodSpecDefaults.apply(&spec)
        spec.setDefault(["serviceAccountName"], "default")
        spec.setDefault(["serviceAccount"], spec["serviceAccountName"] ?? "default")
        spec.setDefault(["enableServiceLinks"], true)
        spec.setDefault(["priority"], 0)
        spec.setDefault(["preemptionPolicy"], "PreemptLowerPriority")
        spec.setDefault(
            ["tolerations"],
            [
                [
                    "key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute",
                    "tolerationSeconds": 300,
                ],
                [
                    "key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute",
                    "tolerationSeconds": 300,
                ],
            ])
        object["spec"] = spec
    }

    func prepareForCreate(_ object: inout JSON) {
        let given = object["status"]
        object["status"] = ["phase": "Pending", "qosClass": "BestEffort"]
        // The emulator's own controllers create pods that are already running.
        if object[path: "metadata", "annotations", PodSpecDefaults.simulatedAnnotation] != nil, let given {
            object["status"] = given
        }
    }

    func validate(_ object: JSON) -> [FieldError] {
        PodSpecDefaults.validate(object["spec"], at: "spec")
    }
}

/// Pod spec defaults (`SetDefaults_PodSpec`, `SetDefaults_Container`) and the basic container
/// validation every pod template gets.
enum PodSpecDefaults {
    /// Marks pods the emulator's workload simulation created.
    static let simulatedAnnotation = "emulator.beluga-secrets.io/simulated"

    static func applyToTemplate(_ object: inout JSON, at path: [String]) {
        guard var template = object[path: path] else { return }
        if template["metadata"] == nil { template["metadata"] = [:] }
        template.setDefault(["metadata", "creationTimestamp"], .null)
        var spec = template["spec"] ?? .object([:])
        apply(&spec)
        template["spec"] = spec
        object[path: path] = template
    }

    static func apply(_ spec: inout JSON) {
        spec.setDefault(["restartPolicy"], "Always")
        spec.setDefault(["terminationGracePeriodSeconds"], 30)
        spec.setDefault(["dnsPolicy"], "ClusterFirst")
        spec.setDefault(["securityContext"], [:])
        spec.setDefault(["schedulerName"], "default-scheduler")
        for list in ["containers", "initContainers"] {
            guard let containers = spec[list]?.arrayValue else { continue }
            spec[list] = .array(containers.map(defaultContainer))
        }
    }

    static func defaultContainer(_ container: JSON) -> JSON {
        var container = container
        container.setDefault(["terminationMessagePath"], "/dev/termination-log")
        container.setDefault(["terminationMessagePolicy"], "File")
        container.setDefault(["resources"], [:])
        if container["imagePullPolicy"] == nil {
            let image = container["image"]?.stringValue ?? ""
            container["imagePullPolicy"] = .string(pullPolicy(for: image))
        }
        if let ports = container["ports"]?.arrayValue {
            container["ports"] = .array(
                ports.map { port in
                    var port = port
                    port.setDefault(["protocol"], "TCP")
                    return port
                })
        }
        if let env = container["env"]?.arrayValue {
            container["env"] = .array(
                env.map { variable in
                    var variable = variable
                    if variable[path: "valueFrom", "fieldRef"] != nil {
                        variable.setDefault(["valueFrom", "fieldRef", "apiVersion"], "v1")
                    }
                    return variable
                })
        }
        return container
    }

    /// `Always` for `:latest` or untagged images, `IfNotPresent` otherwise.
    static func pullPolicy(for image: String) -> String {
        if image.contains("@") { return "IfNotPresent" }
        let lastComponent = image.split(separator: "/").last.map(String.init) ?? image
        guard let colon = lastComponent.lastIndex(of: ":") else { return "Always" }
        return lastComponent[lastComponent.index(after: colon)...] == "latest" ? "Always" : "IfNotPresent"
    }

    static func validate(_ spec: JSON?, at path: String) -> [FieldError] {
        var errors: [FieldError] = []
        let containers = spec?["containers"]?.arrayValue ?? []
        if containers.isEmpty { errors.append(.required("\(path).containers")) }
        var names = Set<String>()
        for (index, container) in containers.enumerated() {
            let base = "\(path).containers[\(index)]"
            let name = container["name"]?.stringValue ?? ""
            if name.isEmpty {
                errors.append(.required("\(base).name"))
            } else {
                for problem in Validation.dns1123LabelProblems(name) {
                    errors.append(.invalid("\(base).name", .string(name), problem))
                }
                if !names.insert(name).inserted { errors.append(.duplicate("\(base).name", .string(name))) }
            }
            if (container["image"]?.stringValue ?? "").trimmingSpaces.isEmpty {
                errors.append(.required("\(base).image"))
            }
            for (envIndex, variable) in (container["env"]?.arrayValue ?? []).enumerated()
            where (variable["name"]?.stringValue ?? "").isEmpty {
                errors.append(.required("\(base).env[\(envIndex)].name"))
            }
        }
        return errors
    }
}

extension String {
    var trimmingSpaces: String {
        var text = Substring(self)
        while let first = text.first, first.isWhitespace { text = text.dropFirst() }
        while let last = text.last, last.isWhitespace { text = text.dropLast() }
        return String(text)
    }
}

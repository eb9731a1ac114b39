import JSONValue
import TimeFormat

/// A Deployment (`apps/v1`): replicas, the pod template's annotations (a change there rolls
/// the pods, as `kubectl rollout restart` does) and the rollout status.
public struct Deployment: KubeObject {
    public static let resource = ResourceType.deployments
    public var json: JSON
    public init(json: JSON) { self.json = json }

    public var replicas: Int? {
        get { json[path: "spec", "replicas"]?.intValue }
        set { json[path: "spec", "replicas"] = newValue.map(JSON.int) }
    }

    /// `spec.template.metadata.annotations`.
    public var templateAnnotations: [String: String] {
        get { ObjectMeta.strings(json[path: "spec", "template", "metadata", "annotations"]) }
        set {
            json[path: "spec", "template", "metadata", "annotations"] =
                newValue.isEmpty ? nil : .object(newValue.mapValues(JSON.string))
        }
    }

    /// `spec.selector.matchLabels`.
    public var selectorLabels: [String: String] {
        ObjectMeta.strings(json[path: "spec", "selector", "matchLabels"])
    }

    public var status: Status { Status(json: json["status"] ?? .object([:])) }

    /// `status` of a Deployment, as `kubectl rollout status` reads it.
    public struct Status: Sendable, Equatable {
        public var json: JSON
        public var observedGeneration: Int? { json["observedGeneration"]?.intValue }
        public var replicas: Int { json["replicas"]?.intValue ?? 0 }
        public var updatedReplicas: Int { json["updatedReplicas"]?.intValue ?? 0 }
        public var readyReplicas: Int { json["readyReplicas"]?.intValue ?? 0 }
        public var availableReplicas: Int { json["availableReplicas"]?.intValue ?? 0 }
        public var conditions: [JSON] { json["conditions"]?.arrayValue ?? [] }
    }

    /// Whether the latest template is fully rolled out (the test `kubectl rollout status` uses).
    public var isRolledOut: Bool {
        let wanted = replicas ?? 1
        guard let generation = metadata.generation, let observed = status.observedGeneration,
            observed >= generation
        else { return false }
        return status.updatedReplicas >= wanted && status.replicas <= status.updatedReplicas
            && status.availableReplicas >= status.updatedReplicas
    }
}

/// A Pod (`v1`).
public struct Pod: KubeObject {
    public static let resource = ResourceType.pods
    public var json: JSON
    public init(json: JSON) { self.json = json }

    /// `status.phase`: `Pending`, `Running`, `Succeeded`, `Failed` or `Unknown`.
    public var phase: String? { json[path: "status", "phase"]?.stringValue }
    public var podIP: String? { json[path: "status", "podIP"]?.stringValue }
    public var nodeName: String? { json[path: "spec", "nodeName"]?.stringValue }
    public var containerNames: [String] {
        (json[path: "spec", "containers"]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue }
    }
}

/// A Lease (`coordination.k8s.io/v1`), used for leader election.
public struct Lease: KubeObject {
    public static let resource = ResourceType.leases
    public var json: JSON
    public init(json: JSON) { self.json = json }

    public var holderIdentity: String? {
        get { json[path: "spec", "holderIdentity"]?.stringValue }
        set { json[path: "spec", "holderIdentity"] = newValue.map(JSON.string) }
    }

    public var leaseDurationSeconds: Int? {
        get { json[path: "spec", "leaseDurationSeconds"]?.intValue }
        set { json[path: "spec", "leaseDurationSeconds"] = newValue.map(JSON.int) }
    }

    /// `spec.acquireTime`, a MicroTime (`2006-01-02T15:04:05.000000Z`).
    public var acquireTime: String? {
        get { json[path: "spec", "acquireTime"]?.stringValue }
        set { json[path: "spec", "acquireTime"] = newValue.map(JSON.string) }
    }

    public var renewTime: String? {
        get { json[path: "spec", "renewTime"]?.stringValue }
        set { json[path: "spec", "renewTime"] = newValue.map(JSON.string) }
    }

    public var leaseTransitions: Int? {
        get { json[path: "spec", "leaseTransitions"]?.intValue }
        set { json[path: "spec", "leaseTransitions"] = newValue.map(JSON.int) }
    }
}

/// An Event (`v1`, as `kubectl describe` and `kubectl get events` show them).
public struct Event: KubeObject {
    public static let resource = ResourceType.events
    public var json: JSON
    public init(json: JSON) { self.json = json }

    /// A new event about `object` (kind, name, namespace, uid taken from it).
    public init(
        about object: some KubeObjectView, reason: String, message: String, type: EventType = .normal,
        component: String = "beluga-secrets", time: String = KubeTime.time()
    ) {
        let namespace = object.namespace ?? "default"
        var json: JSON = ["apiVersion": "v1", "kind": "Event"]
        // Named as client-go's event recorder names events: `<object>.<hex nanoseconds>`.
        let nanoseconds = UInt64(max(0, UnixTime.now().nanosecondsSince1970))
        let eventName = "\(object.name).\(String(nanoseconds, radix: 16))"
        json["metadata"] = ["name": .string(eventName), "namespace": .string(namespace)]
        var involved: JSON = [
            "kind": .string(object.kind ?? ""), "name": .string(object.name), "namespace": .string(namespace),
        ]
        if let apiVersion = object.apiVersion { involved["apiVersion"] = .string(apiVersion) }
        if let uid = object.metadata.uid { involved["uid"] = .string(uid) }
        if let version = object.resourceVersion { involved["resourceVersion"] = .string(version) }
        json["involvedObject"] = involved
        json["reason"] = .string(reason)
        json["message"] = .string(message)
        json["type"] = .string(type.rawValue)
        json["source"] = ["component": .string(component)]
        json["reportingComponent"] = .string(component)
        json["firstTimestamp"] = .string(time)
        json["lastTimestamp"] = .string(time)
        json["count"] = 1
        self.json = json
    }

    /// `Normal` or `Warning`.
    public enum EventType: String, Sendable {
        case normal = "Normal"
        case warning = "Warning"
    }

    public var reason: String? { json["reason"]?.stringValue }
    public var message: String? { json["message"]?.stringValue }
    public var type: String? { json["type"]?.stringValue }
    public var involvedObjectName: String? { json[path: "involvedObject", "name"]?.stringValue }
    public var involvedObjectKind: String? { json[path: "involvedObject", "kind"]?.stringValue }
    public var count: Int? { json["count"]?.intValue }
}

import JSONValue

/// A typed view over a Kubernetes object held as `JSON`: accessors read and write the fields
/// this project uses, while every other field stays in `json` and survives a read-modify-write.
public protocol KubeObjectView: Sendable, Equatable {
    var json: JSON { get set }
    init(json: JSON)
}

/// A view whose resource type is fixed (Secret, ConfigMap...), so calls need no `ResourceType`.
public protocol KubeObject: KubeObjectView {
    static var resource: ResourceType { get }
}

extension KubeObject {
    /// A new object of this kind with `apiVersion`, `kind` and the given name (and namespace).
    public init(name: String, namespace: String? = nil) {
        var json: JSON = [
            "apiVersion": .string(Self.resource.apiVersion), "kind": .string(Self.resource.kind),
        ]
        json[path: "metadata", "name"] = .string(name)
        if let namespace { json[path: "metadata", "namespace"] = .string(namespace) }
        self.init(json: json)
    }
}

extension KubeObjectView {
    public var metadata: ObjectMeta {
        get { ObjectMeta(json: json["metadata"] ?? .object([:])) }
        set { json["metadata"] = newValue.json }
    }

    public var name: String { metadata.name }
    public var namespace: String? { metadata.namespace }
    public var resourceVersion: String? { metadata.resourceVersion }
    public var apiVersion: String? { json["apiVersion"]?.stringValue }
    public var kind: String? { json["kind"]?.stringValue }
}

/// Any object, for resources without a typed model.
public struct GenericObject: KubeObjectView {
    public var json: JSON
    public init(json: JSON) { self.json = json }
}

/// `metadata` of an object.
public struct ObjectMeta: Sendable, Equatable {
    public var json: JSON

    public init(json: JSON = .object([:])) { self.json = json }

    public var name: String {
        get { json["name"]?.stringValue ?? "" }
        set { json["name"] = .string(newValue) }
    }

    public var generateName: String? {
        get { json["generateName"]?.stringValue }
        set { json["generateName"] = newValue.map(JSON.string) }
    }

    public var namespace: String? {
        get { json["namespace"]?.stringValue }
        set { json["namespace"] = newValue.map(JSON.string) }
    }

    public var uid: String? { json["uid"]?.stringValue }

    public var resourceVersion: String? {
        get { json["resourceVersion"]?.stringValue }
        set { json["resourceVersion"] = newValue.map(JSON.string) }
    }

    public var generation: Int? { json["generation"]?.intValue }
    public var creationTimestamp: String? { json["creationTimestamp"]?.stringValue }
    public var deletionTimestamp: String? { json["deletionTimestamp"]?.stringValue }

    public var labels: [String: String] {
        get { Self.strings(json["labels"]) }
        set { json["labels"] = newValue.isEmpty ? nil : .object(newValue.mapValues(JSON.string)) }
    }

    public var annotations: [String: String] {
        get { Self.strings(json["annotations"]) }
        set { json["annotations"] = newValue.isEmpty ? nil : .object(newValue.mapValues(JSON.string)) }
    }

    /// `ownerReferences`, as JSON (rarely written by this project).
    public var ownerReferences: [JSON] {
        get { json["ownerReferences"]?.arrayValue ?? [] }
        set { json["ownerReferences"] = newValue.isEmpty ? nil : .array(newValue) }
    }

    static func strings(_ value: JSON?) -> [String: String] {
        guard let members = value?.objectValue else { return [:] }
        return members.compactMapValues(\.stringValue)
    }
}

import JSONValue

/// A Secret (`v1`). `data` is decoded from base64 to bytes. Its description never shows the
/// values, so logging a Secret cannot leak one.
public struct Secret: KubeObject, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public static let resource = ResourceType.secrets
    public var json: JSON
    public init(json: JSON) { self.json = json }

    /// `type`, e.g. `Opaque` (the default).
    public var type: String {
        get { json["type"]?.stringValue ?? "Opaque" }
        set { json["type"] = .string(newValue) }
    }

    /// The values, decoded. Setting encodes them; keys whose value is not base64 are skipped.
    public var data: [String: [UInt8]] {
        get {
            guard let members = json["data"]?.objectValue else { return [:] }
            return members.compactMapValues { value in
                value.stringValue.flatMap { Base64.decode($0) }
            }
        }
        set {
            json["data"] =
                newValue.isEmpty
                ? nil : .object(newValue.mapValues { .string(Base64.encode($0)) })
        }
    }

    /// The names of the keys, without touching values.
    public var keys: [String] { (json["data"]?.objectValue?.keys).map { $0.sorted() } ?? [] }

    /// Sets one value (bytes).
    public mutating func set(_ key: String, _ value: [UInt8]) {
        json[path: "data", key] = .string(Base64.encode(value))
    }

    /// Removes one key.
    public mutating func remove(_ key: String) { json[path: "data", key] = nil }

    public var immutable: Bool {
        get { json["immutable"]?.boolValue ?? false }
        set { json["immutable"] = newValue ? true : nil }
    }

    public var description: String {
        "Secret \(namespace ?? "")/\(name) (keys: \(keys.joined(separator: ", ")))"
    }
    public var debugDescription: String { description }
    public var customMirror: Mirror { Mirror(self, children: ["name": name, "keys": keys]) }
}

/// A ConfigMap (`v1`).
public struct ConfigMap: KubeObject {
    public static let resource = ResourceType.configMaps
    public var json: JSON
    public init(json: JSON) { self.json = json }

    public var data: [String: String] {
        get { ObjectMeta.strings(json["data"]) }
        set { json["data"] = newValue.isEmpty ? nil : .object(newValue.mapValues(JSON.string)) }
    }

    public subscript(key: String) -> String? {
        get { json[path: "data", key]?.stringValue }
        set { json[path: "data", key] = newValue.map(JSON.string) }
    }

    /// `binaryData`, decoded.
    public var binaryData: [String: [UInt8]] {
        guard let members = json["binaryData"]?.objectValue else { return [:] }
        return members.compactMapValues { value in
            value.stringValue.flatMap { Base64.decode($0) }
        }
    }

    public var immutable: Bool {
        get { json["immutable"]?.boolValue ?? false }
        set { json["immutable"] = newValue ? true : nil }
    }
}

/// A Namespace (`v1`, cluster-scoped).
public struct Namespace: KubeObject {
    public static let resource = ResourceType.namespaces
    public var json: JSON
    public init(json: JSON) { self.json = json }

    /// `status.phase`: `Active` or `Terminating`.
    public var phase: String? { json[path: "status", "phase"]?.stringValue }
}

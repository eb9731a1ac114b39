/// One change that may call for a restart: a key of the Secret or ConfigMap of a namespace.
public struct RestartItem: Sendable, Hashable {
    public var namespace: String
    public var object: ObjectReference
    public var key: String

    public init(namespace: String, object: ObjectReference, key: String) {
        self.namespace = namespace
        self.object = object
        self.key = key
    }
}

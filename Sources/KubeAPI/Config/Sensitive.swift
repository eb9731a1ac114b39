/// A credential held in memory (token, password, private key). Its description and mirror
/// never show the value, so printing or dumping a configuration cannot leak it.
public struct Sensitive<Value: Sendable & Equatable>: Sendable, Equatable, CustomStringConvertible,
    CustomDebugStringConvertible, CustomReflectable
{
    /// The value itself, for the code that must send it.
    public let value: Value

    public init(_ value: Value) { self.value = value }

    public var description: String { "<redacted>" }
    public var debugDescription: String { "<redacted>" }
    public var customMirror: Mirror { Mirror(self, children: []) }
}

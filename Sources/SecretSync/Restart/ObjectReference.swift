/// A Secret or ConfigMap in the namespace, as a Deployment names it in `beluga-ai.io/reload`.
public struct ObjectReference: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The kinds a Deployment can reload on.
    public enum Kind: String, Sendable, Hashable, Comparable, CaseIterable {
        case configMap = "ConfigMap"
        case secret = "Secret"

        public static func < (lhs: Kind, rhs: Kind) -> Bool { lhs.rawValue < rhs.rawValue }

        /// The lower-case word kubectl uses (`secret/NAME`, `configmap/NAME`).
        public var kubectlName: String { rawValue.lowercased() }
    }

    public var kind: Kind
    public var name: String

    public init(_ kind: Kind, _ name: String) {
        self.kind = kind
        self.name = name
    }

    public static func secret(_ name: String) -> ObjectReference { ObjectReference(.secret, name) }
    public static func configMap(_ name: String) -> ObjectReference { ObjectReference(.configMap, name) }

    /// Sorted by kind, then by the bytes of the name, as the content hash requires.
    public static func < (lhs: ObjectReference, rhs: ObjectReference) -> Bool {
        if lhs.kind != rhs.kind { return lhs.kind < rhs.kind }
        return Array(lhs.name.utf8).lexicographicallyPrecedes(Array(rhs.name.utf8))
    }

    /// `secret/beluga-ai-secrets`.
    public var description: String { "\(kind.kubectlName)/\(name)" }
}

import KubeAPI

/// The Deployment annotation `beluga-ai.io/reload` by which a Deployment opts in to restarts:
/// a comma-separated list of object names, each optionally qualified as `secret/NAME` or
/// `configmap/NAME` when a name alone would be ambiguous.
public struct ReloadAnnotation: Sendable, Equatable {
    /// The annotation's name.
    public static let name = "beluga-ai.io/reload"

    /// One entry of the list.
    public struct Entry: Sendable, Hashable {
        /// Set when the entry names its kind.
        public var kind: ObjectReference.Kind?
        public var name: String
    }

    public var entries: [Entry]

    /// Parses the annotation's value; blanks around entries and empty entries are ignored.
    public init(_ value: String) {
        entries = value.split(separator: ",").compactMap { raw in
            let text = raw.trimmingWhitespace()
            guard !text.isEmpty else { return nil }
            if let slash = text.firstIndex(of: "/") {
                let prefix = text[..<slash].lowercased()
                let name = String(text[text.index(after: slash)...])
                switch prefix {
                case "secret", "secrets": return Entry(kind: .secret, name: name)
                case "configmap", "configmaps", "cm": return Entry(kind: .configMap, name: name)
                default: return Entry(kind: nil, name: text)
                }
            }
            return Entry(kind: nil, name: text)
        }
    }

    /// The objects among `known` (the Secret and ConfigMap the agent manages) that this
    /// annotation names. An unqualified name matches every known object of that name.
    public func references(among known: Set<ObjectReference>) -> [ObjectReference] {
        var found: Set<ObjectReference> = []
        for entry in entries {
            for reference in known where reference.name == entry.name {
                if entry.kind == nil || entry.kind == reference.kind { found.insert(reference) }
            }
        }
        return found.sorted()
    }

    /// The entries that name none of `known`: objects the agent does not watch.
    public func unknownEntries(among known: Set<ObjectReference>) -> [Entry] {
        entries.filter { entry in
            !known.contains { $0.name == entry.name && (entry.kind == nil || entry.kind == $0.kind) }
        }
    }
}

extension ReloadAnnotation.Entry: CustomStringConvertible {
    public var description: String { kind.map { "\($0.kubectlName)/\(name)" } ?? name }
}

import JSONValue

/// One step of a field path in `managedFields` (`f:name`, `k:{"name":"web"}`, `v:"value"`).
enum PathElement: Hashable, Sendable, Comparable {
    case field(String)
    /// An element of a list that merges by key, identified by its key fields.
    case key(JSON)
    /// An element of a list of scalars that merges as a set.
    case value(JSON)

    /// The FieldsV1 spelling.
    var text: String {
        switch self {
        case .field(let name): "f:\(name)"
        case .key(let key): "k:\(key.jsonText)"
        case .value(let value): "v:\(value.jsonText)"
        }
    }

    init?(text: String) {
        if text.hasPrefix("f:") {
            self = .field(String(text.dropFirst(2)))
        } else if text.hasPrefix("k:"), let key = try? JSON(parsing: String(text.dropFirst(2))) {
            self = .key(key)
        } else if text.hasPrefix("v:"), let value = try? JSON(parsing: String(text.dropFirst(2))) {
            self = .value(value)
        } else {
            return nil
        }
    }

    static func < (lhs: PathElement, rhs: PathElement) -> Bool { lhs.text < rhs.text }
}

typealias FieldPath = [PathElement]

extension Array where Element == PathElement {
    /// `.spec.replicas`, `.spec.template.spec.containers[name="web"].image`, as conflict
    /// messages print paths.
    var dotted: String {
        map { element in
            switch element {
            case .field(let name): return ".\(name)"
            case .key(let key):
                let parts = (key.objectValue ?? [:]).sorted { $0.key < $1.key }.map {
                    "\($0.key)=\($0.value.jsonText)"
                }
                return "[\(parts.joined(separator: ","))]"
            case .value(let value): return "[=\(value.jsonText)]"
            }
        }.joined()
    }
}

/// The fields a manager owns, as a set of paths. Every path is a member; intermediate struct
/// fields are implied by their children, maps and keyed list elements are members themselves
/// (FieldsV1's `.`).
struct FieldSet: Equatable, Sendable {
    var paths: Set<FieldPath> = []

    var isEmpty: Bool { paths.isEmpty }

    static func - (lhs: FieldSet, rhs: FieldSet) -> FieldSet {
        FieldSet(paths: lhs.paths.subtracting(rhs.paths))
    }
    static func + (lhs: FieldSet, rhs: FieldSet) -> FieldSet { FieldSet(paths: lhs.paths.union(rhs.paths)) }
    func intersection(_ other: FieldSet) -> FieldSet { FieldSet(paths: paths.intersection(other.paths)) }

    // MARK: FieldsV1

    /// The FieldsV1 tree: `{"f:metadata":{"f:labels":{".":{},"f:app":{}}}}`.
    var fieldsV1: JSON {
        final class Node {
            var children: [PathElement: Node] = [:]
            var member = false
        }
        let root = Node()
        for path in paths {
            var node = root
            for element in path {
                if let next = node.children[element] {
                    node = next
                } else {
                    let next = Node()
                    node.children[element] = next
                    node = next
                }
            }
            node.member = true
        }
        func render(_ node: Node) -> JSON {
            var members: [String: JSON] = [:]
            if node.member && !node.children.isEmpty { members["."] = [:] }
            for (element, child) in node.children { members[element.text] = render(child) }
            return .object(members)
        }
        return render(root)
    }

    init(paths: Set<FieldPath> = []) { self.paths = paths }

    /// Reads a FieldsV1 tree.
    init(fieldsV1: JSON) {
        var paths: Set<FieldPath> = []
        func walk(_ node: JSON, _ prefix: FieldPath) {
            let members = node.objectValue ?? [:]
            if members.isEmpty || members["."] != nil, !prefix.isEmpty { paths.insert(prefix) }
            for (text, child) in members where text != "." {
                guard let element = PathElement(text: text) else { continue }
                walk(child, prefix + [element])
            }
        }
        walk(fieldsV1, [])
        self.paths = paths
    }

    // MARK: From objects

    /// Server-owned metadata that no manager owns.
    static let ignoredMetadata: Set<String> = [
        "name", "namespace", "uid", "resourceVersion", "generation", "creationTimestamp", "managedFields",
        "selfLink",
        "deletionTimestamp", "deletionGracePeriodSeconds",
    ]

    /// Maps whose entries are owned one by one (everything else that is an object is a struct).
    static let granularMaps: Set<String> = [
        "metadata.labels", "metadata.annotations", "data", "binaryData", "stringData",
        "spec.selector.matchLabels",
        "spec.template.metadata.labels", "spec.template.metadata.annotations",
        "spec.template.spec.nodeSelector",
        "spec.nodeSelector", "resources.limits", "resources.requests",
    ]

    static func isGranularMap(_ schemaPath: [String]) -> Bool {
        let joined = schemaPath.joined(separator: ".")
        return granularMaps.contains(joined) || granularMaps.contains { joined.hasSuffix("." + $0) }
            || (schemaPath.last == "matchLabels")
    }

    /// The fields an object sets, with the list rules of `schema`.
    static func of(_ object: JSON, schema: PatchSchema, ignoringStatus: Bool = false) -> FieldSet {
        var paths: Set<FieldPath> = []
        func walk(_ value: JSON, _ path: FieldPath, _ schemaPath: [String]) {
            switch value {
            case .object(let members):
                if members.isEmpty {
                    paths.insert(path)
                    return
                }
                if !path.isEmpty, isGranularMap(schemaPath) { paths.insert(path) }
                for (key, child) in members {
                    if path.isEmpty && (key == "apiVersion" || key == "kind") { continue }
                    if path.isEmpty && key == "status" && ignoringStatus { continue }
                    if path == [.field("metadata")] && ignoredMetadata.contains(key) { continue }
                    if child.isNull { continue }
                    walkField(child, path + [.field(key)], schemaPath + [key])
                }
            default:
                paths.insert(path)
            }
        }
        func walkField(_ value: JSON, _ path: FieldPath, _ schemaPath: [String]) {
            guard case .array(let elements) = value else {
                walk(value, path, schemaPath)
                return
            }
            switch schema.listMerge(schemaPath) {
            case .byKey(let key)?:
                for element in elements {
                    guard let keyValue = element[key] else { continue }
                    let elementPath = path + [.key([key: keyValue])]
                    paths.insert(elementPath)
                    walk(element, elementPath, schemaPath)
                }
            case .primitiveSet?:
                for element in elements { paths.insert(path + [.value(element)]) }
            case nil:
                paths.insert(path)
            }
        }
        walk(object, [], [])
        return FieldSet(paths: paths)
    }

    /// The value at a path (nil when absent).
    static func value(at path: FieldPath, in object: JSON) -> JSON? {
        var current: JSON? = object
        for element in path {
            guard let node = current else { return nil }
            switch element {
            case .field(let name):
                current = node[name]
            case .key(let key):
                current = node.arrayValue?.first { element in
                    (key.objectValue ?? [:]).allSatisfy { element[$0.key] == $0.value }
                }
            case .value(let value):
                current = (node.arrayValue ?? []).contains(value) ? value : nil
            }
        }
        return current
    }

    /// Removes the value at a path; returns the object unchanged when it is absent.
    static func removing(_ path: FieldPath, from object: JSON) -> JSON {
        guard let first = path.first else { return object }
        let rest = Array(path.dropFirst())
        switch (first, object) {
        case (.field(let name), .object(var members)):
            guard let child = members[name] else { return object }
            if rest.isEmpty {
                members[name] = nil
            } else {
                members[name] = removing(rest, from: child)
            }
            return .object(members)
        case (.key(let key), .array(var elements)):
            guard
                let index = elements.firstIndex(where: { element in
                    (key.objectValue ?? [:]).allSatisfy { element[$0.key] == $0.value }
                })
            else { return object }
            if rest.isEmpty {
                elements.remove(at: index)
            } else {
                elements[index] = removing(rest, from: elements[index])
            }
            return .array(elements)
        case (.value(let value), .array(let elements)):
            return .array(elements.filter { $0 != value })
        default:
            return object
        }
    }
}

import JSONValue
import Yams

/// YAML documents as `JSON` values, the way the API server reads `application/yaml` bodies
/// (YAML is converted to JSON, then decoded).
enum YAMLConversion {
    static func json(fromYAML text: String) throws -> JSON? {
        guard let node = try Yams.compose(yaml: text) else { return nil }
        return json(node)
    }

    static func json(_ node: Node) -> JSON {
        switch node {
        case .scalar(let scalar):
            switch node.tag.description {
            case Tag.Name.null.rawValue: return .null
            case Tag.Name.bool.rawValue: return node.bool.map(JSON.bool) ?? .string(scalar.string)
            case Tag.Name.int.rawValue: return node.int.map(JSON.int) ?? .string(scalar.string)
            case Tag.Name.float.rawValue: return node.float.map(JSON.double) ?? .string(scalar.string)
            default: return .string(scalar.string)
            }
        case .mapping(let mapping):
            var members: [String: JSON] = [:]
            for (key, value) in mapping {
                members[key.string ?? ""] = json(value)
            }
            return .object(members)
        case .sequence(let sequence):
            return .array(sequence.map(json))
        case .alias:
            return .null
        }
    }

    /// YAML text for a JSON value (for `Accept: application/yaml`).
    static func yaml(_ value: JSON) -> String {
        (try? Yams.serialize(node: node(value))) ?? value.jsonText
    }

    private static func node(_ value: JSON) -> Node {
        switch value {
        case .null: return Node("null", Tag(.null))
        case .bool(let bool): return Node(bool ? "true" : "false", Tag(.bool))
        case .int(let int): return Node(String(int), Tag(.int))
        case .double(let double): return Node(JSON.double(double).jsonText, Tag(.float))
        case .string(let string):
            // Quote strings that would read back as another type.
            let plain = Node(string)
            let style: Node.Scalar.Style =
                (try? Yams.compose(yaml: string)).flatMap { $0 }.map {
                    $0.tag.description == Tag.Name.str.rawValue
                } == true
                ? .any : .doubleQuoted
            return Node(string, Tag(.str), style == .any ? (plain.scalar?.style ?? .any) : .doubleQuoted)
        case .array(let elements): return Node(elements.map(node))
        case .object(let members):
            return Node(members.keys.sorted().map { (Node($0), node(members[$0] ?? .null)) })
        }
    }
}

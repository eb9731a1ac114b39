import JSONValue
import Yams

/// Reads YAML (kubeconfig files) into `JSON`, keeping every scalar as its text so that a
/// token like `0123` is not turned into a number; only `null`/`~`/empty stay null.
enum YAMLDocument {
    /// Why a YAML text could not be read: the position and libyaml's problem, never the text
    /// around it (it could hold a token).
    struct ParseError: Error, Sendable {
        var line: Int?
        var column: Int?
        var problem: String

        var location: String {
            guard let line else { return "" }
            return column.map { "line \(line), column \($0)" } ?? "line \(line)"
        }
    }

    static func parse(_ text: String) throws(ParseError) -> JSON {
        let node: Node?
        do {
            node = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw describe(error)
        } catch {
            throw ParseError(line: nil, column: nil, problem: "not YAML")
        }
        guard let node else { return .null }
        return convert(node)
    }

    private static func describe(_ error: YamlError) -> ParseError {
        switch error {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            let text = [context?.text, problem].compactMap { $0 }.filter { !$0.isEmpty }.joined(
                separator: ": ")
            return ParseError(line: mark.line, column: mark.column, problem: text)
        case .reader(let problem, let offset, _, _):
            return ParseError(
                line: nil, column: nil, problem: problem + (offset.map { " at byte \($0)" } ?? ""))
        case .duplicatedKeysInMapping(let duplicates, let context):
            return ParseError(
                line: context.mark.line, column: context.mark.column,
                problem: "duplicate keys \(duplicates.joined(separator: ", "))")
        default:
            return ParseError(line: nil, column: nil, problem: "not valid YAML")
        }
    }

    private static func convert(_ node: Node) -> JSON {
        switch node {
        case .scalar(let scalar):
            if scalar.style == .plain || scalar.style == .any, node.tag.rawValue == Tag.Name.null.rawValue {
                return .null
            }
            return .string(scalar.string)
        case .mapping(let mapping):
            var members: [String: JSON] = [:]
            for (key, value) in mapping {
                guard case .scalar(let keyScalar) = key else { continue }
                members[keyScalar.string] = convert(value)
            }
            return .object(members)
        case .sequence(let sequence):
            return .array(sequence.map(convert))
        case .alias:
            return .null
        }
    }
}

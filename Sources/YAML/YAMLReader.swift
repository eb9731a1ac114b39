import CLibYAML
import JSONValue

/// Reads the first document of a YAML text into `JSON`, as kubectl reads a kubeconfig
/// (go-yaml v2, then sigs.k8s.io/yaml's conversion to JSON):
///
/// - plain scalars resolve by YAML 1.1 (`PlainScalar`): `yes` is `true`, `0123` is 83, `~` is
///   null; quoted and block scalars (`|`, `>`) are strings;
/// - tags `!!str`, `!!int`, `!!float`, `!!bool`, `!!binary` convert or are refused when the
///   value does not fit; other tags leave the text a string;
/// - anchors and aliases are expanded, and merge keys (`<<: *base`) merged, explicit keys
///   winning;
/// - mapping keys become strings (`yes:` becomes `"true"`, `1:` `"1"`); a null or non-scalar key
///   is refused;
/// - NaN and the infinities are refused (JSON has no such numbers).
///
/// Unlike kubectl, a key given twice in one mapping is refused rather than the last one
/// silently kept: in a kubeconfig that is a mistake that would pick a server or a token.
/// Nesting is limited to `maximumDepth` levels and alias expansion to `maximumNodes` values, so a
/// small hostile text cannot take unbounded time or memory.
public enum YAMLReader {
    public static let maximumDepth = 1000
    public static let maximumNodes = 1_000_000

    /// The first document of `text`, or `.null` when there is none (an empty text).
    public static func read(_ text: String) throws(YAMLError) -> JSON {
        var text = text
        let result = text.withUTF8 { bytes -> Result<JSON, YAMLError> in
            var builder = DocumentBuilder()
            do throws(YAMLError) {
                try EventStream.parse(bytes) { (event) throws(YAMLError) -> Bool in try builder.handle(event)
                }
            } catch {
                return .failure(error)
            }
            return .success(builder.root ?? .null)
        }
        return try result.get()
    }
}

/// One parser event, copied out of libyaml's structure.
enum Event {
    case documentEnd
    case scalar(Scalar)
    case alias(anchor: String, mark: Mark)
    case sequenceStart(anchor: String?, mark: Mark)
    case mappingStart(anchor: String?, mark: Mark)
    case collectionEnd
    case other

    struct Scalar {
        var value: String
        var anchor: String?
        var tag: String?
        /// Untagged and plain: resolved by `PlainScalar`.
        var plainImplicit: Bool
        var mark: Mark
    }

    struct Mark {
        var line: Int
        var column: Int
    }
}

/// Runs libyaml's parser over a buffer, handing each event to a closure until it returns
/// `false` or the stream ends.
enum EventStream {
    static func parse(
        _ bytes: UnsafeBufferPointer<UInt8>, _ body: (Event) throws(YAMLError) -> Bool
    ) throws(YAMLError) {
        let parser = UnsafeMutablePointer<yaml_parser_t>.allocate(capacity: 1)
        defer { parser.deallocate() }
        guard yaml_parser_initialize(parser) != 0 else { throw YAMLError(problem: "out of memory") }
        defer { yaml_parser_delete(parser) }
        // libyaml reads `size` bytes from the pointer; an empty buffer may have none.
        let empty: [UInt8] = [0]
        try empty.withUnsafeBufferPointer { (placeholder) throws(YAMLError) in
            let input = bytes.count > 0 ? bytes : placeholder
            yaml_parser_set_input_string(parser, input.baseAddress, bytes.count)
            var event = yaml_event_t()
            while true {
                guard yaml_parser_parse(parser, &event) != 0 else { throw error(of: parser) }
                let type = event.type
                let copied = copy(event)
                yaml_event_delete(&event)
                if type == YAML_STREAM_END_EVENT { return }
                guard try body(copied) else { return }
            }
        }
    }

    private static func copy(_ event: yaml_event_t) -> Event {
        let mark = Event.Mark(line: Int(event.start_mark.line) + 1, column: Int(event.start_mark.column) + 1)
        switch event.type {
        case YAML_DOCUMENT_END_EVENT: return .documentEnd
        case YAML_SCALAR_EVENT:
            let scalar = event.data.scalar
            let value = scalar.value.map {
                String(decoding: UnsafeBufferPointer(start: $0, count: scalar.length), as: UTF8.self)
            }
            return .scalar(
                Event.Scalar(
                    value: value ?? "", anchor: string(scalar.anchor), tag: string(scalar.tag),
                    plainImplicit: scalar.plain_implicit != 0, mark: mark))
        case YAML_ALIAS_EVENT:
            return .alias(anchor: string(event.data.alias.anchor) ?? "", mark: mark)
        case YAML_SEQUENCE_START_EVENT:
            return .sequenceStart(anchor: string(event.data.sequence_start.anchor), mark: mark)
        case YAML_MAPPING_START_EVENT:
            return .mappingStart(anchor: string(event.data.mapping_start.anchor), mark: mark)
        case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT: return .collectionEnd
        default: return .other
        }
    }

    private static func string(_ pointer: UnsafeMutablePointer<yaml_char_t>?) -> String? {
        pointer.map { String(cString: $0) }
    }

    private static func error(of parser: UnsafeMutablePointer<yaml_parser_t>) -> YAMLError {
        let state = parser.pointee
        let problem = state.problem.map { String(cString: $0) } ?? "not valid YAML"
        if state.error == YAML_READER_ERROR {
            return YAMLError(problem: "\(problem) at byte \(state.problem_offset)")
        }
        let context = state.context.map { String(cString: $0) }
        let text = [context, problem].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: ": ")
        return YAMLError(
            line: Int(state.problem_mark.line) + 1, column: Int(state.problem_mark.column) + 1, problem: text)
    }
}

/// A mapping key: a name, or the merge key `<<`.
enum DocumentBuilderKey {
    case name(String, Event.Mark)
    case merge(Event.Mark)
}

/// Builds the JSON value of the first document from parser events, with an explicit stack (no
/// recursion, so depth is bounded by `maximumDepth`, not by the thread's stack).
struct DocumentBuilder {
    private(set) var root: JSON?
    private var stack: [Collection] = []
    private var anchors: [String: (value: JSON, nodes: Int)] = [:]
    private var nodes = 0

    private struct Collection {
        var anchor: String?
        var mark: Event.Mark
        var nodes = 1
        var kind: Kind

        enum Kind {
            case sequence([JSON])
            case mapping(Mapping)
        }
    }

    private struct Mapping {
        var members: [String: JSON] = [:]
        /// The key read, waiting for its value; `nil` while a key is expected.
        var key: DocumentBuilderKey?
        /// Values of `<<` keys, in order (earlier ones win).
        var merges: [(JSON, Event.Mark)] = []
    }

    /// Takes one event; `false` once the first document is complete.
    mutating func handle(_ event: Event) throws(YAMLError) -> Bool {
        switch event {
        case .documentEnd:
            return false
        case .scalar(let scalar):
            if expectsKey {
                try setKey(
                    ScalarValue.key(scalar), anchor: scalar.anchor, value: .string(""), mark: scalar.mark)
            } else {
                let value = try ScalarValue.value(scalar)
                try complete(value, nodes: 1, anchor: scalar.anchor, mark: scalar.mark)
            }
        case .alias(let anchor, let mark):
            guard let target = anchors[anchor] else {
                throw YAMLError(line: mark.line, column: mark.column, problem: "unknown anchor \"\(anchor)\"")
            }
            if expectsKey {
                guard let name = ScalarValue.keyName(of: target.value) else {
                    throw YAMLError(
                        line: mark.line, column: mark.column,
                        problem: "a mapping key must be a string, number or boolean")
                }
                try setKey(.name(name, mark), anchor: nil, value: target.value, mark: mark)
            } else {
                try complete(target.value, nodes: target.nodes, anchor: nil, mark: mark)
            }
        case .sequenceStart(let anchor, let mark), .mappingStart(let anchor, let mark):
            if expectsKey {
                throw YAMLError(
                    line: mark.line, column: mark.column,
                    problem: "a mapping key must be a string, number or boolean")
            }
            guard stack.count < YAMLReader.maximumDepth else {
                throw YAMLError(
                    line: mark.line, column: mark.column,
                    problem: "nested deeper than \(YAMLReader.maximumDepth) levels")
            }
            if case .sequenceStart = event {
                stack.append(Collection(anchor: anchor, mark: mark, kind: .sequence([])))
            } else {
                stack.append(Collection(anchor: anchor, mark: mark, kind: .mapping(Mapping())))
            }
        case .collectionEnd:
            guard let collection = stack.popLast() else { return true }
            let value: JSON
            switch collection.kind {
            case .sequence(let items): value = .array(items)
            case .mapping(let mapping): value = try merged(mapping)
            }
            try complete(
                value, nodes: collection.nodes, anchor: collection.anchor, mark: collection.mark,
                counted: true)
        case .other:
            break
        }
        return true
    }

    private var expectsKey: Bool {
        guard case .mapping(let mapping) = stack.last?.kind else { return false }
        return mapping.key == nil
    }

    /// Records a key; a scalar key's anchor refers to the key's own value.
    private mutating func setKey(
        _ key: DocumentBuilderKey, anchor: String?, value: JSON, mark: Event.Mark
    ) throws(YAMLError) {
        guard let top = stack.indices.last, case .mapping(var mapping) = stack[top].kind else { return }
        if let anchor {
            if case .name(let name, _) = key { anchors[anchor] = (.string(name), 1) }
        }
        mapping.key = key
        stack[top].kind = .mapping(mapping)
        try count(1, mark: mark)
        stack[top].nodes += 1
    }

    /// Places a finished value in its parent, or makes it the document.
    private mutating func complete(
        _ value: JSON, nodes added: Int, anchor: String?, mark: Event.Mark, counted: Bool = false
    ) throws(YAMLError) {
        if !counted { try count(added, mark: mark) }
        if let anchor { anchors[anchor] = (value, added) }
        guard let top = stack.indices.last else {
            root = value
            return
        }
        stack[top].nodes += added
        switch stack[top].kind {
        case .sequence(var items):
            stack[top].kind = .sequence([])  // keeps `items` uniquely referenced
            items.append(value)
            stack[top].kind = .sequence(items)
        case .mapping(var mapping):
            stack[top].kind = .mapping(Mapping())
            switch mapping.key {
            case .name(let name, let keyMark):
                guard mapping.members[name] == nil else {
                    throw YAMLError(
                        line: keyMark.line, column: keyMark.column,
                        problem: "the key \"\(Self.printable(name))\" is given twice in one mapping")
                }
                mapping.members[name] = value
            case .merge(let keyMark):
                mapping.merges.append((value, keyMark))
            case nil:
                break
            }
            mapping.key = nil
            stack[top].kind = .mapping(mapping)
        }
    }

    private mutating func count(_ added: Int, mark: Event.Mark) throws(YAMLError) {
        nodes += added
        guard nodes <= YAMLReader.maximumNodes else {
            throw YAMLError(
                line: mark.line, column: mark.column,
                problem: "more than \(YAMLReader.maximumNodes) values once aliases are expanded")
        }
    }

    /// The mapping with its `<<` merges: explicit keys win, then earlier merged mappings.
    private func merged(_ mapping: Mapping) throws(YAMLError) -> JSON {
        var members = mapping.members
        for (value, mark) in mapping.merges {
            let sources: [JSON]
            switch value {
            case .object: sources = [value]
            case .array(let items) where items.allSatisfy({ $0.objectValue != nil }): sources = items
            default:
                throw YAMLError(
                    line: mark.line, column: mark.column,
                    problem: "a merge key (<<) takes a mapping or a list of mappings")
            }
            for source in sources {
                for (key, member) in source.objectValue ?? [:] where members[key] == nil {
                    members[key] = member
                }
            }
        }
        return .object(members)
    }

    /// A key for a message: short, and only printable ASCII (a key could be anything).
    static func printable(_ key: String) -> String {
        let shown = key.unicodeScalars.prefix(64).map { scalar in
            (0x20..<0x7F).contains(scalar.value) && scalar != "\"" ? Character(scalar) : "?"
        }
        return String(shown) + (key.unicodeScalars.count > 64 ? "…" : "")
    }
}

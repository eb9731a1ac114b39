import JSONValue

/// A parsed `labelSelector` (apimachinery `labels.Parse` syntax): `a=b`, `a==b`, `a!=b`,
/// `a in (x,y)`, `a notin (x)`, `a`, `!a`, `a>1`, `a<1`, joined by commas.
struct LabelSelector: Sendable, Equatable {
    enum Operator: Sendable, Equatable {
        case equals, notEquals, inSet, notInSet, exists, doesNotExist, greaterThan, lessThan
    }

    struct Requirement: Sendable, Equatable {
        var key: String
        var op: Operator
        var values: [String]

        func matches(_ labels: [String: String]) -> Bool {
            let value = labels[key]
            switch op {
            case .equals, .inSet: return value.map { values.contains($0) } ?? false
            case .notEquals, .notInSet: return value.map { !values.contains($0) } ?? true
            case .exists: return value != nil
            case .doesNotExist: return value == nil
            case .greaterThan, .lessThan:
                guard let value, let actual = Int(value), let bound = values.first.flatMap({ Int($0) }) else {
                    return false
                }
                return op == .greaterThan ? actual > bound : actual < bound
            }
        }
    }

    var requirements: [Requirement]

    static let everything = LabelSelector(requirements: [])

    var isEverything: Bool { requirements.isEmpty }

    func matches(_ labels: [String: String]) -> Bool { requirements.allSatisfy { $0.matches(labels) } }

    func matches(object: JSON) -> Bool { isEverything || matches(object.labels) }

    /// Parses the selector; the error text follows apimachinery's.
    init(parsing text: String) throws(APIError) {
        var parser = SelectorScanner(text)
        var requirements: [Requirement] = []
        parser.skipSpaces()
        if parser.atEnd {
            self.requirements = []
            return
        }
        while true {
            parser.skipSpaces()
            var negated = false
            if parser.peek == "!" {
                parser.advance()
                negated = true
                parser.skipSpaces()
            }
            let key = parser.readWord()
            guard !key.isEmpty else {
                throw APIError.badRequest(
                    "unable to parse requirement: found '\(parser.peekText)', expected: identifier")
            }
            if let problem = Validation.qualifiedNameProblems(key).first {
                throw APIError.badRequest(
                    "unable to parse requirement: values[0][\(key)]: Invalid value: \(goQuote(key)): \(problem)"
                )
            }
            parser.skipSpaces()
            if negated {
                requirements.append(Requirement(key: key, op: .doesNotExist, values: []))
            } else if parser.atEnd || parser.peek == "," {
                requirements.append(Requirement(key: key, op: .exists, values: []))
            } else if parser.consume("==") || parser.consume("=") {
                requirements.append(Requirement(key: key, op: .equals, values: [try parser.readValue()]))
            } else if parser.consume("!=") {
                requirements.append(Requirement(key: key, op: .notEquals, values: [try parser.readValue()]))
            } else if parser.consume(">") {
                requirements.append(Requirement(key: key, op: .greaterThan, values: [try parser.readValue()]))
            } else if parser.consume("<") {
                requirements.append(Requirement(key: key, op: .lessThan, values: [try parser.readValue()]))
            } else if parser.consumeKeyword("notin") {
                requirements.append(Requirement(key: key, op: .notInSet, values: try parser.readSet()))
            } else if parser.consumeKeyword("in") {
                requirements.append(Requirement(key: key, op: .inSet, values: try parser.readSet()))
            } else {
                throw APIError.badRequest(
                    "unable to parse requirement: found '\(parser.peekText)', expected: in, notin, =, ==, !=, gt, lt"
                )
            }
            parser.skipSpaces()
            if parser.atEnd { break }
            guard parser.consume(",") else {
                throw APIError.badRequest("found '\(parser.peekText)', expected: ',' or 'end of string'")
            }
        }
        self.requirements = requirements
    }

    init(requirements: [Requirement]) { self.requirements = requirements }

    /// A `LabelSelector` object (`matchLabels`, `matchExpressions`) as workloads carry it.
    init(object: JSON) {
        var requirements: [Requirement] = []
        for (key, value) in object["matchLabels"]?.objectValue ?? [:] {
            requirements.append(Requirement(key: key, op: .equals, values: [value.stringValue ?? ""]))
        }
        for expression in object["matchExpressions"]?.arrayValue ?? [] {
            let key = expression["key"]?.stringValue ?? ""
            let values = (expression["values"]?.arrayValue ?? []).compactMap(\.stringValue)
            switch expression["operator"]?.stringValue ?? "" {
            case "In": requirements.append(Requirement(key: key, op: .inSet, values: values))
            case "NotIn": requirements.append(Requirement(key: key, op: .notInSet, values: values))
            case "Exists": requirements.append(Requirement(key: key, op: .exists, values: []))
            case "DoesNotExist": requirements.append(Requirement(key: key, op: .doesNotExist, values: []))
            default: break
            }
        }
        self.requirements = requirements.sorted { $0.key < $1.key }
    }

    /// The selector as text (`app=web,tier in (a,b)`), as `Scale.status.selector` carries it.
    var text: String {
        requirements.map { requirement in
            switch requirement.op {
            case .equals: "\(requirement.key)=\(requirement.values.first ?? "")"
            case .notEquals: "\(requirement.key)!=\(requirement.values.first ?? "")"
            case .inSet: "\(requirement.key) in (\(requirement.values.sorted().joined(separator: ",")))"
            case .notInSet: "\(requirement.key) notin (\(requirement.values.sorted().joined(separator: ",")))"
            case .exists: requirement.key
            case .doesNotExist: "!\(requirement.key)"
            case .greaterThan: "\(requirement.key)>\(requirement.values.first ?? "")"
            case .lessThan: "\(requirement.key)<\(requirement.values.first ?? "")"
            }
        }.joined(separator: ",")
    }
}

/// A parsed `fieldSelector`: `field=value`, `field==value`, `field!=value`, joined by commas;
/// `\,`, `\=` and `\\` escape those characters in values.
struct FieldSelector: Sendable, Equatable {
    struct Term: Sendable, Equatable {
        var field: String
        var value: String
        var equal: Bool
    }

    var terms: [Term]

    static let everything = FieldSelector(terms: [])

    var isEverything: Bool { terms.isEmpty }

    init(terms: [Term]) { self.terms = terms }

    init(parsing text: String) throws(APIError) {
        var terms: [Term] = []
        for part in FieldSelector.splitUnescaped(text, on: ",") where !part.isEmpty {
            if let range = FieldSelector.firstUnescaped(part, of: "!=") {
                terms.append(
                    Term(
                        field: String(part[..<range.lowerBound]),
                        value: FieldSelector.unescape(String(part[range.upperBound...])), equal: false))
            } else if let range = FieldSelector.firstUnescaped(part, of: "==") {
                terms.append(
                    Term(
                        field: String(part[..<range.lowerBound]),
                        value: FieldSelector.unescape(String(part[range.upperBound...])), equal: true))
            } else if let range = FieldSelector.firstUnescaped(part, of: "=") {
                terms.append(
                    Term(
                        field: String(part[..<range.lowerBound]),
                        value: FieldSelector.unescape(String(part[range.upperBound...])), equal: true))
            } else {
                throw APIError.badRequest("invalid selector: '\(text)'; can't understand '\(part)'")
            }
        }
        self.terms = terms
    }

    /// The name this selector pins (`metadata.name=<name>`), which RBAC resourceNames can match.
    var pinnedName: String? {
        let names = terms.filter { $0.field == "metadata.name" && $0.equal }
        return names.count == 1 ? names[0].value : nil
    }

    func matches(_ fields: (String) -> String) -> Bool {
        terms.allSatisfy { term in (fields(term.field) == term.value) == term.equal }
    }

    private static func splitUnescaped(_ text: String, on separator: Character) -> [String] {
        var parts: [String] = []
        var current = ""
        var escaped = false
        for character in text {
            if escaped {
                current.append(character)
                escaped = false
            } else if character == "\\" {
                current.append(character)
                escaped = true
            } else if character == separator {
                parts.append(current)
                current = ""
            } else {
                current.append(character)
            }
        }
        parts.append(current)
        return parts
    }

    private static func firstUnescaped(_ text: String, of token: String) -> Range<String.Index>? {
        var index = text.startIndex
        while index < text.endIndex {
            if text[index] == "\\" {
                index = text.index(after: index)
                if index < text.endIndex { index = text.index(after: index) }
                continue
            }
            if text[index...].hasPrefix(token) {
                return index..<text.index(index, offsetBy: token.count)
            }
            index = text.index(after: index)
        }
        return nil
    }

    private static func unescape(_ text: String) -> String {
        var out = ""
        var escaped = false
        for character in text {
            if escaped {
                out.append(character)
                escaped = false
            } else if character == "\\" {
                escaped = true
            } else {
                out.append(character)
            }
        }
        return out
    }
}

/// A tiny scanner for label selector text.
private struct SelectorScanner {
    let characters: [Character]
    var index = 0

    init(_ text: String) { characters = Array(text) }

    var atEnd: Bool { index >= characters.count }
    var peek: Character? { atEnd ? nil : characters[index] }
    var peekText: String { atEnd ? "" : String(characters[index...].prefix(8)) }

    mutating func advance() { index += 1 }

    mutating func skipSpaces() {
        while let character = peek, character == " " || character == "\t" { index += 1 }
    }

    mutating func consume(_ token: String) -> Bool {
        let tokenCharacters = Array(token)
        guard index + tokenCharacters.count <= characters.count,
            Array(characters[index..<(index + tokenCharacters.count)]) == tokenCharacters
        else { return false }
        index += tokenCharacters.count
        return true
    }

    mutating func consumeKeyword(_ keyword: String) -> Bool {
        let start = index
        guard consume(keyword) else { return false }
        if let next = peek, next != " " && next != "(" {
            index = start
            return false
        }
        return true
    }

    static func isWordCharacter(_ character: Character) -> Bool {
        !(character == " " || character == "\t" || character == "," || character == "=" || character == "!"
            || character == "(" || character == ")" || character == "<" || character == ">")
    }

    mutating func readWord() -> String {
        var word = ""
        while let character = peek, SelectorScanner.isWordCharacter(character) {
            word.append(character)
            index += 1
        }
        return word
    }

    mutating func readValue() throws(APIError) -> String {
        skipSpaces()
        let value = readWord()
        if let problem = Validation.labelValueProblems(value).first {
            throw APIError.badRequest(
                "unable to parse requirement: values[0]: Invalid value: \(goQuote(value)): \(problem)")
        }
        return value
    }

    mutating func readSet() throws(APIError) -> [String] {
        skipSpaces()
        guard consume("(") else { throw APIError.badRequest("found '\(peekText)', expected: '('") }
        var values: [String] = []
        while true {
            skipSpaces()
            if consume(")") { break }
            values.append(try readValue())
            skipSpaces()
            if consume(")") { break }
            guard consume(",") else { throw APIError.badRequest("found '\(peekText)', expected: ',' or ')'") }
        }
        return values
    }
}

extension JSON {
    /// `metadata.labels` as a string dictionary.
    var labels: [String: String] {
        var labels: [String: String] = [:]
        for (key, value) in self[path: "metadata", "labels"]?.objectValue ?? [:] {
            labels[key] = value.stringValue ?? ""
        }
        return labels
    }
}

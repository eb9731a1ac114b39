import JSONValue

/// JSON patch (RFC 6902, `application/json-patch+json`): add, remove, replace, move, copy, test.
enum JSONPatch {
    /// Why a patch could not be applied; the server answers 422 with this text as the cause.
    struct Failure: Error, Sendable {
        var message: String
    }

    static func apply(_ patch: JSON, to document: JSON) throws(Failure) -> JSON {
        guard let operations = patch.arrayValue else {
            throw Failure(message: "json: cannot unmarshal object into Go value of type jsonpatch.Patch")
        }
        var document = document
        for operation in operations {
            guard let op = operation["op"]?.stringValue else {
                throw Failure(message: "Unexpected kind: unknown")
            }
            guard let path = operation["path"]?.stringValue else {
                throw Failure(message: "\(op) operation failed to decode path")
            }
            switch op {
            case "add":
                guard let value = operation["value"] else {
                    throw Failure(message: "add operation must have a value")
                }
                document = try add(value, at: path, in: document)
            case "remove":
                document = try remove(at: path, in: document, op: "remove").0
            case "replace":
                guard let value = operation["value"] else {
                    throw Failure(message: "replace operation must have a value")
                }
                _ = try get(path, in: document, op: "replace")
                document = try set(value, at: path, in: document, op: "replace")
            case "move":
                guard let from = operation["from"]?.stringValue else {
                    throw Failure(message: "move operation failed to decode from")
                }
                let (removed, value) = try remove(at: from, in: document, op: "move")
                document = try add(value, at: path, in: removed)
            case "copy":
                guard let from = operation["from"]?.stringValue else {
                    throw Failure(message: "copy operation failed to decode from")
                }
                let value = try get(from, in: document, op: "copy")
                document = try add(value, at: path, in: document)
            case "test":
                let expected = operation["value"] ?? .null
                let actual = try? get(path, in: document, op: "test")
                if (actual ?? .null) != expected {
                    throw Failure(message: "testing value \(path) failed: test failed")
                }
            default:
                throw Failure(message: "Unexpected kind: \(op)")
            }
        }
        return document
    }

    /// `/a/b~1c/0` → ["a", "b/c", "0"].
    static func tokens(_ pointer: String) throws(Failure) -> [String] {
        if pointer.isEmpty { return [] }
        guard pointer.hasPrefix("/") else {
            throw Failure(message: "invalid JSON pointer \(goQuote(pointer))")
        }
        return pointer.dropFirst().split(separator: "/", omittingEmptySubsequences: false).map {
            $0.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
        }
    }

    static func get(_ pointer: String, in document: JSON, op: String) throws(Failure) -> JSON {
        var current = document
        for token in try tokens(pointer) {
            switch current {
            case .object(let members):
                guard let next = members[token] else { throw missing(op, pointer) }
                current = next
            case .array(let elements):
                guard let index = Int(token), elements.indices.contains(index) else {
                    throw missing(op, pointer)
                }
                current = elements[index]
            default:
                throw missing(op, pointer)
            }
        }
        return current
    }

    static func missing(_ op: String, _ pointer: String) -> Failure {
        Failure(
            message: "\(op) operation does not apply: doc is missing path: \(goQuote(pointer)): missing value"
        )
    }

    /// Replaces the value at `pointer` (which must exist for arrays).
    static func set(_ value: JSON, at pointer: String, in document: JSON, op: String) throws(Failure) -> JSON
    {
        try modify(document, tokens: try tokens(pointer)[...], pointer: pointer, op: op) {
            container, last throws(Failure) in
            switch container {
            case .object(var members):
                members[last] = value
                return .object(members)
            case .array(var elements):
                guard let index = Int(last), elements.indices.contains(index) else {
                    throw missing(op, pointer)
                }
                elements[index] = value
                return .array(elements)
            default:
                throw missing(op, pointer)
            }
        }
    }

    static func add(_ value: JSON, at pointer: String, in document: JSON) throws(Failure) -> JSON {
        let path = try tokens(pointer)
        if path.isEmpty { return value }
        return try modify(document, tokens: path[...], pointer: pointer, op: "add") {
            container, last throws(Failure) in
            switch container {
            case .object(var members):
                members[last] = value
                return .object(members)
            case .array(var elements):
                if last == "-" {
                    elements.append(value)
                } else {
                    guard let index = Int(last), index >= 0, index <= elements.count else {
                        throw Failure(
                            message:
                                "add operation does not apply: doc is missing path: \(goQuote(pointer)): missing value"
                        )
                    }
                    elements.insert(value, at: index)
                }
                return .array(elements)
            default:
                throw missing("add", pointer)
            }
        }
    }

    static func remove(at pointer: String, in document: JSON, op: String) throws(Failure) -> (JSON, JSON) {
        let value = try get(pointer, in: document, op: op)
        let result = try modify(document, tokens: try tokens(pointer)[...], pointer: pointer, op: op) {
            container, last throws(Failure) in
            switch container {
            case .object(var members):
                members[last] = nil
                return .object(members)
            case .array(var elements):
                guard let index = Int(last), elements.indices.contains(index) else {
                    throw missing(op, pointer)
                }
                elements.remove(at: index)
                return .array(elements)
            default:
                throw missing(op, pointer)
            }
        }
        return (result, value)
    }

    /// Walks to the parent of the last token and lets `change` rewrite it.
    static func modify(
        _ document: JSON, tokens: ArraySlice<String>, pointer: String, op: String,
        _ change: (JSON, String) throws(Failure) -> JSON
    ) throws(Failure) -> JSON {
        guard let first = tokens.first else { throw missing(op, pointer) }
        if tokens.count == 1 { return try change(document, first) }
        switch document {
        case .object(var members):
            guard let child = members[first] else { throw missing(op, pointer) }
            members[first] = try modify(child, tokens: tokens.dropFirst(), pointer: pointer, op: op, change)
            return .object(members)
        case .array(var elements):
            guard let index = Int(first), elements.indices.contains(index) else { throw missing(op, pointer) }
            elements[index] = try modify(
                elements[index], tokens: tokens.dropFirst(), pointer: pointer, op: op, change)
            return .array(elements)
        default:
            throw missing(op, pointer)
        }
    }
}

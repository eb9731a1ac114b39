import JSONValue
import Synchronization

/// What a write does with fields its kind does not have (`fieldValidation`).
public enum FieldValidation: String, Sendable, CaseIterable {
    /// Refused: 400 `strict decoding error: unknown field "spec.foo"`.
    case strict = "Strict"
    /// Dropped, with a `Warning` header naming each (the real server's default).
    case warn = "Warn"
    /// Dropped silently.
    case ignore = "Ignore"
}

/// The warnings one request collects, sent back as `Warning: 299 - "..."` headers.
final class Warnings: Sendable {
    private let messages = Mutex<[String]>([])

    func add(_ message: String) {
        messages.withLock { if !$0.contains(message) { $0.append(message) } }
    }

    var all: [String] { messages.withLock { $0 } }

    /// The header values, quoted as RFC 7234 warn-text.
    var headerValues: [String] {
        all.map { message in
            var quoted = "299 - \""
            for character in message {
                if character == "\\" || character == "\"" { quoted.append("\\") }
                quoted.append(character)
            }
            return quoted + "\""
        }
    }
}

extension ClusterStore {
    /// Decodes a body as its kind's schema says (when the emulator has schemas): 400 for a value
    /// of the wrong type or a time, quantity or int-or-string its decoder refuses; unknown
    /// fields refused, warned about or dropped as `fieldValidation` says; times normalized.
    func decodeWithSchema(_ object: JSON, kind: String, group: String, version: String, options: WriteOptions)
        throws(APIError) -> JSON
    {
        guard let schemas = settings.schemas,
            let definition = schemas.definitionName(group: group, version: version, kind: kind)
        else { return object }
        var check = SchemaCheck(schemas: schemas)
        let decoded = check.decode(object, as: .definition(definition))
        if let failure = check.decodingFailure {
            throw decodingError(kind: kind, version: version, failure)
        }
        guard !check.unknownFields.isEmpty else { return decoded }
        switch options.fieldValidation ?? settings.defaultFieldValidation {
        case .strict:
            throw decodingError(
                kind: kind, version: version,
                "strict decoding error: "
                    + check.unknownFields.map { "unknown field \"\($0)\"" }.joined(separator: ", "))
        case .warn:
            for field in check.unknownFields { options.warnings.add("unknown field \"\(field)\"") }
        case .ignore:
            break
        }
        return decoded
    }

    /// `errors` and a `Required value` for each field the schema requires that `object` lacks,
    /// unless the kind's own validation already said something about that field.
    func withRequiredFields(_ errors: [FieldError], _ object: JSON, resource: APIResource) -> [FieldError] {
        guard let schemas = settings.schemas,
            let definition = schemas.definitionName(
                group: resource.group, version: resource.version, kind: resource.kind)
        else { return errors }
        let reported = Set(errors.map(\.field))
        let missing = SchemaCheck(schemas: schemas).missingRequiredFields(
            in: object, as: .definition(definition))
        return errors + missing.filter { !reported.contains($0) }.map { FieldError.required($0) }
    }
}

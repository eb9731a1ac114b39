import Foundation
import JSONValue

/// `ValidateObjectMeta` and the system fields the server owns (`rest.BeforeCreate`,
/// `rest.BeforeUpdate`).
enum ObjectMetaRules {
    static let annotationsMaxBytes = 256 * 1024
    static let generateNameAlphabet = Array("bcdfghjklmnpqrstvwxz2456789")

    /// `SimpleNameGenerator`: the prefix (cut to leave room) plus 5 random characters.
    static func generateName(_ prefix: String) -> String {
        let base = prefix.count > 58 ? String(prefix.prefix(58)) : prefix
        return base + String((0..<5).map { _ in generateNameAlphabet.randomElement() ?? "x" })
    }

    static func newUID() -> String { UUID().uuidString.lowercased() }

    static func validate(_ object: JSON, resource: APIResource, rules: any ResourceRules) -> [FieldError] {
        var errors: [FieldError] = []
        let meta = object["metadata"] ?? [:]
        let name = meta["name"]?.stringValue ?? ""
        let generateName = meta["generateName"]?.stringValue ?? ""
        if name.isEmpty {
            if generateName.isEmpty {
                errors.append(.required("metadata.name", "name or generateName is required"))
            }
        } else {
            for problem in rules.nameProblems(name) {
                errors.append(.invalid("metadata.name", .string(name), problem))
            }
        }
        if !generateName.isEmpty {
            // The real server validates the prefix with a trailing dash masked.
            let masked = generateName.hasSuffix("-") ? String(generateName.dropLast()) + "a" : generateName
            for problem in rules.nameProblems(masked) {
                errors.append(.invalid("metadata.generateName", .string(generateName), problem))
            }
        }
        let namespace = meta["namespace"]?.stringValue ?? ""
        if resource.namespaced {
            if namespace.isEmpty {
                errors.append(.required("metadata.namespace"))
            } else {
                for problem in Validation.dns1123LabelProblems(namespace) {
                    errors.append(.invalid("metadata.namespace", .string(namespace), problem))
                }
            }
        } else if !namespace.isEmpty {
            errors.append(.forbidden("metadata.namespace", "not allowed on this type"))
        }
        for (key, value) in (meta["labels"]?.objectValue ?? [:]).sorted(by: { $0.key < $1.key }) {
            for problem in Validation.qualifiedNameProblems(key) {
                errors.append(.invalid("metadata.labels", .string(key), problem))
            }
            let text = value.stringValue ?? ""
            for problem in Validation.labelValueProblems(text) {
                errors.append(.invalid("metadata.labels", .string(text), problem))
            }
        }
        var annotationBytes = 0
        for (key, value) in (meta["annotations"]?.objectValue ?? [:]).sorted(by: { $0.key < $1.key }) {
            for problem in Validation.qualifiedNameProblems(key.lowercased()) {
                errors.append(.invalid("metadata.annotations", .string(key), problem))
            }
            annotationBytes += key.utf8.count + (value.stringValue?.utf8.count ?? 0)
        }
        if annotationBytes > annotationsMaxBytes {
            errors.append(.tooLong("metadata.annotations", max: annotationsMaxBytes))
        }
        for (index, finalizer) in (meta["finalizers"]?.arrayValue ?? []).enumerated() {
            let text = finalizer.stringValue ?? ""
            for problem in Validation.qualifiedNameProblems(text) {
                errors.append(.invalid("metadata.finalizers[\(index)]", .string(text), problem))
            }
        }
        for (index, owner) in (meta["ownerReferences"]?.arrayValue ?? []).enumerated() {
            for field in ["apiVersion", "kind", "name", "uid"] where (owner[field]?.stringValue ?? "").isEmpty
            {
                errors.append(
                    .invalid(
                        "metadata.ownerReferences[\(index)].\(field)", .string(""),
                        "\(field) must not be empty"))
            }
        }
        return errors
    }

    /// Type checks that the real server's JSON decoder makes on metadata (400 when they fail).
    static func decode(_ object: JSON, kind: String, version: String) throws(APIError) {
        guard let meta = object["metadata"], !meta.isNull else { return }
        guard meta.objectValue != nil else {
            throw decodingError(
                kind: kind, version: version,
                "json: cannot unmarshal \(goTypeName(meta)) into Go struct field \(kind).metadata of type v1.ObjectMeta"
            )
        }
        for field in ["name", "namespace", "generateName", "resourceVersion", "uid"] {
            if let value = meta[field], !value.isNull, value.stringValue == nil {
                throw decodingError(
                    kind: kind, version: version,
                    "json: cannot unmarshal \(goTypeName(value)) into Go struct field ObjectMeta.metadata.\(field) of type string"
                )
            }
        }
        for field in ["labels", "annotations"] {
            guard let map = meta[field], !map.isNull else { continue }
            guard let members = map.objectValue else {
                throw decodingError(
                    kind: kind, version: version,
                    "json: cannot unmarshal \(goTypeName(map)) into Go struct field ObjectMeta.metadata.\(field) of type map[string]string"
                )
            }
            for value in members.values where value.stringValue == nil && !value.isNull {
                throw decodingError(
                    kind: kind, version: version,
                    "json: cannot unmarshal \(goTypeName(value)) into Go struct field ObjectMeta.metadata.\(field) of type string"
                )
            }
        }
    }
}

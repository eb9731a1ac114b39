import JSONValue

/// One schema of the API's definitions, reduced to what decoding into the server's Go types
/// checks: the JSON type of each field, the fields a struct has, the maps and lists, and the
/// types with their own decoding (times, quantities, int-or-string).
indirect enum SchemaNode: Sendable {
    /// Anything goes (`RawExtension`, `FieldsV1`, free-form JSON).
    case anything
    /// Another definition, by name (`io.k8s.api.apps.v1.DeploymentSpec`).
    case definition(String)
    /// A struct: only these fields exist.
    case structure(Structure)
    /// A map from strings to values of one schema.
    case map(SchemaNode)
    case array(SchemaNode)
    case string
    /// A string holding base64 (`[]byte` in Go).
    case bytes
    /// An integer of 32 or 64 bits.
    case integer(bits: Int)
    case number
    case boolean
    case intOrString
    /// `resource.Quantity`: a string such as `100m` or `1Gi`, or a number.
    case quantity
    /// `metav1.Time` (RFC 3339, written in whole seconds) or `metav1.MicroTime` (exactly six
    /// fraction digits, written so).
    case time(micro: Bool)

    struct Structure: Sendable {
        /// The Go type, as decoding errors name it (`v1.DeploymentSpec`).
        var goType: String
        var properties: [String: SchemaNode]
        var required: [String]
    }
}

extension SchemaNode {
    /// Compiles one schema of the published JSON schema form (`type` lists with "null",
    /// `$ref` to `#/$defs/...`, `oneOf` for int-or-string and quantities).
    init(compiling schema: JSON, definitionName: String? = nil) {
        if let ref = schema["$ref"]?.stringValue {
            self = .definition(SchemaNode.definitionName(fromReference: ref))
            return
        }
        if let name = definitionName {
            switch name {
            case "io.k8s.apimachinery.pkg.apis.meta.v1.Time":
                self = .time(micro: false)
                return
            case "io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime":
                self = .time(micro: true)
                return
            default:
                break
            }
        }
        if let alternatives = schema["oneOf"]?.arrayValue {
            let types = Set(alternatives.compactMap { SchemaNode.mainType(of: $0) })
            if types == ["string", "integer"] {
                self = .intOrString
            } else if types == ["string", "number"] {
                self = .quantity
            } else {
                self = .anything
            }
            return
        }
        switch SchemaNode.mainType(of: schema) {
        case "object":
            if let properties = schema["properties"]?.objectValue {
                var compiled: [String: SchemaNode] = [:]
                for (key, value) in properties { compiled[key] = SchemaNode(compiling: value) }
                self = .structure(
                    Structure(
                        goType: definitionName.map(SchemaNode.goTypeName) ?? "struct",
                        properties: compiled,
                        required: (schema["required"]?.arrayValue ?? []).compactMap(\.stringValue)))
            } else if let values = schema["additionalProperties"], values.objectValue != nil {
                self = .map(SchemaNode(compiling: values))
            } else {
                self = .anything
            }
        case "array":
            self = .array(schema["items"].map { SchemaNode(compiling: $0) } ?? .anything)
        case "string":
            self = schema["format"]?.stringValue == "byte" ? .bytes : .string
        case "integer":
            self = .integer(bits: schema["format"]?.stringValue == "int32" ? 32 : 64)
        case "number":
            self = .number
        case "boolean":
            self = .boolean
        default:
            self = .anything
        }
    }

    /// The type other than "null" of a `type` member (a string or a list).
    static func mainType(of schema: JSON) -> String? {
        if let single = schema["type"]?.stringValue { return single }
        return schema["type"]?.arrayValue?.compactMap(\.stringValue).first { $0 != "null" }
    }

    static func definitionName(fromReference reference: String) -> String {
        reference.split(separator: "/").last.map(String.init) ?? reference
    }

    /// `io.k8s.api.apps.v1.DeploymentSpec` → `v1.DeploymentSpec`, the name Go prints.
    static func goTypeName(_ definition: String) -> String {
        let parts = definition.split(separator: ".")
        guard parts.count >= 2 else { return definition }
        return "\(parts[parts.count - 2]).\(parts[parts.count - 1])"
    }
}

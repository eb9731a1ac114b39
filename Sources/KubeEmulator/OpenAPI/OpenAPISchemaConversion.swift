import JSONValue

/// The published JSON schema form of the API's definitions, turned back into the OpenAPI v3
/// form the real server serves: references to `#/components/schemas/...` (wrapped in `allOf`
/// where the reference carries a description, as the real documents do), one `type` instead of a
/// list with "null", int-or-string and quantities as strings with their formats.
enum OpenAPISchemaConversion {
    /// Every definition `roots` refer to, directly or not, in OpenAPI form.
    static func reachable(from roots: [String], in schemas: OpenAPISchemas) -> [String: JSON] {
        var converted: [String: JSON] = [:]
        var pending = roots
        while let name = pending.popLast() {
            guard converted[name] == nil, let definition = schemas.published[name] else { continue }
            var references: [String] = []
            converted[name] = convert(definition, references: &references)
            pending += references.filter { converted[$0] == nil }
        }
        return converted
    }

    static func convert(_ schema: JSON, references: inout [String], propertyName: String? = nil) -> JSON {
        guard var members = schema.objectValue else { return schema }
        members["$schema"] = nil
        members["$id"] = nil
        if let types = members["type"]?.arrayValue {
            members["type"] = types.compactMap(\.stringValue).first { $0 != "null" }.map(JSON.string)
        }
        // The published form pins apiVersion and kind with an enum; the API's documents do not.
        if propertyName == "apiVersion" || propertyName == "kind" { members["enum"] = nil }
        if let alternatives = members["oneOf"]?.arrayValue {
            let types = Set(alternatives.compactMap { SchemaNode.mainType(of: $0) })
            members["oneOf"] = nil
            members["type"] = "string"
            if types.contains("integer") { members["format"] = "int-or-string" }
        }
        if let reference = members["$ref"]?.stringValue {
            let name = SchemaNode.definitionName(fromReference: reference)
            references.append(name)
            let target: JSON = ["$ref": .string("#/components/schemas/\(name)")]
            members["$ref"] = nil
            if members.isEmpty { return target }
            members["allOf"] = [target]
        }
        if let properties = members["properties"]?.objectValue {
            var converted: [String: JSON] = [:]
            for (key, value) in properties {
                converted[key] = convert(value, references: &references, propertyName: key)
            }
            members["properties"] = .object(converted)
        }
        for key in ["items", "additionalProperties"] {
            if let nested = members[key], nested.objectValue != nil {
                members[key] = convert(nested, references: &references)
            }
        }
        return .object(members)
    }
}

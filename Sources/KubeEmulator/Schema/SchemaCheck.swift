import JSONValue

/// What decoding a write body into the server's typed object finds, following the schema:
/// a JSON value of the wrong type (400, Go's `json: cannot unmarshal ...`), a time, quantity or
/// int-or-string its own decoder refuses (400), and fields the type does not have (refused under
/// `fieldValidation=Strict`, a warning under `Warn`, dropped in any case). Times come back as the
/// server writes them: UTC, whole seconds for `Time`, microseconds for `MicroTime`.
struct SchemaCheck {
    let schemas: OpenAPISchemas
    /// The first value of a wrong type, as Go's decoder reports it (it goes on decoding).
    private(set) var typeError: String?
    /// An error of a type's own decoder (times, quantities): decoding stops there.
    private(set) var decoderError: String?
    /// Fields the types do not have, as paths (`spec.template.spec.containers[0].imagee`).
    private(set) var unknownFields: [String] = []

    init(schemas: OpenAPISchemas) { self.schemas = schemas }

    /// The reason decoding fails, if it does.
    var decodingFailure: String? { decoderError ?? typeError }

    /// `value` as decoded: unknown fields dropped, times normalized.
    mutating func decode(_ value: JSON, as node: SchemaNode) -> JSON {
        walk(value, node, path: "", goFields: [], goStruct: "")
    }

    private mutating func walk(
        _ value: JSON, _ node: SchemaNode, path: String, goFields: [String], goStruct: String
    ) -> JSON {
        if decoderError != nil { return value }
        if value.isNull { return value }
        switch node {
        case .anything:
            return value
        case .definition(let name):
            return walk(value, schemas.node(name), path: path, goFields: goFields, goStruct: goStruct)
        case .structure(let structure):
            guard let members = value.objectValue else {
                mismatch(value, expected: structure.goType, goFields: goFields, goStruct: goStruct)
                return value
            }
            var kept: [String: JSON] = [:]
            for key in members.keys.sorted() {
                let child = members[key] ?? .null
                let childPath = path.isEmpty ? key : "\(path).\(key)"
                guard let childNode = structure.properties[key] else {
                    unknownFields.append(childPath)
                    continue
                }
                kept[key] = walk(
                    child, childNode, path: childPath, goFields: goFields + [key], goStruct: structure.goType)
            }
            return .object(kept)
        case .map(let element):
            guard let members = value.objectValue else {
                mismatch(value, expected: goTypeName(node), goFields: goFields, goStruct: goStruct)
                return value
            }
            var kept: [String: JSON] = [:]
            for key in members.keys.sorted() {
                kept[key] = walk(
                    members[key] ?? .null, element, path: "\(path)[\(key)]", goFields: goFields,
                    goStruct: goStruct)
            }
            return .object(kept)
        case .array(let element):
            guard let elements = value.arrayValue else {
                mismatch(value, expected: goTypeName(node), goFields: goFields, goStruct: goStruct)
                return value
            }
            return .array(
                elements.enumerated().map { index, child in
                    walk(child, element, path: "\(path)[\(index)]", goFields: goFields, goStruct: goStruct)
                })
        case .string, .bytes:
            if value.stringValue == nil {
                mismatch(value, expected: goTypeName(node), goFields: goFields, goStruct: goStruct)
            }
            return value
        case .integer(let bits):
            if !SchemaCheck.isInteger(value, bits: bits) {
                mismatch(
                    value, expected: "int\(bits)", goFields: goFields, goStruct: goStruct, numberShown: true)
            }
            return value
        case .number:
            if value.doubleValue == nil {
                mismatch(value, expected: "float64", goFields: goFields, goStruct: goStruct)
            }
            return value
        case .boolean:
            if value.boolValue == nil {
                mismatch(value, expected: "bool", goFields: goFields, goStruct: goStruct)
            }
            return value
        case .intOrString:
            // IntOrString's own decoder: a string, else an int32.
            if value.stringValue == nil && !SchemaCheck.isInteger(value, bits: 32) {
                decoderError =
                    "json: cannot unmarshal \(SchemaCheck.goValueName(value, numberShown: true)) into Go value of type int32"
            }
            return value
        case .quantity:
            if let text = value.stringValue {
                if let problem = QuantitySyntax.problem(text) { decoderError = problem }
            } else if value.doubleValue == nil {
                decoderError = QuantitySyntax.formatMessage
            }
            return value
        case .time(let micro):
            guard let text = value.stringValue else {
                decoderError =
                    "json: cannot unmarshal \(SchemaCheck.goValueName(value)) into Go value of type string"
                return value
            }
            switch KubeTimes.decode(text, micro: micro) {
            case .success(let normalized): return .string(normalized)
            case .failure(let problem):
                decoderError = problem.message
                return value
            }
        }
    }

    /// Records Go's `UnmarshalTypeError` for the first value of a wrong type.
    private mutating func mismatch(
        _ value: JSON, expected: String, goFields: [String], goStruct: String, numberShown: Bool = false
    ) {
        guard typeError == nil else { return }
        let found = SchemaCheck.goValueName(value, numberShown: numberShown)
        // Go names the struct without its package (`DeploymentSpec`), the type with it.
        let structName = goStruct.split(separator: ".").last.map(String.init) ?? goStruct
        if goFields.isEmpty || goStruct.isEmpty {
            typeError = "json: cannot unmarshal \(found) into Go value of type \(expected)"
        } else {
            typeError =
                "json: cannot unmarshal \(found) into Go struct field \(structName).\(goFields.joined(separator: ".")) of type \(expected)"
        }
    }

    private func goTypeName(_ node: SchemaNode) -> String {
        switch node {
        case .anything: return "interface {}"
        case .definition(let name): return goTypeName(schemas.node(name))
        case .structure(let structure): return structure.goType
        case .map(let element): return "map[string]" + goTypeName(element)
        case .array(let element): return "[]" + goTypeName(element)
        case .string: return "string"
        case .bytes: return "[]uint8"
        case .integer(let bits): return "int\(bits)"
        case .number: return "float64"
        case .boolean: return "bool"
        case .intOrString: return "intstr.IntOrString"
        case .quantity: return "resource.Quantity"
        case .time(let micro): return micro ? "v1.MicroTime" : "v1.Time"
        }
    }

    /// How Go's decoder names a JSON value it could not store; a number that does not fit an
    /// integer type is shown (`number 1.5`).
    static func goValueName(_ value: JSON, numberShown: Bool = false) -> String {
        switch value {
        case .null: return "null"
        case .bool: return "bool"
        case .int(let number): return numberShown ? "number \(number)" : "number"
        case .double(let number): return numberShown ? "number \(JSON.double(number).jsonText)" : "number"
        case .string: return "string"
        case .array: return "array"
        case .object: return "object"
        }
    }

    static func isInteger(_ value: JSON, bits: Int) -> Bool {
        guard case .int(let number) = value else { return false }
        return bits == 32 ? Int(Int32.min)...Int(Int32.max) ~= number : true
    }

    // MARK: - Required fields

    /// Fields the schema requires that `value` lacks (`spec.template.spec.containers[0].name`),
    /// as the server's validation reports them. Statuses are left alone: servers reset them
    /// on writes to the main resource.
    func missingRequiredFields(in value: JSON, as node: SchemaNode) -> [String] {
        var missing: [String] = []
        collectMissing(value, node, path: "", into: &missing)
        return missing
    }

    private func collectMissing(_ value: JSON, _ node: SchemaNode, path: String, into missing: inout [String])
    {
        switch node {
        case .definition(let name):
            collectMissing(value, schemas.node(name), path: path, into: &missing)
        case .structure(let structure):
            guard let members = value.objectValue else { return }
            for field in structure.required where members[field] == nil || members[field]?.isNull == true {
                missing.append(path.isEmpty ? field : "\(path).\(field)")
            }
            for (key, child) in members where !(path.isEmpty && key == "status") {
                if let childNode = structure.properties[key] {
                    collectMissing(
                        child, childNode, path: path.isEmpty ? key : "\(path).\(key)", into: &missing)
                }
            }
        case .map(let element):
            for (key, child) in value.objectValue ?? [:] {
                collectMissing(child, element, path: "\(path)[\(key)]", into: &missing)
            }
        case .array(let element):
            for (index, child) in (value.arrayValue ?? []).enumerated() {
                collectMissing(child, element, path: "\(path)[\(index)]", into: &missing)
            }
        default:
            return
        }
    }
}

/// The syntax `resource.ParseQuantity` accepts: a signed decimal number and a suffix (binary
/// `Ki`…`Ei`, decimal `n`…`E`, or an exponent `e3`).
enum QuantitySyntax {
    static let formatMessage =
        "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
    static let suffixMessage = "unable to parse quantity's suffix"

    static func problem(_ text: String) -> String? {
        let bytes = Array(text.utf8)
        var index = 0
        if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
            index += 1
        }
        let numberStart = index
        var digits = 0
        var dots = 0
        while index < bytes.count, isDigit(bytes[index]) || bytes[index] == UInt8(ascii: ".") {
            if bytes[index] == UInt8(ascii: ".") { dots += 1 } else { digits += 1 }
            index += 1
        }
        guard index > numberStart else { return formatMessage }
        let suffixStart = index
        while index < bytes.count, "eEinumkKMGTP".utf8.contains(bytes[index]) { index += 1 }
        if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
            index += 1
        }
        while index < bytes.count, isDigit(bytes[index]) { index += 1 }
        guard index == bytes.count else { return formatMessage }
        guard digits > 0, dots <= 1 else { return formatMessage }
        let suffix = String(decoding: bytes[suffixStart...], as: UTF8.self)
        let known = ["", "n", "u", "m", "k", "M", "G", "T", "P", "E", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"]
        if known.contains(suffix) { return nil }
        // An exponent: e or E, then a signed integer.
        let exponent = suffix.utf8.dropFirst()
        if let first = suffix.utf8.first, first == UInt8(ascii: "e") || first == UInt8(ascii: "E") {
            let unsigned =
                exponent.first.map { $0 == UInt8(ascii: "+") || $0 == UInt8(ascii: "-") } == true
                ? exponent.dropFirst() : exponent
            if !unsigned.isEmpty && unsigned.allSatisfy(isDigit) { return nil }
        }
        return suffixMessage
    }

    private static func isDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }
}

import JSONValue

/// Secrets: base64 `data`, `stringData` merged into `data` and never stored, keys as config keys,
/// at most 1 MiB of values, type-specific required keys, `immutable`.
struct SecretRules: ResourceRules {
    static let maximumSize = 1024 * 1024

    func decode(_ object: inout JSON) throws(APIError) {
        var data: [String: JSON] = [:]
        if let raw = object["data"], !raw.isNull {
            guard let members = raw.objectValue else {
                throw decodingError(
                    kind: "Secret",
                    "json: cannot unmarshal \(goTypeName(raw)) into Go struct field Secret.data of type map[string][]uint8"
                )
            }
            for (key, value) in members {
                switch value {
                case .null:
                    data[key] = .string("")
                case .string(let text):
                    do {
                        _ = try GoBase64.decode(text)
                    } catch {
                        throw decodingError(kind: "Secret", error.message)
                    }
                    data[key] = value
                default:
                    throw decodingError(
                        kind: "Secret",
                        "json: cannot unmarshal \(goTypeName(value)) into Go struct field Secret.data of type []uint8"
                    )
                }
            }
        }
        if let raw = object["stringData"], !raw.isNull {
            guard let members = raw.objectValue else {
                throw decodingError(
                    kind: "Secret",
                    "json: cannot unmarshal \(goTypeName(raw)) into Go struct field Secret.stringData of type map[string]string"
                )
            }
            for (key, value) in members {
                switch value {
                case .string(let text): data[key] = .string(GoBase64.encode(Array(text.utf8)))
                case .null: data[key] = .string("")
                default:
                    throw decodingError(
                        kind: "Secret",
                        "json: cannot unmarshal \(goTypeName(value)) into Go struct field Secret.stringData of type string"
                    )
                }
            }
        }
        object["stringData"] = nil
        object["data"] = data.isEmpty ? nil : .object(data)
    }

    func applyDefaults(_ object: inout JSON) {
        if (object["type"]?.stringValue ?? "").isEmpty { object["type"] = "Opaque" }
    }

    func validate(_ object: JSON) -> [FieldError] {
        var errors: [FieldError] = []
        let data = object["data"]?.objectValue ?? [:]
        var total = 0
        for key in data.keys.sorted() {
            for problem in Validation.configKeyProblems(key) {
                errors.append(.invalid("data[\(key)]", .string(key), problem))
            }
            total += decodedLength(data[key])
        }
        if total > SecretRules.maximumSize { errors.append(.tooLong("data", max: SecretRules.maximumSize)) }
        let type = object["type"]?.stringValue ?? "Opaque"
        func require(_ key: String) {
            if data[key] == nil { errors.append(.required("data[\(key)]")) }
        }
        switch type {
        case "kubernetes.io/service-account-token":
            if (object[path: "metadata", "annotations", "kubernetes.io/service-account.name"]?.stringValue
                ?? "").isEmpty
            {
                errors.append(.required("metadata.annotations[kubernetes.io/service-account.name]"))
            }
        case "kubernetes.io/dockercfg": require(".dockercfg")
        case "kubernetes.io/dockerconfigjson": require(".dockerconfigjson")
        case "kubernetes.io/basic-auth":
            if data["username"] == nil && data["password"] == nil {
                errors.append(.required("data[username]"))
                errors.append(.required("data[password]"))
            }
        case "kubernetes.io/ssh-auth": require("ssh-privatekey")
        case "kubernetes.io/tls":
            require("tls.crt")
            require("tls.key")
        default: break
        }
        return errors
    }

    func validateUpdate(_ object: JSON, old: JSON) -> [FieldError] {
        var errors = validate(object)
        let oldType = old["type"]?.stringValue ?? "Opaque"
        let newType = object["type"]?.stringValue ?? "Opaque"
        if oldType != newType { errors.append(.immutable("type", .string(newType))) }
        if old["immutable"]?.boolValue == true {
            if object["immutable"]?.boolValue != true {
                errors.append(.forbidden("immutable", "field is immutable when `immutable` is set"))
            }
            if (object["data"] ?? [:]) != (old["data"] ?? [:]) {
                errors.append(.forbidden("data", "field is immutable when `immutable` is set"))
            }
        }
        return errors
    }

    private func decodedLength(_ value: JSON?) -> Int {
        guard let text = value?.stringValue else { return 0 }
        return (try? GoBase64.decode(text).count) ?? 0
    }
}

/// ConfigMaps: string `data`, base64 `binaryData`, keys as config keys and unique across both,
/// at most 1 MiB, `immutable`.
struct ConfigMapRules: ResourceRules {
    func decode(_ object: inout JSON) throws(APIError) {
        if let raw = object["data"], !raw.isNull {
            guard let members = raw.objectValue else {
                throw decodingError(
                    kind: "ConfigMap",
                    "json: cannot unmarshal \(goTypeName(raw)) into Go struct field ConfigMap.data of type map[string]string"
                )
            }
            var data: [String: JSON] = [:]
            for (key, value) in members {
                switch value {
                case .string: data[key] = value
                case .null: data[key] = ""
                default:
                    throw decodingError(
                        kind: "ConfigMap",
                        "json: cannot unmarshal \(goTypeName(value)) into Go struct field ConfigMap.data of type string"
                    )
                }
            }
            object["data"] = data.isEmpty ? nil : .object(data)
        }
        if let raw = object["binaryData"], !raw.isNull {
            guard let members = raw.objectValue else {
                throw decodingError(
                    kind: "ConfigMap",
                    "json: cannot unmarshal \(goTypeName(raw)) into Go struct field ConfigMap.binaryData of type map[string][]uint8"
                )
            }
            for value in members.values {
                guard case .string(let text) = value else {
                    if value.isNull { continue }
                    throw decodingError(
                        kind: "ConfigMap",
                        "json: cannot unmarshal \(goTypeName(value)) into Go struct field ConfigMap.binaryData of type []uint8"
                    )
                }
                do {
                    _ = try GoBase64.decode(text)
                } catch {
                    throw decodingError(kind: "ConfigMap", error.message)
                }
            }
            if members.isEmpty { object["binaryData"] = nil }
        }
    }

    func validate(_ object: JSON) -> [FieldError] {
        var errors: [FieldError] = []
        let data = object["data"]?.objectValue ?? [:]
        let binary = object["binaryData"]?.objectValue ?? [:]
        var total = 0
        for key in data.keys.sorted() {
            for problem in Validation.configKeyProblems(key) {
                errors.append(.invalid("data[\(key)]", .string(key), problem))
            }
            if binary[key] != nil {
                errors.append(
                    .invalid("data[\(key)]", .string(key), "duplicate of key present in binaryData"))
            }
            total += data[key]?.stringValue?.utf8.count ?? 0
        }
        for key in binary.keys.sorted() {
            for problem in Validation.configKeyProblems(key) {
                errors.append(.invalid("binaryData[\(key)]", .string(key), problem))
            }
            if data[key] != nil {
                errors.append(
                    .invalid("binaryData[\(key)]", .string(key), "duplicate of key present in data"))
            }
            total += binary[key]?.stringValue.flatMap { try? GoBase64.decode($0).count } ?? 0
        }
        if total > SecretRules.maximumSize { errors.append(.tooLong("", max: SecretRules.maximumSize)) }
        return errors
    }

    func validateUpdate(_ object: JSON, old: JSON) -> [FieldError] {
        var errors = validate(object)
        if old["immutable"]?.boolValue == true {
            if object["immutable"]?.boolValue != true {
                errors.append(.forbidden("immutable", "field is immutable when `immutable` is set"))
            }
            if (object["data"] ?? [:]) != (old["data"] ?? [:]) {
                errors.append(.forbidden("data", "field is immutable when `immutable` is set"))
            }
            if (object["binaryData"] ?? [:]) != (old["binaryData"] ?? [:]) {
                errors.append(.forbidden("binaryData", "field is immutable when `immutable` is set"))
            }
        }
        return errors
    }
}

/// The JSON type name Go's decoder reports in "cannot unmarshal X into ..." errors.
func goTypeName(_ value: JSON) -> String {
    switch value {
    case .null: "null"
    case .bool: "bool"
    case .int, .double: "number"
    case .string: "string"
    case .array: "array"
    case .object: "object"
    }
}

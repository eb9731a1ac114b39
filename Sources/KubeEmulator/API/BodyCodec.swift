import JSONValue

/// Request bodies and response encodings the way the real server negotiates them: JSON, YAML
/// and (for the kinds `kubectl create` sends that way) protobuf in; JSON out, or YAML when that
/// is all the client accepts.
enum BodyCodec {
    static let protobufType = "application/vnd.kubernetes.protobuf"

    /// Decodes a write body into JSON.
    static func decode(_ request: HTTPRequest) throws(APIError) -> JSON {
        let type = request.contentType
        switch type {
        case "", "application/json", "*/*":
            return try parseJSON(request.body)
        case "application/yaml", "application/x-yaml", "text/yaml":
            do {
                return try YAMLConversion.json(fromYAML: String(decoding: request.body, as: UTF8.self))
                    ?? .null
            } catch {
                throw APIError.badRequest("error converting YAML to JSON: \(error)")
            }
        case protobufType:
            return try ProtobufObjectDecoder.decode(request.body)
        default:
            throw APIError.unsupportedMediaType(type)
        }
    }

    /// An apply configuration: YAML (of which JSON is a subset).
    static func decodeYAMLOrJSON(_ bytes: [UInt8]) throws(APIError) -> JSON {
        if let json = try? JSON(parsing: bytes) { return json }
        do {
            return try YAMLConversion.json(fromYAML: String(decoding: bytes, as: UTF8.self)) ?? .null
        } catch {
            throw APIError.badRequest("error decoding YAML: \(error)")
        }
    }

    static func parseJSON(_ bytes: [UInt8]) throws(APIError) -> JSON {
        do {
            return try JSON(parsing: bytes)
        } catch {
            throw APIError.badRequest(
                "the body of the request could not be read as JSON: \(error.description)")
        }
    }

    /// Response encodings a client's `Accept` header allows.
    enum Output: Sendable, Equatable {
        case json, yaml, table
    }

    /// The encoding to answer with; throws 406 when none is acceptable.
    static func output(for accept: String?) throws(APIError) -> Output {
        guard let accept, !accept.isEmpty else { return .json }
        var sawYAML = false
        for entry in accept.split(separator: ",") {
            let parameters = entry.split(separator: ";").map { String($0.trimmingSpacesSubstring) }
            let type = parameters.first?.lowercased() ?? ""
            if type == "application/json" && parameters.contains("as=Table") {
                if parameters.contains("g=meta.k8s.io")
                    && (parameters.contains("v=v1") || parameters.contains("v=v1beta1"))
                {
                    return .table
                }
                continue
            }
            if type == "application/json" || type == "*/*" || type == "application/*" { return .json }
            if type == protobufType { continue }
            if type == "application/yaml" { sawYAML = true }
        }
        if sawYAML { return .yaml }
        // Protobuf only (or something unknown): the real server would answer protobuf.
        throw APIError.notAcceptable()
    }
}

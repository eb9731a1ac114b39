import JSONValue
import YAML

/// YAML documents as `JSON` values, the way the API server reads `application/yaml` bodies
/// (YAML is converted to JSON, then decoded), through the package's one YAML module: the
/// emulator reads and writes YAML as beluga-secrets does.
enum YAMLConversion {
    /// The first document of `text`; `nil` when it is empty or null.
    static func json(fromYAML text: String) throws -> JSON? {
        let value = try YAMLReader.read(text)
        return value == .null ? nil : value
    }

    /// YAML text for a JSON value (for `Accept: application/yaml`).
    static func yaml(_ value: JSON) -> String { YAMLWriter.document(value) }
}

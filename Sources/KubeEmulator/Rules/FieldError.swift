import JSONValue

/// One validation failure at a field path, formatted like apimachinery's `field.Error`
/// (`metadata.name: Invalid value: "A": a lowercase RFC 1123 subdomain must ...`).
struct FieldError: Sendable, Equatable {
    enum ErrorType: String, Sendable {
        case notFound = "FieldValueNotFound"
        case required = "FieldValueRequired"
        case duplicate = "FieldValueDuplicate"
        case invalid = "FieldValueInvalid"
        case notSupported = "FieldValueNotSupported"
        case forbidden = "FieldValueForbidden"
        case tooLong = "FieldValueTooLong"
        case tooMany = "FieldValueTooMany"
        case typeInvalid = "FieldValueTypeInvalid"

        var label: String {
            switch self {
            case .notFound: "Not found"
            case .required: "Required value"
            case .duplicate: "Duplicate value"
            case .invalid, .typeInvalid: "Invalid value"
            case .notSupported: "Unsupported value"
            case .forbidden: "Forbidden"
            case .tooLong: "Too long"
            case .tooMany: "Too many"
            }
        }
    }

    var type: ErrorType
    var field: String
    /// The offending value; `nil` for error types that do not print one.
    var value: JSON?
    var detail: String

    /// The message without the field name (`Status.details.causes[].message`).
    var body: String {
        var text = type.label
        switch type {
        case .required, .forbidden, .tooLong:
            break
        default:
            if let value {
                switch value {
                case .string(let string): text += ": " + goQuote(string)
                case .int(let int): text += ": \(int)"
                case .bool(let bool): text += ": \(bool)"
                case .double: text += ": " + value.jsonText
                default: text += ": " + value.jsonText
                }
            }
        }
        if !detail.isEmpty { text += ": " + detail }
        return text
    }

    /// `field: body`, as in the aggregated message.
    var text: String { "\(field): \(body)" }

    static func invalid(_ field: String, _ value: JSON, _ detail: String) -> FieldError {
        FieldError(type: .invalid, field: field, value: value, detail: detail)
    }

    static func required(_ field: String, _ detail: String = "") -> FieldError {
        FieldError(type: .required, field: field, value: nil, detail: detail)
    }

    static func forbidden(_ field: String, _ detail: String) -> FieldError {
        FieldError(type: .forbidden, field: field, value: nil, detail: detail)
    }

    static func tooLong(_ field: String, max: Int) -> FieldError {
        FieldError(
            type: .tooLong, field: field, value: nil,
            detail: "may not be more than \(max) \(max == 1 ? "byte" : "bytes")")
    }

    static func notSupported(_ field: String, _ value: JSON, _ supported: [String]) -> FieldError {
        FieldError(
            type: .notSupported, field: field, value: value,
            detail: supported.isEmpty
                ? "" : "supported values: " + supported.map(goQuote).joined(separator: ", "))
    }

    static func duplicate(_ field: String, _ value: JSON) -> FieldError {
        FieldError(type: .duplicate, field: field, value: value, detail: "")
    }

    /// `apivalidation.ValidateImmutableField`.
    static func immutable(_ field: String, _ value: JSON) -> FieldError {
        FieldError(type: .invalid, field: field, value: value, detail: "field is immutable")
    }
}

extension Array where Element == FieldError {
    /// apimachinery drops errors whose text repeats when it aggregates them.
    func uniquedByText() -> [FieldError] {
        var seen = Set<String>()
        return filter { seen.insert($0.text).inserted }
    }
}

/// Go's `%q` for a string: double quotes, backslash escapes for quotes, backslashes and
/// control characters (non-ASCII printable characters are kept as they are).
func goQuote(_ string: String) -> String {
    var out = "\""
    for scalar in string.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        default:
            if scalar.value < 0x20 || scalar.value == 0x7F {
                let hex = String(scalar.value, radix: 16)
                out += "\\x" + (hex.count == 1 ? "0" + hex : hex)
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
    }
    return out + "\""
}

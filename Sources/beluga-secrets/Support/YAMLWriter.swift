import JSONValue

/// Writes JSON data as a YAML document, as `kubectl get -o yaml` shows objects: block style,
/// members sorted, strings plain when YAML reads them back as the same string and double-quoted
/// (with JSON's escapes, which YAML shares) otherwise.
enum YAMLWriter {
    static func document(_ value: JSON) -> String {
        var output = ""
        write(value, indent: 0, into: &output, inline: false)
        if !output.hasSuffix("\n") { output += "\n" }
        return output
    }

    private static func write(_ value: JSON, indent: Int, into output: inout String, inline: Bool) {
        let pad = String(repeating: " ", count: indent)
        switch value {
        case .object(let members) where !members.isEmpty:
            if inline { output += "\n" }
            for key in members.keys.sorted() {
                guard let member = members[key] else { continue }
                output += pad + scalar(key) + ":"
                if member.isContainer {
                    write(member, indent: indent + 2, into: &output, inline: true)
                } else {
                    output += " " + scalarText(member) + "\n"
                }
            }
        case .array(let elements) where !elements.isEmpty:
            if inline { output += "\n" }
            for element in elements {
                output += pad + "-"
                if case .object(let members) = element, !members.isEmpty {
                    // The first member on the dash's line, the others aligned under it.
                    var nested = ""
                    write(element, indent: indent + 2, into: &nested, inline: false)
                    output += " " + nested.dropFirst(indent + 2)
                } else if element.isContainer {
                    write(element, indent: indent + 2, into: &output, inline: true)
                } else {
                    output += " " + scalarText(element) + "\n"
                }
            }
        default:
            output += (inline ? " " : pad) + scalarText(value) + "\n"
        }
    }

    private static func scalarText(_ value: JSON) -> String {
        switch value {
        case .string(let text): return scalar(text)
        case .object: return "{}"
        case .array: return "[]"
        default: return value.jsonText
        }
    }

    /// A string as a plain scalar when that is unambiguous, else double-quoted.
    static func scalar(_ text: String) -> String {
        let reserved: Set<String> = [
            "", "~", "null", "Null", "NULL", "true", "True", "TRUE", "false", "False", "FALSE", "yes", "Yes",
            "YES", "no", "No", "NO", "on", "On", "ON", "off", "Off", "OFF", "y", "Y", "n", "N",
        ]
        let safe = text.unicodeScalars.allSatisfy { scalar in
            switch scalar {
            case "a"..."z", "A"..."Z", "0"..."9", "-", "_", ".", "/", "+", "@", "(", ")", " ", ",", ";", "=":
                return true
            case ":": return true
            default: return false
            }
        }
        let first = text.unicodeScalars.first
        let startsPlain = first.map { !"-.0123456789 ".unicodeScalars.contains($0) } ?? false
        if safe, startsPlain, !reserved.contains(text), !text.hasSuffix(" "), !text.contains(": "),
            !text.hasSuffix(":"), !text.contains(" #")
        {
            return text
        }
        return JSON.string(text).jsonText
    }
}

extension JSON {
    fileprivate var isContainer: Bool {
        switch self {
        case .object(let members): return !members.isEmpty
        case .array(let elements): return !elements.isEmpty
        default: return false
        }
    }
}

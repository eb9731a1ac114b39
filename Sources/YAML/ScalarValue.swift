import JSONValue

/// The value of one scalar event, by its tag and style (go-yaml v2's rules).
enum ScalarValue {
    private static let core = "tag:yaml.org,2002:"

    static func value(_ scalar: Event.Scalar) throws(YAMLError) -> JSON {
        let resolved = try resolve(scalar)
        guard let json = resolved.json else {
            throw failure(scalar, "NaN and infinite numbers cannot be represented in JSON: quote the value")
        }
        return json
    }

    /// A key: its value made a string, as sigs.k8s.io/yaml does (`true:` is `"true"`, `1:` is
    /// `"1"`), or the merge key `<<`.
    static func key(_ scalar: Event.Scalar) throws(YAMLError) -> DocumentBuilderKey {
        if scalar.value == "<<", (scalar.tag == nil && scalar.plainImplicit) || scalar.tag == core + "merge" {
            return .merge(scalar.mark)
        }
        let resolved = try resolve(scalar)
        guard let json = resolved.json, let name = keyName(of: json) else {
            throw failure(scalar, "a mapping key must be a string, an integer or a boolean")
        }
        return .name(name, scalar.mark)
    }

    /// The string a key value stands for; `nil` for values that cannot be keys.
    static func keyName(of value: JSON) -> String? {
        switch value {
        case .string(let text): return text
        case .int(let number): return String(number)
        case .bool(let flag): return flag ? "true" : "false"
        default: return nil
        }
    }

    private static func resolve(_ scalar: Event.Scalar) throws(YAMLError) -> PlainScalar.Resolved {
        guard let tag = scalar.tag else {
            return scalar.plainImplicit ? PlainScalar.resolve(scalar.value) : .string(scalar.value)
        }
        switch tag {
        case core + "int":
            let resolved = PlainScalar.resolve(scalar.value)
            switch resolved {
            case .int, .bigInteger: return resolved
            default: throw failure(scalar, "a value tagged !!int is not an integer")
            }
        case core + "float":
            switch PlainScalar.resolve(scalar.value) {
            case .int(let number): return .double(Double(number))
            case .bigInteger(let number), .double(let number): return .double(number)
            default: throw failure(scalar, "a value tagged !!float is not a number")
            }
        case core + "bool":
            let resolved = PlainScalar.resolve(scalar.value)
            guard case .bool = resolved else {
                throw failure(scalar, "a value tagged !!bool is not a boolean")
            }
            return resolved
        case core + "binary":
            guard let bytes = decodeBase64(scalar.value) else {
                throw failure(scalar, "a value tagged !!binary is not base64")
            }
            return .string(String(decoding: bytes, as: UTF8.self))
        default:
            // !!str, !!timestamp, !!null (which go-yaml v2 does not resolve), local tags: text.
            return .string(scalar.value)
        }
    }

    private static func failure(_ scalar: Event.Scalar, _ problem: String) -> YAMLError {
        YAMLError(line: scalar.mark.line, column: scalar.mark.column, problem: problem)
    }

    /// Standard base64 with padding, line breaks ignored (Go's `base64.StdEncoding`).
    static func decodeBase64(_ text: String) -> [UInt8]? {
        var sextets: [UInt8] = []
        var padding = 0
        for byte in text.utf8 where byte != 0x0A && byte != 0x0D {
            let value: UInt8
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): value = byte - UInt8(ascii: "A")
            case UInt8(ascii: "a")...UInt8(ascii: "z"): value = byte - UInt8(ascii: "a") + 26
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = byte - UInt8(ascii: "0") + 52
            case UInt8(ascii: "+"): value = 62
            case UInt8(ascii: "/"): value = 63
            case UInt8(ascii: "="):
                padding += 1
                continue
            default: return nil
            }
            guard padding == 0 else { return nil }
            sextets.append(value)
        }
        guard (sextets.count + padding) % 4 == 0, padding <= 2, sextets.count % 4 != 1,
            padding == (4 - sextets.count % 4) % 4
        else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(sextets.count * 3 / 4)
        var index = 0
        while index + 1 < sextets.count {
            let chunk = sextets[index..<min(index + 4, sextets.count)]
            let a = chunk[chunk.startIndex], b = chunk[chunk.startIndex + 1]
            bytes.append(a << 2 | b >> 4)
            if chunk.count > 2 {
                let c = chunk[chunk.startIndex + 2]
                bytes.append(b << 4 | c >> 2)
                if chunk.count > 3 { bytes.append(c << 6 | chunk[chunk.startIndex + 3]) }
            }
            index += 4
        }
        return bytes
    }
}

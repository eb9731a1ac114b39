import JSONValue

/// What an untagged plain scalar means, by the rules of go-yaml v2 (YAML 1.1), which kubectl
/// reads kubeconfig files with (through sigs.k8s.io/yaml): `yes`/`no`/`on`/`off`/`y`/`n` are
/// booleans, `~` and the empty scalar null, `0777` and `0o777` octal, `0x1F` hex, `0b101`
/// binary, `1_000` a thousand, `1e3` and `.5` floats; everything else is a string. The
/// writer uses the same rules to decide which strings it must quote.
enum PlainScalar {
    /// The value of `text` written as an untagged plain scalar.
    static func resolve(_ text: String) -> Resolved {
        guard let first = text.utf8.first else { return .null }
        switch first {
        case UInt8(ascii: "y"), UInt8(ascii: "Y"), UInt8(ascii: "n"), UInt8(ascii: "N"), UInt8(ascii: "t"),
            UInt8(ascii: "T"), UInt8(ascii: "f"), UInt8(ascii: "F"), UInt8(ascii: "o"), UInt8(ascii: "O"),
            UInt8(ascii: "~"):
            return keywords[text] ?? .string(text)
        case UInt8(ascii: "."):
            if let keyword = keywords[text] { return keyword }
            return decimalFloat(text).map(Resolved.double) ?? .string(text)
        case UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            if let keyword = keywords[text] { return keyword }
            return number(text) ?? .string(text)
        default:
            return .string(text)
        }
    }

    /// A resolved plain scalar.
    enum Resolved: Equatable {
        case null
        case bool(Bool)
        case int(Int)
        /// An integer above `Int.max` (up to `UInt64.max`), kept as the nearest `Double`.
        case bigInteger(Double)
        case double(Double)
        case string(String)
    }

    private static let keywords: [String: Resolved] = {
        var table: [String: Resolved] = [:]
        for word in ["y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"] {
            table[word] = .bool(true)
        }
        for word in ["n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"] {
            table[word] = .bool(false)
        }
        for word in ["~", "null", "Null", "NULL"] { table[word] = .null }
        for word in [".nan", ".NaN", ".NAN"] { table[word] = .double(.nan) }
        for word in [".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"] { table[word] = .double(.infinity) }
        for word in ["-.inf", "-.Inf", "-.INF"] { table[word] = .double(-.infinity) }
        return table
    }()

    /// An integer as Go's `strconv.ParseInt(text, 0, 64)` reads it once go-yaml has removed
    /// every `_`, else an unsigned one, else a float of YAML's form.
    private static func number(_ text: String) -> Resolved? {
        let plain = Array(text.utf8.filter { $0 != UInt8(ascii: "_") })
        if let value = integer(plain) {
            switch value {
            case .signed(let value): return .int(value)
            case .unsigned(let value): return .bigInteger(Double(value))
            }
        }
        if isYAMLFloat(plain), let value = Double(String(decoding: plain, as: UTF8.self)), value.isFinite {
            return .double(value)
        }
        return nil
    }

    private enum Integer {
        case signed(Int)
        case unsigned(UInt64)
    }

    private static func integer(_ bytes: [UInt8]) -> Integer? {
        var digits = bytes[...]
        var negative = false
        var signed = false
        if let sign = digits.first, sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") {
            negative = sign == UInt8(ascii: "-")
            signed = true
            digits = digits.dropFirst()
        }
        var radix: UInt64 = 10
        if digits.count >= 2, digits.first == UInt8(ascii: "0") {
            switch digits[digits.startIndex + 1] | 0x20 {
            case UInt8(ascii: "x"): radix = 16
            case UInt8(ascii: "o"): radix = 8
            case UInt8(ascii: "b"): radix = 2
            default: radix = 8
            }
            digits = digits.dropFirst(
                radix == 8 && digits[digits.startIndex + 1] | 0x20 != UInt8(ascii: "o") ? 1 : 2)
        }
        guard !digits.isEmpty else { return nil }
        var magnitude: UInt64 = 0
        for byte in digits {
            let digit: UInt64
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt64(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt64(byte - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt64(byte - UInt8(ascii: "A") + 10)
            default: return nil
            }
            guard digit < radix else { return nil }
            let (scaled, overflow) = magnitude.multipliedReportingOverflow(by: radix)
            let (sum, overflowAgain) = scaled.addingReportingOverflow(digit)
            guard !overflow, !overflowAgain else { return nil }
            magnitude = sum
        }
        if negative {
            guard magnitude <= UInt64(Int64.max) + 1 else { return nil }
            return .signed(magnitude == UInt64(Int64.max) + 1 ? Int.min : -Int(magnitude))
        }
        if magnitude <= UInt64(Int.max) { return .signed(Int(magnitude)) }
        // ParseUint takes no sign.
        return signed ? nil : .unsigned(magnitude)
    }

    /// go-yaml's `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`.
    private static func isYAMLFloat(_ bytes: [UInt8]) -> Bool {
        var index = 0
        func digits() -> Int {
            let start = index
            while index < bytes.count, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") {
                index += 1
            }
            return index - start
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
            index += 1
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            guard digits() > 0 else { return false }
        } else {
            guard digits() > 0 else { return false }
            if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
                index += 1
                _ = digits()
            }
        }
        if index < bytes.count, bytes[index] | 0x20 == UInt8(ascii: "e") {
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
                index += 1
            }
            guard digits() > 0 else { return false }
        }
        return index == bytes.count
    }

    /// What Go's `strconv.ParseFloat` accepts of a text that starts with `.`: `.5`, `.5e3`.
    private static func decimalFloat(_ text: String) -> Double? {
        let bytes = Array(text.utf8)
        guard bytes.count >= 2, bytes[1] >= UInt8(ascii: "0"), bytes[1] <= UInt8(ascii: "9"),
            isYAMLFloat(bytes)
        else { return nil }
        return Double(text).flatMap { $0.isFinite ? $0 : nil }
    }

    /// Whether a plain `text` would be read as a sexagesimal number (`1:20`) by a YAML 1.1
    /// reader such as PyYAML. go-yaml reads it as a string, but quotes it when it writes, and
    /// so does this package.
    static func isBase60(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        var index = 0
        if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
            index += 1
        }
        guard index < bytes.count, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") else {
            return false
        }
        var sawColon = false
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: ":") {
                sawColon = true
            } else if byte == UInt8(ascii: ".") {
                return sawColon
                    && bytes[(index + 1)...].allSatisfy {
                        ($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9")) || $0 == UInt8(ascii: "_")
                    }
            } else if !((byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte == UInt8(ascii: "_"))
            {
                return false
            }
            index += 1
        }
        return sawColon
    }
}

extension PlainScalar.Resolved {
    /// The value as JSON; `nil` for NaN and the infinities, which JSON cannot hold.
    var json: JSON? {
        switch self {
        case .null: return .null
        case .bool(let value): return .bool(value)
        case .int(let value): return .int(value)
        case .bigInteger(let value): return .double(value)
        case .double(let value): return value.isFinite ? .double(value) : nil
        case .string(let value): return .string(value)
        }
    }
}

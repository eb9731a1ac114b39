import JSONValue
import Sealing

/// A Secret whose values stay in secure memory (`SecureBytes`: locked, zeroed when released)
/// from the response that carried them to their use: `object` is the Secret without its `data`,
/// `values` its decoded values. Read and written with `KubeClient.getGuardedSecretIfPresent`,
/// `createGuarded` and `patchGuarded`, for the workstation's commands that handle values
/// (`get --reveal`, `--direct` writes).
public struct GuardedSecret: Sendable {
    /// The Secret's other fields (metadata, type); `data` is absent from it.
    public var object: Secret
    /// The values of `data`, by key.
    public var values: [String: SecureBytes]

    public init(object: Secret, values: [String: SecureBytes]) {
        var object = object
        object.json["data"] = nil
        self.object = object
        self.values = values
    }

    /// The keys of `data`, sorted.
    public var keys: [String] { values.keys.sorted() }
    public var metadata: ObjectMeta { object.metadata }
    public var resourceVersion: String? { object.resourceVersion }
}

/// Reads and writes the JSON of a Secret without its values becoming `String`s: the text is
/// scanned where it lies (secure memory), the members other than `data` are parsed as usual, and
/// each value of `data` is decoded from base64 straight into its own secure buffer.
enum GuardedSecretCoding {
    struct Malformed: Error {
        var reason: String
    }

    /// Decodes a Secret object (JSON) held in `body`.
    static func decode(_ body: SecureBytes) throws(Malformed) -> GuardedSecret {
        try body.withUnsafeBytes { (text) throws(Malformed) -> GuardedSecret in
            var scanner = JSONScanner(text)
            var others: [UInt8] = [UInt8(ascii: "{")]
            var values: [String: SecureBytes] = [:]
            try scanner.object { (name, scanner) throws(Malformed) in
                guard name == "data" else {
                    let range = try scanner.skipValue()
                    if others.count > 1 { others.append(UInt8(ascii: ",")) }
                    others += Array(JSON.string(name).serialized())
                    others.append(UInt8(ascii: ":"))
                    others += text[range]
                    return
                }
                if scanner.takeNull() { return }
                try scanner.object { (key, scanner) throws(Malformed) in
                    let range = try scanner.stringContent()
                    guard
                        let value = SecureBytes.decodingBase64(UnsafeRawBufferPointer(rebasing: text[range]))
                    else { throw Malformed(reason: "the value of data[\(key)] is not base64") }
                    values[key] = value
                }
            }
            try scanner.end()
            others.append(UInt8(ascii: "}"))
            let json: JSON
            do throws(JSONParseError) {
                json = try JSON(parsing: others)
            } catch {
                throw Malformed(reason: error.description)
            }
            return GuardedSecret(object: Secret(json: json), values: values)
        }
    }

    /// `object` (without `data`) with `data` set to `values`, base64-encoded, as JSON in secure
    /// memory; `nullKeys` are written as `null` in `data` (a merge patch's removal).
    static func encode(_ object: JSON, values: [String: SecureBytes], nullKeys: [String] = []) -> SecureBytes
    {
        var object = object
        object["data"] = nil
        let rest = object.serialized()  // `{...}` with sorted members, no secret in it
        let encoded = values.keys.sorted().map { key in
            (Array(JSON.string(key).serialized()), values[key]?.base64Encoded())
        }
        let nulls = nullKeys.sorted().map { Array(JSON.string($0).serialized()) }
        var length = 2 + "\"data\":{}".utf8.count + (rest.count > 2 ? rest.count - 2 + 1 : 0)
        for (name, value) in encoded { length += name.count + 3 + (value?.count ?? 0) + 1 }
        for name in nulls { length += name.count + 5 + 1 }
        return SecureBytes(capacity: length) { target in
            var offset = 0
            func put(_ bytes: some Collection<UInt8>) {
                for byte in bytes {
                    target[offset] = byte
                    offset += 1
                }
            }
            func put(_ raw: UnsafeRawBufferPointer) {
                UnsafeMutableRawBufferPointer(rebasing: target[offset..<(offset + raw.count)]).copyMemory(
                    from: raw)
                offset += raw.count
            }
            put(Array("{\"data\":{".utf8))
            var first = true
            for (name, value) in encoded {
                if !first { put([UInt8(ascii: ",")]) }
                first = false
                put(name)
                put(Array(":\"".utf8))
                value?.withUnsafeBytes { put($0) }
                put([UInt8(ascii: "\"")])
            }
            for name in nulls {
                if !first { put([UInt8(ascii: ",")]) }
                first = false
                put(name)
                put(Array(":null".utf8))
            }
            put([UInt8(ascii: "}")])
            if rest.count > 2 {
                put([UInt8(ascii: ",")])
                put(rest[1..<(rest.count - 1)])
            }
            put([UInt8(ascii: "}")])
            return offset
        }
    }
}

/// Walks JSON text without copying it: object members, string contents, and skipping any value
/// (bounded nesting, as `JSON(parsing:)`).
struct JSONScanner {
    let text: UnsafeRawBufferPointer
    var index = 0

    init(_ text: UnsafeRawBufferPointer) { self.text = text }

    typealias Malformed = GuardedSecretCoding.Malformed

    func fail(_ reason: String) -> Malformed { Malformed(reason: "\(reason) at byte \(index)") }

    mutating func skipWhitespace() {
        while index < text.count, [0x20, 0x09, 0x0A, 0x0D].contains(text[index]) { index += 1 }
    }

    mutating func take(_ byte: UInt8) -> Bool {
        skipWhitespace()
        guard index < text.count, text[index] == byte else { return false }
        index += 1
        return true
    }

    /// `null` here, consumed.
    mutating func takeNull() -> Bool {
        skipWhitespace()
        guard index + 4 <= text.count, Array(text[index..<(index + 4)]) == Array("null".utf8) else {
            return false
        }
        index += 4
        return true
    }

    /// Calls `member` for each member of the object here, with its name (a non-secret string)
    /// and the scanner placed at its value, which `member` must consume.
    mutating func object(_ member: (String, inout JSONScanner) throws(Malformed) -> Void) throws(Malformed) {
        guard take(UInt8(ascii: "{")) else { throw fail("an object was expected") }
        if take(UInt8(ascii: "}")) { return }
        while true {
            skipWhitespace()
            let nameRange = try stringToken()
            guard case .string(let name)? = try? JSON(parsing: text[nameRange]) else {
                throw fail("a member name is not a string")
            }
            guard take(UInt8(ascii: ":")) else { throw fail("':' expected") }
            skipWhitespace()
            try member(name, &self)
            if take(UInt8(ascii: ",")) { continue }
            guard take(UInt8(ascii: "}")) else { throw fail("',' or '}' expected") }
            return
        }
    }

    /// The range of the contents of the string here (between its quotes), which must hold no
    /// escape (base64 never needs one).
    mutating func stringContent() throws(Malformed) -> Range<Int> {
        skipWhitespace()
        let token = try stringToken()
        let content = (token.lowerBound + 1)..<(token.upperBound - 1)
        if text[content].contains(UInt8(ascii: "\\")) { throw fail("an escape in a base64 value") }
        return content
    }

    /// The range of the string token here, quotes included.
    mutating func stringToken() throws(Malformed) -> Range<Int> {
        let start = index
        guard index < text.count, text[index] == UInt8(ascii: "\"") else {
            throw fail("a string was expected")
        }
        index += 1
        while index < text.count {
            switch text[index] {
            case UInt8(ascii: "\""):
                index += 1
                return start..<index
            case UInt8(ascii: "\\"): index += 2
            case 0x00..<0x20: throw fail("a control character in a string")
            default: index += 1
            }
        }
        throw fail("a string does not end")
    }

    /// Skips the value here; its range.
    mutating func skipValue(depth: Int = 0) throws(Malformed) -> Range<Int> {
        guard depth < JSON.maximumDepth else { throw fail("nesting too deep") }
        skipWhitespace()
        let start = index
        guard index < text.count else { throw fail("a value was expected") }
        switch text[index] {
        case UInt8(ascii: "\""):
            _ = try stringToken()
        case UInt8(ascii: "{"):
            try object { (_, scanner) throws(Malformed) in _ = try scanner.skipValue(depth: depth + 1) }
        case UInt8(ascii: "["):
            index += 1
            if !take(UInt8(ascii: "]")) {
                while true {
                    _ = try skipValue(depth: depth + 1)
                    if take(UInt8(ascii: ",")) { continue }
                    guard take(UInt8(ascii: "]")) else { throw fail("',' or ']' expected") }
                    break
                }
            }
        default:
            // A number or a literal: what follows up to a delimiter (checked when the rest is
            // parsed as JSON).
            while index < text.count, !",}] \t\r\n".utf8.contains(text[index]) { index += 1 }
            guard index > start else { throw fail("a value was expected") }
        }
        return start..<index
    }

    /// Only whitespace may follow.
    mutating func end() throws(Malformed) {
        skipWhitespace()
        guard index == text.count else { throw fail("content after the object") }
    }
}

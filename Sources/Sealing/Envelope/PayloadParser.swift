import TimeFormat

/// A strict parser for the payload JSON object, reading from the `SecureBytes` the ciphertext
/// opened into.
///
/// It accepts exactly the members of the format (no unknown, missing or duplicate members),
/// string values only (`version`, in format 2, is a whole number), JSON whitespace between
/// tokens, and standard JSON escapes. The base64 of the value is decoded from the secure buffer
/// straight into another secure buffer, so the value never becomes a Swift `String`. Error
/// reasons name members of the format, never content.
struct PayloadParser {
    private let bytes: UnsafeRawBufferPointer
    private var index = 0

    private enum Member {
        case string(start: Int, end: Int, escaped: Bool)
        case number(Int)
    }

    static let formatOneMembers = ["namespace", "secret", "key", "value", "sealedBy", "sealedAt"]
    static let formatTwoMembers = formatOneMembers + ["version", "signer"]

    /// Parses `payload` as the payload of an envelope of `format`.
    static func parse(_ payload: SecureBytes, format: EnvelopeFormat) throws(SealingError) -> SealedPayload {
        try payload.withUnsafeBytes { (raw) throws(SealingError) -> SealedPayload in
            var parser = PayloadParser(bytes: raw)
            return try parser.parsePayload(format: format)
        }
    }

    private init(bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    private mutating func parsePayload(format: EnvelopeFormat) throws(SealingError) -> SealedPayload {
        let allowed = format == .v1 ? Self.formatOneMembers : Self.formatTwoMembers
        var members: [String: Member] = [:]
        skipWhitespace()
        guard take(UInt8(ascii: "{")) else { throw .malformedPayload("it is not a JSON object") }
        skipWhitespace()
        if !take(UInt8(ascii: "}")) {
            while true {
                guard peek() == UInt8(ascii: "\"") else {
                    throw .malformedPayload("a member name is not a string")
                }
                let nameToken = try scanString()
                guard case .string(let start, let end, let escaped) = nameToken,
                    let name = memberName(start, end, escaped: escaped, allowed: allowed)
                else {
                    throw .malformedPayload(
                        "it has a member other than " + allowed.joined(separator: ", "))
                }
                guard members[name] == nil else { throw .malformedPayload("member \(name) appears twice") }
                skipWhitespace()
                guard take(UInt8(ascii: ":")) else {
                    throw .malformedPayload("a ':' is missing after \(name)")
                }
                skipWhitespace()
                if name == "version" {
                    members[name] = try scanWholeNumber(name)
                } else {
                    guard peek() == UInt8(ascii: "\"") else {
                        throw .malformedPayload("member \(name) is not a string")
                    }
                    members[name] = try scanString()
                }
                skipWhitespace()
                if take(UInt8(ascii: ",")) {
                    skipWhitespace()
                    continue
                }
                guard take(UInt8(ascii: "}")) else {
                    throw .malformedPayload("a ',' or '}' is missing after \(name)")
                }
                break
            }
        }
        skipWhitespace()
        guard index == bytes.count else { throw .malformedPayload("there is content after the JSON object") }
        for name in allowed where members[name] == nil {
            throw .malformedPayload("member \(name) is missing")
        }

        func text(_ name: String) throws(SealingError) -> String {
            guard case .string(let start, let end, let escaped) = members[name] else {
                throw .malformedPayload("member \(name) is not a string")
            }
            guard let text = try decodeText(start, end, escaped: escaped) else {
                throw .malformedPayload("member \(name) is not valid UTF-8")
            }
            return text
        }
        let binding = SecretBinding(
            unchecked: try text("namespace"), secret: try text("secret"), key: try text("key"))
        let sealedBy = try text("sealedBy")
        let sealedAt = try text("sealedAt")
        guard RFC3339.isValidUTC(sealedAt) else {
            throw .malformedPayload("member sealedAt is not an RFC 3339 UTC time")
        }
        var version: Int?
        var signerID: SignerID?
        if format == .v2 {
            guard case .number(let number) = members["version"] else {
                throw .malformedPayload("member version is not a whole number")
            }
            version = number
            guard let signer = SignerID(try text("signer")) else {
                throw .malformedPayload("member signer is not 16 lower-case hex characters")
            }
            signerID = signer
        }
        guard case .string(let start, let end, let escaped) = members["value"] else {
            throw .malformedPayload("member value is not a string")
        }
        let value = try decodeValue(start, end, escaped: escaped)
        return SealedPayload(
            binding: binding, value: value, sealedBy: sealedBy, sealedAt: sealedAt, version: version,
            signerID: signerID)
    }

    // MARK: - Tokens

    private func peek() -> UInt8? { index < bytes.count ? bytes[index] : nil }

    private mutating func take(_ byte: UInt8) -> Bool {
        guard peek() == byte else { return false }
        index += 1
        return true
    }

    private mutating func skipWhitespace() {
        while let byte = peek(), byte == 0x20 || byte == 0x09 || byte == 0x0a || byte == 0x0d { index += 1 }
    }

    /// Scans a string token starting at its opening quote; returns the range between the quotes.
    private mutating func scanString() throws(SealingError) -> Member {
        index += 1
        let start = index
        var escaped = false
        while let byte = peek() {
            switch byte {
            case UInt8(ascii: "\""):
                index += 1
                return .string(start: start, end: index - 1, escaped: escaped)
            case UInt8(ascii: "\\"):
                escaped = true
                index += 1
                guard let next = peek() else { break }
                switch next {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"),
                    UInt8(ascii: "f"), UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                    index += 1
                case UInt8(ascii: "u"):
                    guard index + 4 < bytes.count, (1...4).allSatisfy({ hexValue(bytes[index + $0]) != nil })
                    else {
                        throw .malformedPayload("a string has an invalid \\u escape")
                    }
                    index += 5
                default:
                    throw .malformedPayload("a string has an invalid escape")
                }
            case 0x00..<0x20:
                throw .malformedPayload("a string has an unescaped control character")
            default:
                index += 1
            }
        }
        throw .malformedPayload("a string is not terminated")
    }

    /// A whole number from 1 to 2^53-1 (the integers every JSON implementation represents exactly).
    private mutating func scanWholeNumber(_ name: String) throws(SealingError) -> Member {
        let start = index
        var value = 0
        while let byte = peek(), (0x30...0x39).contains(byte) {
            guard index - start < 16 else { throw .malformedPayload("member \(name) is out of range") }
            value = value * 10 + Int(byte - 0x30)
            index += 1
        }
        let digits = index - start
        let next = peek()
        guard digits > 0, !(digits > 1 && bytes[start] == UInt8(ascii: "0")),
            next != UInt8(ascii: "."), next != UInt8(ascii: "e"), next != UInt8(ascii: "E")
        else { throw .malformedPayload("member \(name) is not a whole number") }
        guard (1...9_007_199_254_740_991).contains(value) else {
            throw .malformedPayload("member \(name) is out of range")
        }
        return .number(value)
    }

    // MARK: - Decoding

    /// The allowed member named by the string token between `start` and `end`, or nil. A name
    /// without escapes is compared byte for byte, without decoding it.
    private func memberName(_ start: Int, _ end: Int, escaped: Bool, allowed: [String]) -> String? {
        if escaped {
            guard let name = try? decodeText(start, end, escaped: true), allowed.contains(name) else {
                return nil
            }
            return name
        }
        let raw = UnsafeRawBufferPointer(rebasing: bytes[start..<end])
        return allowed.first { $0.utf8.elementsEqual(raw) }
    }

    /// The text of a non-secret string member, or nil when it is not valid UTF-8; unescaped into
    /// a copy only when the token has escapes.
    private func decodeText(_ start: Int, _ end: Int, escaped: Bool) throws(SealingError) -> String? {
        guard escaped else {
            return String(validating: UnsafeRawBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self)
        }
        var output = [UInt8](repeating: 0, count: end - start)
        var failure: SealingError?
        let count = output.withUnsafeMutableBytes { target -> Int in
            do throws(SealingError) {
                return try unescape(start, end, into: target)
            } catch {
                failure = error
                return 0
            }
        }
        if let failure { throw failure }
        output.removeLast(output.count - count)
        return String(validating: output, as: UTF8.self)
    }

    /// Decodes the base64 of the value into a secure buffer, unescaping first (into another secure
    /// buffer) only when the encoder escaped something, such as `\/`.
    private func decodeValue(_ start: Int, _ end: Int, escaped: Bool) throws(SealingError) -> SecureBytes {
        let invalid = SealingError.malformedPayload("member value is not standard base64")
        func decode(_ text: UnsafeRawBufferPointer) throws(SealingError) -> SecureBytes {
            try SecureBytes(capacity: Base64.maximumDecodedLength(text.count)) {
                (target) throws(SealingError) -> Int in
                guard let written = Base64.decode(text, into: target, .standard) else { throw invalid }
                return written
            }
        }
        guard escaped else {
            return try decode(UnsafeRawBufferPointer(rebasing: bytes[start..<end]))
        }
        let unescaped = try SecureBytes(capacity: end - start) { (target) throws(SealingError) -> Int in
            try unescape(start, end, into: target)
        }
        return try unescaped.withUnsafeBytes { (text) throws(SealingError) -> SecureBytes in try decode(text)
        }
    }

    /// Writes the unescaped content of a scanned string to `target` (never longer than the
    /// escaped form); returns its length.
    private func unescape(_ start: Int, _ end: Int, into target: UnsafeMutableRawBufferPointer)
        throws(SealingError)
        -> Int
    {
        var read = start
        var written = 0
        func emit(_ byte: UInt8) {
            target[written] = byte
            written += 1
        }
        func hex4(_ at: Int) -> UInt32 {
            (0..<4).reduce(UInt32(0)) { $0 << 4 | UInt32(hexValue(bytes[at + $1]) ?? 0) }
        }
        while read < end {
            let byte = bytes[read]
            guard byte == UInt8(ascii: "\\") else {
                emit(byte)
                read += 1
                continue
            }
            let kind = bytes[read + 1]
            read += 2
            switch kind {
            case UInt8(ascii: "b"): emit(0x08)
            case UInt8(ascii: "f"): emit(0x0c)
            case UInt8(ascii: "n"): emit(0x0a)
            case UInt8(ascii: "r"): emit(0x0d)
            case UInt8(ascii: "t"): emit(0x09)
            case UInt8(ascii: "u"):
                var scalar = hex4(read)
                read += 4
                if (0xD800..<0xDC00).contains(scalar) {
                    guard read + 6 <= end, bytes[read] == UInt8(ascii: "\\"),
                        bytes[read + 1] == UInt8(ascii: "u")
                    else {
                        throw .malformedPayload("a string has an unpaired surrogate escape")
                    }
                    let low = hex4(read + 2)
                    guard (0xDC00..<0xE000).contains(low) else {
                        throw .malformedPayload("a string has an unpaired surrogate escape")
                    }
                    read += 6
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                } else if (0xDC00..<0xE000).contains(scalar) {
                    throw .malformedPayload("a string has an unpaired surrogate escape")
                }
                guard let unicode = Unicode.Scalar(scalar) else {
                    throw .malformedPayload("a string has an invalid \\u escape")
                }
                if let encoded = UTF8.encode(unicode) {
                    for unit in encoded { emit(unit) }
                }
            default: emit(kind)  // \" \\ \/
            }
        }
        return written
    }
}

private func hexValue(_ byte: UInt8) -> UInt8? {
    switch byte {
    case 0x30...0x39: return byte - 0x30
    case 0x41...0x46: return byte - 0x41 + 10
    case 0x61...0x66: return byte - 0x61 + 10
    default: return nil
    }
}

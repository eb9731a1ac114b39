/// Writes the payload JSON object straight into `SecureBytes`, so that neither the value nor
/// its base64 ever sits in an ordinary (unzeroed) Swift buffer.
enum PayloadWriter {
    /// The members other than `value`, in the order they are written.
    struct Fields {
        var binding: SecretBinding
        var sealedBy: String
        var sealedAt: String
        var version: Int?
        var signerID: SignerID?
    }

    /// `{"namespace":…,"secret":…,"key":…,"value":<base64>,"sealedBy":…,"sealedAt":…}` and,
    /// for format 2, `"version":N,"signer":…` before the closing brace.
    static func write(value: SecureBytes, _ fields: Fields) -> SecureBytes {
        var prefix: [UInt8] = Array("{".utf8)
        appendMember("namespace", fields.binding.namespace, to: &prefix)
        prefix.append(UInt8(ascii: ","))
        appendMember("secret", fields.binding.secret, to: &prefix)
        prefix.append(UInt8(ascii: ","))
        appendMember("key", fields.binding.key, to: &prefix)
        prefix.append(contentsOf: Array(",\"value\":\"".utf8))

        var suffix: [UInt8] = Array("\",".utf8)
        appendMember("sealedBy", fields.sealedBy, to: &suffix)
        suffix.append(UInt8(ascii: ","))
        appendMember("sealedAt", fields.sealedAt, to: &suffix)
        if let version = fields.version {
            suffix.append(contentsOf: Array(",\"version\":\(version)".utf8))
        }
        if let signerID = fields.signerID {
            suffix.append(UInt8(ascii: ","))
            appendMember("signer", signerID.hex, to: &suffix)
        }
        suffix.append(UInt8(ascii: "}"))

        let encodedLength = Base64.encodedLength(value.count, .standard)
        let total = prefix.count + encodedLength + suffix.count
        return SecureBytes(capacity: total) { target in
            prefix.withUnsafeBytes { target.copyMemory(from: $0) }
            let valueStart = prefix.count
            // libsodium NUL-terminates; the suffix then overwrites that byte.
            value.withUnsafeBytes { raw in
                _ = Base64.encode(
                    raw, into: UnsafeMutableRawBufferPointer(rebasing: target[valueStart...]), .standard)
            }
            suffix.withUnsafeBytes {
                UnsafeMutableRawBufferPointer(rebasing: target[(valueStart + encodedLength)...]).copyMemory(
                    from: $0)
            }
            return total
        }
    }

    private static func appendMember(_ name: String, _ value: String, to output: inout [UInt8]) {
        appendString(name, to: &output)
        output.append(UInt8(ascii: ":"))
        appendString(value, to: &output)
    }

    /// A JSON string: quotes, backslash and control characters escaped, everything else as UTF-8.
    private static func appendString(_ text: String, to output: inout [UInt8]) {
        let hexDigits = Array("0123456789abcdef".utf8)
        output.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            case UInt8(ascii: "\\"): output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case 0x00..<0x20:
                output.append(contentsOf: Array("\\u00".utf8))
                output.append(hexDigits[Int(byte >> 4)])
                output.append(hexDigits[Int(byte & 0x0f)])
            default: output.append(byte)
            }
        }
        output.append(UInt8(ascii: "\""))
    }
}

extension SecureBytes {
    /// The standard base64 (with padding) of these bytes, in secure memory: the form a value
    /// takes in a Secret's `data`, built without the value ever becoming a `String`.
    public func base64Encoded() -> SecureBytes {
        withUnsafeBytes { raw in
            // libsodium writes a terminating NUL after the text; it stays beyond `count`.
            SecureBytes(capacity: Base64.encodedLength(raw.count, .standard) + 1) { target in
                Base64.encode(raw, into: target, .standard)
            }
        }
    }

    /// The bytes `text` encodes in standard base64, decoded where `text` lies (a secure buffer)
    /// into secure memory, in constant time; nil unless `text` is canonical (padding as
    /// required, zero trailing bits, nothing but the alphabet).
    public static func decodingBase64(_ text: UnsafeRawBufferPointer) -> SecureBytes? {
        var valid = true
        let bytes = SecureBytes(capacity: Base64.maximumDecodedLength(text.count)) { target in
            guard let written = Base64.decode(text, into: target, .standard) else {
                valid = false
                return 0
            }
            return written
        }
        return valid ? bytes : nil
    }
}

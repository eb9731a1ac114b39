import CSodium

/// libsodium's constant-time base64 codec, in the two variants the envelope format uses.
enum Base64 {
    enum Variant {
        /// RFC 4648 §4 with padding: key files and the `value` member of a payload.
        case standard
        /// RFC 4648 §5 without padding: the parts of an envelope.
        case urlSafeNoPadding

        var sodiumVariant: Int32 {
            switch self {
            case .standard: return sodium_base64_VARIANT_ORIGINAL
            case .urlSafeNoPadding: return sodium_base64_VARIANT_URLSAFE_NO_PADDING
            }
        }
    }

    /// Characters needed for `count` bytes, without the terminating NUL libsodium also writes
    /// (the arithmetic of `sodium_base64_ENCODED_LEN`, which Swift cannot import as a macro).
    static func encodedLength(_ count: Int, _ variant: Variant) -> Int {
        let full = (count / 3) * 4
        let rest = count % 3
        guard rest != 0 else { return full }
        switch variant {
        case .standard: return full + 4
        case .urlSafeNoPadding: return full + rest + 1
        }
    }

    /// The largest number of bytes that `length` characters can decode to.
    static func maximumDecodedLength(_ length: Int) -> Int { (length / 4) * 3 + 3 }

    /// Encodes `bytes` into `destination`, which must hold `encodedLength(bytes.count) + 1`
    /// bytes (libsodium NUL-terminates). Returns the number of characters written.
    @discardableResult
    static func encode(
        _ bytes: UnsafeRawBufferPointer, into destination: UnsafeMutableRawBufferPointer, _ variant: Variant
    ) -> Int {
        Sodium.ensureInitialised()
        let length = encodedLength(bytes.count, variant)
        precondition(destination.count >= length + 1, "base64 destination too small")
        let target = UnsafeMutableRawPointer(destination.bytes).assumingMemoryBound(to: CChar.self)
        _ = sodium_bin2base64(target, length + 1, bytes.bytes, bytes.count, variant.sodiumVariant)
        return length
    }

    /// Encodes non-secret bytes (public keys, ciphertexts, signatures) as a `String`.
    static func encode(_ bytes: [UInt8], _ variant: Variant) -> String {
        let length = encodedLength(bytes.count, variant)
        var text = [UInt8](repeating: 0, count: length + 1)
        bytes.withUnsafeBytes { source in
            text.withUnsafeMutableBytes { target in _ = encode(source, into: target, variant) }
        }
        text.removeLast()
        return String(decoding: text, as: UTF8.self)
    }

    /// Decodes `text` into `destination`; returns the number of bytes written, or nil when the
    /// text is not canonical base64 of this variant (stray characters, bad padding, non-zero
    /// trailing bits) or does not fit.
    static func decode(
        _ text: UnsafeRawBufferPointer, into destination: UnsafeMutableRawBufferPointer, _ variant: Variant
    ) -> Int? {
        // libsodium 1.0.18 reads the text as signed `char` and decodes every byte from 0x80 up
        // as the 64th character (`/` or `_`), so `QUJ\u{CC}` would pass for `QUJ_`: one
        // envelope, many texts. Refused here, without a data-dependent branch (the text may be
        // the base64 of a secret).
        var highBits: UInt8 = 0
        for byte in text { highBits |= byte }
        guard highBits & 0x80 == 0 else { return nil }
        Sodium.ensureInitialised()
        var written = 0
        let status = sodium_base642bin(
            destination.bytes, destination.count,
            UnsafeRawPointer(text.bytes).assumingMemoryBound(to: CChar.self),
            text.count, nil, &written, nil, variant.sodiumVariant)
        return status == 0 ? written : nil
    }

    /// Decodes non-secret text (an envelope part, a public key) into bytes.
    static func decode(_ text: Substring, _ variant: Variant) -> [UInt8]? {
        decode(ArraySlice(text.utf8), variant)
    }

    /// Decodes non-secret text given as its UTF-8 bytes into bytes.
    static func decode(_ characters: ArraySlice<UInt8>, _ variant: Variant) -> [UInt8]? {
        var bytes = [UInt8](repeating: 0, count: maximumDecodedLength(characters.count))
        let written = characters.withUnsafeBytes { source in
            bytes.withUnsafeMutableBytes { target in decode(source, into: target, variant) }
        }
        guard let written else { return nil }
        bytes.removeLast(bytes.count - written)
        return bytes
    }
}

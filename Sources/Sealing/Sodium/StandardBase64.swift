/// Standard base64 (RFC 4648 §4, with padding) of non-secret bytes: public keys and signatures
/// as the formats in the cluster carry them. Decoding accepts only the canonical text (no
/// whitespace, no stray characters, zero trailing bits), so one value has one spelling.
public enum StandardBase64 {
    public static func encode(_ bytes: [UInt8]) -> String { Base64.encode(bytes, .standard) }

    /// The bytes of `text`, or nil when it is not canonical standard base64.
    public static func decode(_ text: String) -> [UInt8]? {
        // Padded text only: its length is a multiple of 4.
        guard text.utf8.count % 4 == 0 else { return nil }
        return Base64.decode(Substring(text), .standard)
    }
}

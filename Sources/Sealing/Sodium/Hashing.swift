import CSodium

/// BLAKE2b (`crypto_generichash`) and lower-case hex, the building blocks of key ids and
/// fingerprints.
enum Hashing {
    /// BLAKE2b of `message` with an `outputLength`-byte digest, optionally keyed.
    static func blake2b(
        _ message: UnsafeRawBufferPointer, outputLength: Int, key: UnsafeRawBufferPointer? = nil
    ) -> [UInt8] {
        Sodium.ensureInitialised()
        var digest = [UInt8](repeating: 0, count: outputLength)
        let status = digest.withUnsafeMutableBytes { out in
            crypto_generichash(
                out.bytes, outputLength, message.bytes, UInt64(message.count), key?.bytes, key?.count ?? 0)
        }
        // Only out-of-range lengths make crypto_generichash fail; ours are constants.
        precondition(status == 0, "crypto_generichash rejected its parameters")
        return digest
    }

    static func blake2b(_ message: [UInt8], outputLength: Int) -> [UInt8] {
        message.withUnsafeBytes { blake2b($0, outputLength: outputLength) }
    }

    /// Lower-case hex of non-secret bytes.
    static func hex(_ bytes: some Sequence<UInt8>) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        for byte in bytes {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: text, as: UTF8.self)
    }

    /// Whether `text` is exactly `length` lower-case hex digits.
    static func isLowerHex(_ text: Substring, length: Int) -> Bool {
        text.utf8.count == length
            && text.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
    }
}

/// Standard base64 with padding (RFC 4648 §4), as Kubernetes encodes bytes in JSON: Secret
/// `data`, ConfigMap `binaryData`, kubeconfig `*-data` fields.
public enum Base64 {
    private static let alphabet = Array(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    private static let values: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (index, byte) in alphabet.enumerated() { table[Int(byte)] = UInt8(index) }
        return table
    }()

    /// `bytes` encoded.
    public static func encode(_ bytes: some Collection<UInt8>) -> String {
        var output: [UInt8] = []
        output.reserveCapacity((bytes.count + 2) / 3 * 4)
        var iterator = bytes.makeIterator()
        while let first = iterator.next() {
            let second = iterator.next()
            let third = iterator.next()
            output.append(alphabet[Int(first >> 2)])
            output.append(alphabet[Int((first & 0x03) << 4 | (second ?? 0) >> 4)])
            output.append(
                second.map { alphabet[Int(($0 & 0x0F) << 2 | (third ?? 0) >> 6)] } ?? UInt8(ascii: "="))
            output.append(third.map { alphabet[Int($0 & 0x3F)] } ?? UInt8(ascii: "="))
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// The bytes `text` encodes; `nil` unless it is canonical: only the alphabet, a length that
    /// is a multiple of four, at most two `=` at the end, and the bits after the last byte zero
    /// (the API server only ever writes that form, so one value has one spelling). With
    /// `canonical: false` those bits may be anything, as Go's `StdEncoding` reads kubeconfig data.
    public static func decode(_ text: some StringProtocol, canonical: Bool = true) -> [UInt8]? {
        let input = Array(text.utf8)
        guard input.count % 4 == 0 else { return nil }
        var output: [UInt8] = []
        output.reserveCapacity(input.count / 4 * 3)
        var index = 0
        while index < input.count {
            let last = index + 4 == input.count
            let padding =
                last
                ? (input[index + 3] == UInt8(ascii: "=")
                    ? (input[index + 2] == UInt8(ascii: "=") ? 2 : 1) : 0) : 0
            var quantum: UInt32 = 0
            for offset in 0..<(4 - padding) {
                let value = values[Int(input[index + offset])]
                guard value != 0xFF else { return nil }
                quantum = quantum << 6 | UInt32(value)
            }
            quantum <<= 6 * UInt32(padding)
            // One `=`: 2 unused bits; two: 4 (they are the low bits of the last character).
            if canonical, padding > 0, quantum & (padding == 1 ? 0xFF : 0xFFFF) != 0 { return nil }
            output.append(UInt8(truncatingIfNeeded: quantum >> 16))
            if padding < 2 { output.append(UInt8(truncatingIfNeeded: quantum >> 8)) }
            if padding < 1 { output.append(UInt8(truncatingIfNeeded: quantum)) }
            index += 4
        }
        return output
    }
}

import Foundation

/// Base64 as Go's `encoding/base64.StdEncoding` decodes `[]byte` fields: padding required,
/// CR/LF ignored, and the same error offsets (`illegal base64 data at input byte N`).
enum GoBase64 {
    struct CorruptInput: Error, Equatable {
        var offset: Int
        var message: String { "illegal base64 data at input byte \(offset)" }
    }

    private static let decodeMap: [UInt8] = {
        var map = [UInt8](repeating: 0xFF, count: 256)
        for (index, byte) in Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
            .enumerated()
        {
            map[Int(byte)] = UInt8(index)
        }
        return map
    }()

    static func decode(_ text: String) throws(CorruptInput) -> [UInt8] {
        let src = Array(text.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(src.count / 4 * 3)
        var si = 0
        let pad = UInt8(ascii: "=")
        let newline = UInt8(ascii: "\n"), carriage = UInt8(ascii: "\r")
        while true {
            var dbuf: [UInt8] = [0, 0, 0, 0]
            var dlen = 4
            var trailingError: CorruptInput?
            var j = 0
            quantum: while j < 4 {
                if si == src.count {
                    if j == 0 { return out }
                    throw CorruptInput(offset: si - j)
                }
                let byte = src[si]
                si += 1
                let value = decodeMap[Int(byte)]
                if value != 0xFF {
                    dbuf[j] = value
                    j += 1
                    continue
                }
                if byte == newline || byte == carriage { continue }
                guard byte == pad else { throw CorruptInput(offset: si - 1) }
                switch j {
                case 0, 1:
                    throw CorruptInput(offset: si - 1)
                case 2:
                    while si < src.count, src[si] == newline || src[si] == carriage { si += 1 }
                    if si == src.count { throw CorruptInput(offset: src.count) }
                    if src[si] != pad { throw CorruptInput(offset: si - 1) }
                    si += 1
                default:
                    break
                }
                while si < src.count, src[si] == newline || src[si] == carriage { si += 1 }
                if si < src.count { trailingError = CorruptInput(offset: si) }
                dlen = j
                break quantum
            }
            let value = UInt32(dbuf[0]) << 18 | UInt32(dbuf[1]) << 12 | UInt32(dbuf[2]) << 6 | UInt32(dbuf[3])
            let bytes = [
                UInt8(truncatingIfNeeded: value >> 16), UInt8(truncatingIfNeeded: value >> 8),
                UInt8(truncatingIfNeeded: value),
            ]
            switch dlen {
            case 4: out += bytes
            case 3: out += bytes[0..<2]
            case 2: out += bytes[0..<1]
            default: break
            }
            if let trailingError { throw trailingError }
            if dlen < 4 { return out }
        }
    }

    static func encode(_ bytes: [UInt8]) -> String { Data(bytes).base64EncodedString() }
}

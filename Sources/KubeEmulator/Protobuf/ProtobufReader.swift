/// A minimal reader of the protobuf wire format: varints, length-delimited fields, and skipping
/// of fixed-width ones.
struct ProtobufReader {
    enum WireType: UInt8 {
        case varint = 0, fixed64 = 1, lengthDelimited = 2, startGroup = 3, endGroup = 4, fixed32 = 5
    }

    /// What a malformed message looks like to the reader.
    struct Malformed: Error {
        var reason: String
    }

    /// One field as read from the wire.
    enum Value {
        case varint(UInt64)
        case bytes(ArraySlice<UInt8>)
        case fixed
    }

    let bytes: ArraySlice<UInt8>
    var index: Int

    init(_ bytes: ArraySlice<UInt8>) {
        self.bytes = bytes
        self.index = bytes.startIndex
    }

    var atEnd: Bool { index >= bytes.endIndex }

    mutating func readVarint() throws(Malformed) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard index < bytes.endIndex else { throw Malformed(reason: "truncated varint") }
            let byte = bytes[index]
            index += 1
            result |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return result }
            shift += 7
            if shift > 63 { throw Malformed(reason: "varint too long") }
        }
    }

    /// The next field's number and value.
    mutating func next() throws(Malformed) -> (Int, Value)? {
        guard !atEnd else { return nil }
        let key = try readVarint()
        let number = Int(key >> 3)
        guard let type = WireType(rawValue: UInt8(key & 7)), number > 0 else {
            throw Malformed(reason: "invalid field key \(key)")
        }
        switch type {
        case .varint:
            return (number, .varint(try readVarint()))
        case .lengthDelimited:
            let length = Int(try readVarint())
            guard length >= 0, index + length <= bytes.endIndex else {
                throw Malformed(reason: "truncated field \(number)")
            }
            let slice = bytes[index..<(index + length)]
            index += length
            return (number, .bytes(slice))
        case .fixed64:
            guard index + 8 <= bytes.endIndex else { throw Malformed(reason: "truncated field \(number)") }
            index += 8
            return (number, .fixed)
        case .fixed32:
            guard index + 4 <= bytes.endIndex else { throw Malformed(reason: "truncated field \(number)") }
            index += 4
            return (number, .fixed)
        case .startGroup, .endGroup:
            throw Malformed(reason: "groups are not supported")
        }
    }
}

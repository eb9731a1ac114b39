import Foundation
import JSONValue
import TimeFormat

/// Decodes `application/vnd.kubernetes.protobuf` request bodies (the `k8s\0` magic, then a
/// `runtime.Unknown` wrapping the typed object) into the JSON the API would have received,
/// for the kinds in `ProtobufSchemas`.
enum ProtobufObjectDecoder {
    static let magic: [UInt8] = [0x6B, 0x38, 0x73, 0x00]

    static func decode(_ bytes: [UInt8]) throws(APIError) -> JSON {
        guard bytes.count >= 4, Array(bytes.prefix(4)) == magic else {
            throw APIError.badRequest(
                "provided data does not appear to be a protobuf message, expected prefix [107 56 115 0]")
        }
        do {
            var reader = ProtobufReader(bytes[4...])
            var apiVersion = ""
            var kind = ""
            var raw: ArraySlice<UInt8> = []
            while let (number, value) = try reader.next() {
                switch (number, value) {
                case (1, .bytes(let typeMeta)):
                    var inner = ProtobufReader(typeMeta)
                    while let (field, part) = try inner.next() {
                        if case .bytes(let text) = part {
                            if field == 1 { apiVersion = String(decoding: text, as: UTF8.self) }
                            if field == 2 { kind = String(decoding: text, as: UTF8.self) }
                        }
                    }
                case (2, .bytes(let body)):
                    raw = body
                case (3, .bytes(let encoding)) where !encoding.isEmpty:
                    throw APIError.unsupportedMediaType(
                        "content encoding \(String(decoding: encoding, as: UTF8.self))")
                default:
                    break
                }
            }
            guard let schema = ProtobufSchemas.message(apiVersion: apiVersion, kind: kind) else {
                throw APIError(
                    code: 415, reason: "UnsupportedMediaType",
                    message:
                        "the emulator cannot decode a protobuf \(kind) (\(apiVersion)); send it as application/json"
                )
            }
            var object = try decodeMessage(raw, schema)
            object["apiVersion"] = .string(apiVersion)
            object["kind"] = .string(kind)
            return object
        } catch let malformed as ProtobufReader.Malformed {
            throw APIError.badRequest("unable to decode the protobuf body: \(malformed.reason)")
        } catch let error as APIError {
            throw error
        } catch {
            throw APIError.badRequest("unable to decode the protobuf body")
        }
    }

    static func decodeMessage(_ bytes: ArraySlice<UInt8>, _ message: ProtoMessage) throws -> JSON {
        var reader = ProtobufReader(bytes)
        var members: [String: JSON] = [:]
        var lists: [String: [JSON]] = [:]
        var maps: [String: [String: JSON]] = [:]
        while let (number, value) = try reader.next() {
            guard let field = message.fields[number] else { continue }
            if case .map(let valueType) = field.type {
                guard case .bytes(let entry) = value else { continue }
                var entryReader = ProtobufReader(entry)
                var key = ""
                var item: JSON = try zeroValue(valueType)
                while let (entryField, entryValue) = try entryReader.next() {
                    if entryField == 1, case .bytes(let text) = entryValue {
                        key = String(decoding: text, as: UTF8.self)
                    }
                    if entryField == 2 { item = try convert(entryValue, valueType) }
                }
                maps[field.name, default: [:]][key] = item
                continue
            }
            let converted = try convert(value, field.type)
            if field.repeated {
                lists[field.name, default: []].append(converted)
            } else if field.inline, let inner = converted.objectValue {
                for (key, member) in inner { members[key] = member }
            } else if field.keepZero || !isZero(converted) || isMessage(field.type) {
                members[field.name] = converted
            }
        }
        for (name, list) in lists { members[name] = .array(list) }
        for (name, map) in maps where !map.isEmpty { members[name] = .object(map) }
        return .object(members)
    }

    static func isMessage(_ type: ProtoType) -> Bool {
        switch type {
        case .message, .time: true
        default: false
        }
    }

    static func isZero(_ value: JSON) -> Bool {
        switch value {
        case .string(let text): text.isEmpty
        case .int(let number): number == 0
        case .bool(let flag): !flag
        case .null: true
        default: false
        }
    }

    static func zeroValue(_ type: ProtoType) throws -> JSON {
        switch type {
        case .string, .bytes, .quantity: ""
        case .bool: false
        case .int: 0
        default: .object([:])
        }
    }

    static func convert(_ value: ProtobufReader.Value, _ type: ProtoType) throws -> JSON {
        switch (type, value) {
        case (.string, .bytes(let text)): return .string(String(decoding: text, as: UTF8.self))
        case (.bytes, .bytes(let data)): return .string(Data(data).base64EncodedString())
        case (.bool, .varint(let number)): return .bool(number != 0)
        case (.int, .varint(let number)): return .int(Int(Int64(bitPattern: number)))
        case (.message(let message), .bytes(let data)): return try decodeMessage(data, message)
        case (.time, .bytes(let data)):
            var reader = ProtobufReader(data)
            var seconds: Int64 = 0
            while let (field, part) = try reader.next() {
                if field == 1, case .varint(let number) = part { seconds = Int64(bitPattern: number) }
            }
            if seconds == 0 { return .null }
            return .string(Clock.timestamp(UnixTime(seconds: seconds)))
        case (.quantity, .bytes(let data)):
            var reader = ProtobufReader(data)
            var text = ""
            while let (field, part) = try reader.next() {
                if field == 1, case .bytes(let chars) = part { text = String(decoding: chars, as: UTF8.self) }
            }
            return .string(text)
        case (.intOrString, .bytes(let data)):
            var reader = ProtobufReader(data)
            var isString = false
            var number = 0
            var text = ""
            while let (field, part) = try reader.next() {
                switch (field, part) {
                case (1, .varint(let kind)): isString = kind == 1
                case (2, .varint(let value)): number = Int(Int64(bitPattern: value))
                case (3, .bytes(let chars)): text = String(decoding: chars, as: UTF8.self)
                default: break
                }
            }
            return isString ? .string(text) : .int(number)
        default:
            throw ProtobufReader.Malformed(reason: "unexpected wire type for a field")
        }
    }
}

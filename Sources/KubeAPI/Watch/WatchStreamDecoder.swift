import JSONValue

/// Reads the body of a watch response: newline-delimited JSON events, arriving in chunks that
/// may split a line anywhere. Pure (no I/O), so the watch's parsing is tested and fuzzed alone.
struct WatchStreamDecoder<Object: KubeObjectView> {
    /// What one line of a watch stream says.
    enum Line {
        /// A change (or a bookmark) of an object.
        case event(WatchEvent<Object>)
        /// `type: ERROR`: the server ends the watch with this `Status` (410 Gone: relist).
        case failure(Status)
        /// An event type this client does not know; skipped.
        case unknownType(String)
        /// Not a watch event: not JSON, or no `type` string or `object`.
        case malformed
    }

    private var splitter = LineSplitter()

    /// The complete lines `bytes` ends, decoded; an incomplete last line waits for more.
    mutating func push(_ bytes: [UInt8]) -> [Line] {
        splitter.push(bytes).map(Self.decode)
    }

    /// Decodes one line (without its newline).
    static func decode(_ line: [UInt8]) -> Line {
        guard let event = try? JSON(parsing: line), let type = event["type"]?.stringValue,
            let body = event["object"]
        else { return .malformed }
        if type == "ERROR" { return .failure(Status(json: body)) }
        guard let kind = WatchEvent<Object>.Kind(rawValue: type) else { return .unknownType(type) }
        return .event(WatchEvent(kind: kind, object: Object(json: body)))
    }
}

/// Splits a byte stream into lines (watch events are newline-delimited JSON); empty lines are
/// dropped.
struct LineSplitter {
    private var buffer: [UInt8] = []

    mutating func push(_ bytes: [UInt8]) -> [[UInt8]] {
        buffer += bytes
        var lines: [[UInt8]] = []
        var start = 0
        for index in buffer.indices where buffer[index] == UInt8(ascii: "\n") {
            if index > start { lines.append(Array(buffer[start..<index])) }
            start = index + 1
        }
        buffer.removeFirst(start)
        return lines
    }
}

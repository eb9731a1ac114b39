// Fuzzes the watch-event decoder: a watch response body (newline-delimited JSON) cut into
// chunks anywhere, as the network delivers it, decoded into events the agent acts on.
// The first input byte chooses the chunk sizes; the rest is the body.

import FuzzSupport
import JSONValue
@testable import KubeAPI

@_cdecl("LLVMFuzzerTestOneInput")
func fuzzWatchEvents(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = Array(fuzzInput(data, size))
    guard let seed = input.first else { return 0 }
    let body = Array(input.dropFirst())

    var whole = WatchStreamDecoder<Secret>()
    let lines = whole.push(body)
    var chunked = WatchStreamDecoder<Secret>()
    var chunkedLines: [WatchStreamDecoder<Secret>.Line] = []
    var offset = 0
    var step = Int(seed)
    // Chunks of 0 to 16 units (empty chunks too); a unit grows with the body, so that a long
    // body is not fed byte by byte, which would make each run quadratic in its length.
    let unit = max(1, body.count / 64)
    while offset < body.count {
        step = (step &* 31 &+ 7) & 0xff
        let end = min(body.count, offset + (step % 17) * unit)
        chunkedLines += chunked.push(Array(body[offset..<end]))
        offset = end
    }

    // Every complete, non-empty line is decoded once, whatever the chunks.
    var expected = body.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
    expected.removeLast()  // after the last newline: incomplete, not decoded yet
    let complete = expected.filter { !$0.isEmpty }
    require(lines.count == complete.count, "one decoded line per complete line")
    require(chunkedLines.count == lines.count, "chunking does not change the lines")
    for (index, line) in lines.enumerated() {
        check(line, Array(complete[index]))
        require(same(line, chunkedLines[index]), "chunking does not change line \(index)")
    }
    return 0
}

/// A line is an event exactly when it is a JSON object with a known `type` and an `object`;
/// the event carries that object unchanged.
func check(_ line: WatchStreamDecoder<Secret>.Line, _ bytes: [UInt8]) {
    let json = try? JSON(parsing: bytes)
    let type = json?["type"]?.stringValue
    let object = json?["object"]
    switch line {
    case .malformed:
        require(type == nil || object == nil, "a line with a type and an object is not malformed")
    case .failure(let status):
        require(type == "ERROR" && object == status.json, "an ERROR line carries its Status")
    case .unknownType(let name):
        require(type == name && object != nil, "an unknown type is reported as written")
        require(WatchEvent<Secret>.Kind(rawValue: name) == nil && name != "ERROR", "the type is unknown")
    case .event(let event):
        guard let type, let object else { invariantFailed("an event without a type or an object") }
        require(event.kind.rawValue == type, "the event kind is the line's type")
        require(event.object.json == object, "the event's object is the line's object")
        // What the agent reads from a Secret must not trap on any object.
        _ = (event.object.name, event.object.namespace, event.object.resourceVersion)
        _ = (event.object.data, event.object.keys, event.object.type, event.object.description)
        // The object, written as JSON (as the agent writes objects back), reads back the same.
        let text = object.serialized()
        require((try? JSON(parsing: text)) == object, "the object survives serialisation")
    }
}

func same(_ first: WatchStreamDecoder<Secret>.Line, _ second: WatchStreamDecoder<Secret>.Line) -> Bool {
    switch (first, second) {
    case (.malformed, .malformed): return true
    case (.failure(let a), .failure(let b)): return a == b
    case (.unknownType(let a), .unknownType(let b)): return a == b
    case (.event(let a), .event(let b)): return a.kind == b.kind && a.object == b.object
    default: return false
    }
}

runLibFuzzer(fuzzWatchEvents)

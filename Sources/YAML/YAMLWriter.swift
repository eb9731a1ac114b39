import CLibYAML
import JSONValue

/// Writes JSON data as YAML through libyaml's emitter, as `kubectl get -o yaml` shows objects:
/// block style, members sorted, sequences under a key not indented, multi-line strings as
/// literal blocks, no line folding. A string stays plain only when a YAML 1.1 reader (go-yaml
/// v2, PyYAML) reads it back as the same string; `yes`, `0123`, `1e3`, `~`, `1:20` and the like
/// are quoted, so what `YAMLReader` (or kubectl) reads back is the data that was written.
public enum YAMLWriter {
    /// `value` as a YAML document (ending with a line break).
    public static func document(_ value: JSON) -> String {
        var output: [UInt8] = []
        emit(into: &output) { (emitter) throws(EmitFailure) in try node(value, emitter) }
        if output.isEmpty { return value.jsonText + "\n" }
        return String(decoding: output, as: UTF8.self)
    }

    /// `text` as one YAML scalar on one line, for messages that show a value: plain when that
    /// reads back as the same string, else quoted (and escaped).
    public static func scalar(_ text: String) -> String {
        if !text.contains(where: \.isNewline) {
            var output: [UInt8] = []
            emit(into: &output) { (emitter) throws(EmitFailure) in try string(text, emitter, multiline: false)
            }
            var line = String(decoding: output, as: UTF8.self)
            // A plain scalar alone in a document may be followed by an end marker.
            if line.hasSuffix("\n...\n") { line.removeLast(4) }
            if line.hasSuffix("\n") { line.removeLast() }
            if !line.contains("\n") { return line }
        }
        return JSON.string(text).jsonText
    }

    /// Whether `text` must be quoted to be read back as a string (before libyaml's own,
    /// syntactic, reasons to quote).
    static func needsQuotes(_ text: String) -> Bool {
        PlainScalar.resolve(text) != .string(text) || PlainScalar.isBase60(text) || text == "="
            || text == "<<"
    }

    struct EmitFailure: Error {}

    private static func emit(
        into output: inout [UInt8], _ body: (UnsafeMutablePointer<yaml_emitter_t>) throws(EmitFailure) -> Void
    ) {
        let emitter = UnsafeMutablePointer<yaml_emitter_t>.allocate(capacity: 1)
        defer { emitter.deallocate() }
        guard yaml_emitter_initialize(emitter) != 0 else { return }
        defer { yaml_emitter_delete(emitter) }
        withUnsafeMutablePointer(to: &output) { buffer in
            yaml_emitter_set_output(
                emitter,
                { data, bytes, size in
                    guard let data, let bytes else { return 1 }
                    data.assumingMemoryBound(to: [UInt8].self).pointee.append(
                        contentsOf: UnsafeBufferPointer(start: bytes, count: size))
                    return 1
                }, buffer)
            yaml_emitter_set_unicode(emitter, 1)
            yaml_emitter_set_indent(emitter, 2)
            yaml_emitter_set_width(emitter, -1)
            do {
                var event = yaml_event_t()
                yaml_stream_start_event_initialize(&event, YAML_UTF8_ENCODING)
                try send(&event, emitter)
                yaml_document_start_event_initialize(&event, nil, nil, nil, 1)
                try send(&event, emitter)
                try body(emitter)
                yaml_document_end_event_initialize(&event, 1)
                try send(&event, emitter)
                yaml_stream_end_event_initialize(&event)
                try send(&event, emitter)
                _ = yaml_emitter_flush(emitter)
            } catch {
                // libyaml refused an event: only text over 2 GiB can cause it. The caller writes
                // JSON instead, which is YAML too.
                buffer.pointee.removeAll()
            }
        }
    }

    private static func send(
        _ event: inout yaml_event_t, _ emitter: UnsafeMutablePointer<yaml_emitter_t>
    ) throws(EmitFailure) {
        guard yaml_emitter_emit(emitter, &event) != 0 else { throw EmitFailure() }
    }

    private static func node(_ value: JSON, _ emitter: UnsafeMutablePointer<yaml_emitter_t>)
        throws(EmitFailure)
    {
        var event = yaml_event_t()
        switch value {
        case .object(let members):
            yaml_mapping_start_event_initialize(&event, nil, nil, 1, YAML_BLOCK_MAPPING_STYLE)
            try send(&event, emitter)
            for key in members.keys.sorted() {
                guard let member = members[key] else { continue }
                try string(key, emitter, multiline: false)
                try node(member, emitter)
            }
            yaml_mapping_end_event_initialize(&event)
            try send(&event, emitter)
        case .array(let elements):
            yaml_sequence_start_event_initialize(&event, nil, nil, 1, YAML_BLOCK_SEQUENCE_STYLE)
            try send(&event, emitter)
            for element in elements { try node(element, emitter) }
            yaml_sequence_end_event_initialize(&event)
            try send(&event, emitter)
        case .string(let text):
            try string(text, emitter, multiline: true)
        case .null, .bool, .int, .double:
            try scalar(Array(value.jsonText.utf8), style: YAML_PLAIN_SCALAR_STYLE, plain: true, emitter)
        }
    }

    private static func string(
        _ text: String, _ emitter: UnsafeMutablePointer<yaml_emitter_t>, multiline: Bool
    ) throws(EmitFailure) {
        let style: yaml_scalar_style_t
        if needsQuotes(text) {
            style = YAML_DOUBLE_QUOTED_SCALAR_STYLE
        } else if multiline && text.contains("\n") {
            style = YAML_LITERAL_SCALAR_STYLE
        } else {
            style = YAML_ANY_SCALAR_STYLE
        }
        try scalar(Array(text.utf8), style: style, plain: style == YAML_ANY_SCALAR_STYLE, emitter)
    }

    private static func scalar(
        _ bytes: [UInt8], style: yaml_scalar_style_t, plain: Bool,
        _ emitter: UnsafeMutablePointer<yaml_emitter_t>
    ) throws(EmitFailure) {
        guard bytes.count < Int(Int32.max) else { throw EmitFailure() }
        // libyaml copies the value; an empty one still needs a valid pointer.
        var storage = bytes.isEmpty ? [0] : bytes
        var event = yaml_event_t()
        let created = storage.withUnsafeMutableBufferPointer { buffer in
            yaml_scalar_event_initialize(
                &event, nil, nil, buffer.baseAddress, Int32(bytes.count), plain ? 1 : 0, 1, style)
        }
        guard created != 0 else { throw EmitFailure() }
        try send(&event, emitter)
    }
}

import Sealing

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Reads an envelope (not secret) from standard input.
enum EnvelopeInput {
    /// The text on standard input without surrounding whitespace.
    static func readStandardInput() throws -> String {
        if isatty(STDIN_FILENO) == 1 {
            StandardError.writeLine("Paste the envelope, then press Ctrl-D:")
        }
        // An envelope of the largest value is about 1.8 MB; anything longer is refused by parsing.
        var bytes = [UInt8](repeating: 0, count: 5 * 1024 * 1024)
        let count = bytes.withUnsafeMutableBytes { ValueReader.readAll(STDIN_FILENO, into: $0) }
        guard count >= 0 else {
            throw CommandError(
                "cannot read the envelope from standard input: \(String(cString: strerror(errno)))")
        }
        let text = bytes[0..<count]
        let isSpace: (UInt8) -> Bool = { [0x20, 0x09, 0x0a, 0x0d].contains($0) }
        let trimmed = text.drop(while: isSpace).reversed().drop(while: isSpace).reversed()
        guard !trimmed.isEmpty else {
            throw CommandError("no envelope on standard input: pipe the line printed by beluga-secrets seal")
        }
        return String(decoding: trimmed, as: UTF8.self)
    }
}

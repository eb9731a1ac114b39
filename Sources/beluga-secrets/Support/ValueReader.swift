import Sealing

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Reads a secret value into `SecureBytes`, never from the command line (where `ps` and shell
/// history would see it).
///
/// - On a terminal: a prompt without echo (`TerminalPrompt`); the line typed, without its end.
/// - Standard input that is not a terminal: everything up to end of input, minus exactly one
///   trailing newline (LF or CRLF), so `echo "$KEY" | beluga-secrets seal …` stores the key
///   and not a newline. A value that must end in a newline is given with `--from-file`.
/// - `--from-file F`: the file's bytes verbatim, like `kubectl create secret --from-file`.
/// - `--from-env VAR`: the variable's bytes; the variable is then wiped from this process.
///
/// Every source refuses an empty value and one above 1 MiB.
enum ValueReader {
    enum Source: Equatable {
        case standardInput
        case file(String)
        case environment(String)
    }

    static let maximumLength = Envelope.maximumValueLength

    static func readValue(from source: Source, prompt: String) throws -> SecureBytes {
        let value: SecureBytes
        switch source {
        case .standardInput:
            if isatty(STDIN_FILENO) == 1 {
                value = try TerminalPrompt.readSecretLine(prompt: prompt, maximumLength: maximumLength)
            } else {
                value = try readStandardInput()
            }
        case .file(let path):
            value = try readFile(path)
        case .environment(let name):
            value = try readEnvironment(name)
        }
        try Envelope.validateValue(value)
        return value
    }

    private static func readStandardInput() throws -> SecureBytes {
        // Room for the largest value, a CRLF, and one byte more to detect a larger one.
        let capacity = maximumLength + 3
        var failure: Int32 = 0
        let raw = SecureBytes(capacity: capacity) { buffer in
            let count = readAll(STDIN_FILENO, into: buffer)
            if count < 0 { failure = errno }
            return max(count, 0)
        }
        if failure != 0 {
            throw CommandError(
                "cannot read the value from standard input: \(String(cString: strerror(failure)))")
        }
        guard raw.count < capacity else {
            throw CommandError(
                "the value on standard input is more than 1 MiB (1048576 bytes), the most a Secret can hold: "
                    + "store a smaller value", .rejected)
        }
        let length = raw.withUnsafeBytes { bytes -> Int in
            if bytes.count >= 2, bytes[bytes.count - 2] == 0x0d, bytes[bytes.count - 1] == 0x0a {
                return bytes.count - 2
            }
            if bytes.count >= 1, bytes[bytes.count - 1] == 0x0a { return bytes.count - 1 }
            return bytes.count
        }
        return raw.withUnsafeBytes { SecureBytes(copying: UnsafeRawBufferPointer(rebasing: $0[0..<length])) }
    }

    private static func readFile(_ path: String) throws -> SecureBytes {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)
        guard descriptor >= 0 else {
            throw CommandError(
                "cannot read value file \(path): \(String(cString: strerror(errno))); check the path")
        }
        defer { close(descriptor) }
        var status = stat()
        if fstat(descriptor, &status) == 0, (status.st_mode & S_IFMT) == S_IFREG,
            Int(status.st_size) > maximumLength
        {
            throw SealingError.valueTooLarge(Int(status.st_size))
        }
        var failure: Int32 = 0
        let value = SecureBytes(capacity: maximumLength + 1) { buffer in
            let count = readAll(descriptor, into: buffer)
            if count < 0 { failure = errno }
            return max(count, 0)
        }
        if failure != 0 {
            throw CommandError(
                "cannot read value file \(path): \(String(cString: strerror(failure))); check the path")
        }
        guard value.count <= maximumLength else {
            throw CommandError(
                "value file \(path) is more than 1 MiB (1048576 bytes), the most a Secret can hold: "
                    + "store a smaller value", .rejected)
        }
        return value
    }

    private static func readEnvironment(_ name: String) throws -> SecureBytes {
        guard !name.isEmpty, !name.contains("="), let pointer = getenv(name) else {
            throw CommandError(
                "environment variable \(name) is not set: export it, or read the value from a file or the terminal"
            )
        }
        let length = strlen(pointer)
        let value = SecureBytes(copying: UnsafeRawBufferPointer(start: pointer, count: length))
        // Wipe the process's copy too, so it is gone from memory and from /proc/<pid>/environ.
        SecureBytes.wipe(pointer, count: length)
        unsetenv(name)
        return value
    }

    /// Reads until end of input or until `buffer` is full; the count, or -1 on error.
    static func readAll(_ descriptor: Int32, into buffer: UnsafeMutableRawBufferPointer) -> Int {
        var total = 0
        while total < buffer.count {
            let count = read(descriptor, buffer.baseAddress.map { $0 + total }, buffer.count - total)
            if count == 0 { break }
            if count < 0 {
                if errno == EINTR { continue }
                return -1
            }
            total += count
        }
        return total
    }
}

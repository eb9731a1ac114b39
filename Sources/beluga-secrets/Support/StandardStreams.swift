import Sealing
import SecretSync

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Standard error, written with `write(2)` so messages appear at once and in order.
enum StandardError {
    /// Inside a multi-cluster run the line is named by its cluster's context.
    static func writeLine(_ line: String) {
        if let scope = ClusterScope.current {
            write("\(scope.context): \(line)\n")
        } else {
            write(line + "\n")
        }
    }

    static func write(_ text: String) {
        StandardOutput.writeAll(Array(text.utf8), to: STDERR_FILENO)
    }
}

/// Standard output for bytes that must not pass through a Swift `String` (secret values).
enum StandardOutput {
    /// Writes the bytes of `value` verbatim, nothing added.
    static func writeValue(_ value: SecureBytes) throws {
        fflush(nil)  // anything print() buffered goes first
        let failed = value.withUnsafeBytes { raw in !writeAll(raw, to: STDOUT_FILENO) }
        if failed {
            throw CommandError("cannot write to standard output: \(String(cString: strerror(errno)))")
        }
    }

    @discardableResult
    static func writeAll(_ bytes: [UInt8], to descriptor: Int32) -> Bool {
        bytes.withUnsafeBytes { writeAll($0, to: descriptor) }
    }

    @discardableResult
    static func writeAll(_ bytes: UnsafeRawBufferPointer, to descriptor: Int32) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let count = write(descriptor, bytes.baseAddress.map { $0 + offset }, bytes.count - offset)
            if count < 0 {
                if errno == EINTR { continue }
                return false
            }
            offset += count
        }
        return true
    }
}

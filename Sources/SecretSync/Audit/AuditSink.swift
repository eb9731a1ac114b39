#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Where the agent prints audit lines: its standard output in production, a collector in tests.
public protocol AuditSink: Sendable {
    /// Prints `lines`, in order, each on its own line, and returns once they are written out.
    func emit(_ lines: [String]) async
}

/// Audit lines on standard output, one `write(2)` per batch, so that lines from concurrent
/// namespaces never interleave and nothing waits in a buffer if the process is killed next.
public actor StandardOutputAuditSink: AuditSink {
    public init() {}

    public func emit(_ lines: [String]) async {
        guard !lines.isEmpty else { return }
        var bytes = Array(lines.joined(separator: "\n").utf8)
        bytes.append(0x0A)
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { write(1, $0.baseAddress, $0.count) }
            if written < 0 {
                if errno == EINTR { continue }
                return
            }
            offset += written
        }
    }
}

import SecretSync

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Progress while a command waits, on standard error: on a terminal one line rewritten in
/// place, otherwise one plain line per change (for logs and CI).
final class ProgressLine: Sendable {
    let live: Bool

    /// Several clusters followed at once each say their progress on lines of their own.
    init() { live = isatty(STDERR_FILENO) == 1 && ClusterScope.current == nil }

    /// Shows `message` as the current state.
    func update(_ message: String) {
        if live {
            StandardError.write("\r\u{1B}[K" + message)
        } else {
            StandardError.writeLine(message)
        }
    }

    /// Ends the live line, so that what follows starts on a line of its own.
    func finish() {
        if live { StandardError.write("\r\u{1B}[K") }
    }
}

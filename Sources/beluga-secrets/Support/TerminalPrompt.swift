import Sealing

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A prompt on the terminal that does not echo what is typed.
///
/// Echo is switched off with termios and switched back on when the line is read, when the
/// process is interrupted (SIGINT, SIGTERM, SIGHUP, SIGQUIT), and at exit, so the terminal is
/// never left silent. The terminal's line discipline limits a typed line to about 4095 bytes;
/// longer values are given with `--from-file`.
enum TerminalPrompt {
    static func readSecretLine(prompt: String, maximumLength: Int) throws -> SecureBytes {
        guard tcgetattr(STDIN_FILENO, &savedTerminal.settings) == 0 else {
            throw CommandError("cannot read from the terminal: \(String(cString: strerror(errno)))")
        }
        var silent = savedTerminal.settings
        // No echo, but echo the newline so the next output starts on its own line.
        silent.c_lflag &= ~tcflag_t(ECHO)
        silent.c_lflag |= tcflag_t(ECHONL)
        installRestoringHandlers()
        savedTerminal.active = true
        defer { restoreTerminal() }
        guard tcsetattr(STDIN_FILENO, TCSAFLUSH, &silent) == 0 else {
            throw CommandError("cannot switch off echo on the terminal: \(String(cString: strerror(errno)))")
        }
        // Prompt only once echo is off, so nothing typed after the prompt can be echoed.
        StandardError.write(prompt)
        var failure: Int32 = 0
        let line = SecureBytes(capacity: maximumLength + 2) { buffer in
            var total = 0
            while total < buffer.count {
                let count = read(STDIN_FILENO, buffer.baseAddress.map { $0 + total }, 1)
                if count < 0 {
                    if errno == EINTR { continue }
                    failure = errno
                    return 0
                }
                if count == 0 || buffer[total] == 0x0a { break }
                total += 1
            }
            // Strip a carriage return some terminals send before the newline.
            if total > 0, buffer[total - 1] == 0x0d { total -= 1 }
            return total
        }
        if failure != 0 {
            throw CommandError("cannot read from the terminal: \(String(cString: strerror(failure)))")
        }
        return line
    }

    /// The settings to restore. Signal handlers cannot capture state, so it lives in a global;
    /// it is written only before the handlers are installed, on one thread.
    private struct SavedTerminal {
        var settings = termios()
        var active = false
    }
    nonisolated(unsafe) private static var savedTerminal = SavedTerminal()
    nonisolated(unsafe) private static var handlersInstalled = false

    private static func restoreTerminal() {
        guard savedTerminal.active else { return }
        savedTerminal.active = false
        _ = tcsetattr(STDIN_FILENO, TCSAFLUSH, &savedTerminal.settings)
    }

    private static func installRestoringHandlers() {
        guard !handlersInstalled else { return }
        handlersInstalled = true
        atexit { TerminalPrompt.restoreTerminal() }
        for signalNumber in [SIGINT, SIGTERM, SIGHUP, SIGQUIT] {
            signal(signalNumber) { received in
                // tcsetattr is async-signal-safe; then die of the same signal as intended.
                if TerminalPrompt.savedTerminal.active {
                    _ = tcsetattr(STDIN_FILENO, TCSAFLUSH, &TerminalPrompt.savedTerminal.settings)
                }
                signal(received, SIG_DFL)
                raise(received)
            }
        }
    }
}

import Foundation

/// A child process left running while a test acts (`kubectl get -w`, `kube-emulator`), whose
/// output can be awaited line by line.
public final class RunningProcess: @unchecked Sendable {
    private let process: Process
    private let collector = OutputCollector()
    /// Counts the output streams that reached end of file (2 when all output is collected).
    private let ends = EndCounter()

    /// Starts `executable` with a minimal environment plus `environment`.
    public init(_ executable: String, _ arguments: [String], environment: [String: String] = [:]) throws {
        process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = ChildEnvironment.make(adding: environment)
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        // One blocking reader thread per stream: Foundation's readabilityHandler can deliver the
        // end of file before the last data on a loaded machine, losing output.
        for (pipe, isStderr) in [(out, false), (err, true)] {
            let collector = self.collector
            let ends = self.ends
            let handle = pipe.fileHandleForReading
            let thread = Thread {
                readToEnd(fileDescriptor: handle.fileDescriptor) { collector.append($0, stderr: isStderr) }
                ends.finish()
            }
            thread.start()
        }
    }

    public var stdout: String { collector.snapshot().0 }
    public var stderr: String { collector.snapshot().1 }
    public var isRunning: Bool { process.isRunning }
    public var processIdentifier: Int32 { process.processIdentifier }

    /// Waits until standard output satisfies `condition`; false after `timeout` seconds.
    public func waitForOutput(timeout: Double = 60, _ condition: (String) -> Bool) async -> Bool {
        await poll(timeout: timeout, every: .milliseconds(20)) { condition(stdout) }
    }

    /// Waits until the process exits and all its output is collected; false after `timeout`
    /// seconds.
    public func waitForExit(timeout: Double = 20) async -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if !process.isRunning && ends.count >= 2 { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return !process.isRunning
    }

    public var exitStatus: Int32? { process.isRunning ? nil : process.terminationStatus }

    /// Sends `signal` (default SIGTERM).
    public func signal(_ value: Int32 = SIGTERM) {
        if process.isRunning { kill(process.processIdentifier, value) }
    }

    /// Stops the process (SIGTERM, then SIGKILL after a second).
    public func stop() async {
        signal(SIGTERM)
        if await !waitForExit(timeout: 1) { signal(SIGKILL) }
        _ = await waitForExit(timeout: 2)
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }
}

/// A thread-safe counter of finished output streams.
final class EndCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0

    func finish() {
        lock.lock()
        value += 1
        lock.unlock()
    }

    var count: Int {
        lock.lock()
        defer { lock.unlock() }
        return value
    }
}

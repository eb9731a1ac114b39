import Foundation

/// A child process whose standard output and standard error go to files, as a container
/// runtime keeps a container's log.
///
/// Nothing in the test process reads a pipe, so any number of them can run at once, be killed
/// with SIGKILL at any moment, and still leave every byte they wrote; the files can be handed to
/// other programs (`beluga-secrets audit --file`) as they are.
public final class LoggedProcess: @unchecked Sendable {
    public let stdoutPath: String
    public let stderrPath: String
    public let arguments: [String]
    private let process: Process

    /// Starts `executable` with a minimal environment (PATH, HOME, LANG, TMPDIR) plus
    /// `environment`; standard input is the file `stdinPath`, else empty. The output files are
    /// `<directory>/<name>.stdout` and `.stderr` (replaced if they exist).
    public init(
        _ executable: String, _ arguments: [String], environment: [String: String] = [:],
        stdinPath: String? = nil, directory: String, name: String
    ) throws {
        self.arguments = arguments
        stdoutPath = directory + "/" + name + ".stdout"
        stderrPath = directory + "/" + name + ".stderr"
        process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = ChildEnvironment.make(adding: environment)
        for path in [stdoutPath, stderrPath] {
            guard
                FileManager.default.createFile(
                    atPath: path, contents: nil, attributes: [.posixPermissions: 0o600])
            else { throw LoggedProcessError(description: "cannot create \(path)") }
        }
        guard let out = FileHandle(forWritingAtPath: stdoutPath),
            let err = FileHandle(forWritingAtPath: stderrPath)
        else { throw LoggedProcessError(description: "cannot open the output files in \(directory)") }
        let input: FileHandle
        if let stdinPath {
            guard let handle = FileHandle(forReadingAtPath: stdinPath) else {
                throw LoggedProcessError(description: "cannot read \(stdinPath)")
            }
            input = handle
        } else {
            input = FileHandle.nullDevice
        }
        process.standardOutput = out
        process.standardError = err
        process.standardInput = input
        defer {
            try? out.close()
            try? err.close()
            if stdinPath != nil { try? input.close() }
        }
        try process.run()
    }

    public var processIdentifier: Int32 { process.processIdentifier }
    public var isRunning: Bool { process.isRunning }
    /// The exit status, or nil while it runs (a signal's number when a signal ended it).
    public var exitStatus: Int32? { process.isRunning ? nil : process.terminationStatus }
    /// Whether a signal ended it.
    public var wasSignalled: Bool { !process.isRunning && process.terminationReason == .uncaughtSignal }

    /// What it wrote to standard output so far.
    public var stdout: String { Self.read(stdoutPath) }
    /// What it wrote to standard error so far.
    public var stderr: String { Self.read(stderrPath) }

    /// The finished process as a `ProcessResult` (status -1 while it still runs).
    public var result: ProcessResult {
        ProcessResult(status: exitStatus ?? -1, stdout: stdout, stderr: stderr)
    }

    /// Sends `signal` (default SIGTERM) while it runs.
    public func signal(_ value: Int32 = SIGTERM) {
        if process.isRunning { kill(process.processIdentifier, value) }
    }

    /// Waits until it has exited; false after `timeout` seconds.
    public func waitForExit(timeout: Double = 30) async -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning {
            if Date() >= deadline { return false }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return true
    }

    /// Waits until standard output satisfies `condition`; false after `timeout` seconds.
    public func waitForOutput(timeout: Double = 30, _ condition: (String) -> Bool) async -> Bool {
        await poll(timeout: timeout, every: .milliseconds(25)) { condition(stdout) }
    }

    /// Waits until standard error satisfies `condition`; false after `timeout` seconds.
    public func waitForErrorOutput(timeout: Double = 30, _ condition: (String) -> Bool) async -> Bool {
        await poll(timeout: timeout, every: .milliseconds(25)) { condition(stderr) }
    }

    /// SIGTERM, then SIGKILL when it has not exited within `grace` seconds.
    public func stop(grace: Double = 10) async {
        signal(SIGTERM)
        if await !waitForExit(timeout: grace) {
            signal(SIGKILL)
            _ = await waitForExit(timeout: 10)
        }
    }

    /// SIGKILL, and waits until the kernel has reaped it.
    public func killNow() async {
        signal(SIGKILL)
        _ = await waitForExit(timeout: 30)
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }

    private static func read(_ path: String) -> String {
        String(decoding: FileManager.default.contents(atPath: path) ?? Data(), as: UTF8.self)
    }
}

/// A `LoggedProcess` could not be started.
public struct LoggedProcessError: Error, CustomStringConvertible {
    public var description: String
    public init(description: String) { self.description = description }
}

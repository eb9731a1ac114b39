import Foundation

/// What a finished child process left behind.
public struct ProcessResult: Sendable {
    public var status: Int32
    public var stdout: String
    public var stderr: String
    /// Both streams, for leak checks.
    public var allOutput: String { stdout + stderr }
}

public struct ProcessTimeout: Error, CustomStringConvertible {
    public var command: String
    public var seconds: Double
    public var description: String { "\(command) did not finish within \(seconds) s" }
}

/// Runs programs the way a user would: argv, environment, standard input, and a time limit.
public enum ProcessRunner {
    /// Runs `executable` with `arguments`, feeding `stdin`, and waits at most `timeout` seconds
    /// (the process is killed after that and `ProcessTimeout` is thrown).
    ///
    /// The child gets `environment` on top of a minimal one (PATH, HOME, LANG), never the
    /// test runner's whole environment, so tests see exactly what they pass.
    public static func run(
        _ executable: String, _ arguments: [String], stdin: String? = nil,
        environment: [String: String] = [:], inheritEnvironment: Bool = false,
        currentDirectory: String? = nil, timeout: Double = 60
    ) throws -> ProcessResult {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        var env: [String: String] = [:]
        let parent = ProcessInfo.processInfo.environment
        if inheritEnvironment {
            env = parent
        } else {
            for key in ["PATH", "HOME", "LANG", "TMPDIR"] { env[key] = parent[key] }
        }
        env.merge(environment) { _, new in new }
        process.environment = env
        if let currentDirectory { process.currentDirectoryURL = URL(fileURLWithPath: currentDirectory) }

        let outPipe = Pipe()
        let errPipe = Pipe()
        let inPipe = Pipe()
        process.standardOutput = outPipe
        process.standardError = errPipe
        process.standardInput = inPipe

        let collector = OutputCollector()
        outPipe.fileHandleForReading.readabilityHandler = { handle in collector.append(handle.availableData, stderr: false) }
        errPipe.fileHandleForReading.readabilityHandler = { handle in collector.append(handle.availableData, stderr: true) }

        let done = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in done.signal() }
        try process.run()
        if let stdin { inPipe.fileHandleForWriting.write(Data(stdin.utf8)) }
        try? inPipe.fileHandleForWriting.close()

        if done.wait(timeout: .now() + timeout) == .timedOut {
            process.terminate()
            kill(process.processIdentifier, SIGKILL)
            _ = done.wait(timeout: .now() + 5)
            throw ProcessTimeout(command: ([executable] + arguments).joined(separator: " "), seconds: timeout)
        }
        outPipe.fileHandleForReading.readabilityHandler = nil
        errPipe.fileHandleForReading.readabilityHandler = nil
        collector.append(outPipe.fileHandleForReading.readDataToEndOfFile(), stderr: false)
        collector.append(errPipe.fileHandleForReading.readDataToEndOfFile(), stderr: true)
        let (out, err) = collector.snapshot()
        return ProcessResult(status: process.terminationStatus, stdout: out, stderr: err)
    }
}

final class OutputCollector: @unchecked Sendable {
    private let lock = NSLock()
    private var out = Data()
    private var err = Data()

    func append(_ data: Data, stderr: Bool) {
        lock.lock()
        defer { lock.unlock() }
        if stderr { err.append(data) } else { out.append(data) }
    }

    func snapshot() -> (String, String) {
        lock.lock()
        defer { lock.unlock() }
        return (String(decoding: out, as: UTF8.self), String(decoding: err, as: UTF8.self))
    }
}

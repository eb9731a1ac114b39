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
    /// The child gets `environment` on top of a minimal one (`ChildEnvironment`), never the
    /// test runner's whole environment, so tests see exactly what they pass.
    public static func run(
        _ executable: String, _ arguments: [String], stdin: String? = nil,
        environment: [String: String] = [:], inheritEnvironment: Bool = false,
        currentDirectory: String? = nil, timeout: Double = 60
    ) throws -> ProcessResult {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = ChildEnvironment.make(adding: environment, inheritAll: inheritEnvironment)
        if let currentDirectory { process.currentDirectoryURL = URL(fileURLWithPath: currentDirectory) }

        let outPipe = Pipe()
        let errPipe = Pipe()
        let inPipe = Pipe()
        process.standardOutput = outPipe
        process.standardError = errPipe
        process.standardInput = inPipe

        // One blocking reader per stream, each appending its stream whole at end of file: chunks
        // can neither be lost nor reordered, however loaded the machine is.
        let collector = OutputCollector()
        let readers = DispatchGroup()
        for (pipe, isError) in [(outPipe, false), (errPipe, true)] {
            readers.enter()
            let handle = pipe.fileHandleForReading
            Thread.detachNewThread {
                collector.append(readToEnd(fileDescriptor: handle.fileDescriptor), stderr: isError)
                readers.leave()
            }
        }

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
        // A grandchild that keeps the streams open must not hang the test.
        _ = readers.wait(timeout: .now() + 10)
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

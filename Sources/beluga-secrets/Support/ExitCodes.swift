import ArgumentParser
import Sealing

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The documented exit codes of every command.
enum ExitStatus: Int32, Sendable {
    case ok = 0
    /// Usage or local input: bad flags, unreadable file, insecure key file.
    case usage = 1
    case notFound = 2
    /// A conflict that retries could not resolve.
    case conflict = 3
    /// Denied by the cluster (401/403).
    case denied = 4
    /// Cluster unreachable: connection error, timeout.
    case unreachable = 5
    /// Rejected by validation or by the agent: bad envelope, bad value, invalid name (422).
    case rejected = 6
}

extension ExitStatus {
    /// How severe a cluster's outcome is when a command ran on several: the command exits with
    /// the most severe. A refusal that trying again will not change comes before one it may:
    /// 6 rejected (a changed agent identity among them), 4 denied, 1 usage, 3 conflict,
    /// 2 not found, 5 unreachable or timed out, then 0.
    var severity: Int {
        switch self {
        case .rejected: return 6
        case .denied: return 5
        case .usage: return 4
        case .conflict: return 3
        case .notFound: return 2
        case .unreachable: return 1
        case .ok: return 0
        }
    }

    /// The exit status of a failure: its documented one, else usage.
    static func of(_ error: any Error) -> ExitStatus {
        (error as? any ReportableError)?.exitStatus ?? .usage
    }

    /// The one-line message of a failure.
    static func message(of error: any Error) -> String {
        if let reportable = error as? any ReportableError { return reportable.message }
        return String(describing: error)
    }
}

/// An error the CLI reports as one line with a documented exit code.
protocol ReportableError: Error {
    /// One line: what is wrong and what to do. Never a secret.
    var message: String { get }
    var exitStatus: ExitStatus { get }
}

/// A failure of the CLI itself (as opposed to a library's typed error).
struct CommandError: ReportableError {
    var message: String
    var exitStatus: ExitStatus

    init(_ message: String, _ exitStatus: ExitStatus = .usage) {
        self.message = message
        self.exitStatus = exitStatus
    }
}

extension SealingError: ReportableError {
    var message: String { description }

    var exitStatus: ExitStatus {
        switch self {
        case .notAnEnvelope, .unsupportedEnvelopeVersion, .malformedEnvelope, .unknownKeyID, .cannotOpen,
            .malformedPayload, .bindingMismatch, .payloadSignerMismatch, .unsignedEnvelope, .unknownSigner,
            .badSignature, .invalidKeyName, .emptyValue,
            .valueTooLarge:
            return .rejected
        case .invalidTimestamp, .invalidVersion, .invalidKey, .keyFileUnreadable, .insecureKeyFile,
            .keyFileMalformed, .wrongKeyLength, .keyFileExists, .keyFileWriteFailed:
            return .usage
        }
    }
}

/// Prints a failure and ends the process.
enum ErrorReport {
    /// `arguments`: the command line as parsed (global options moved after the command), so
    /// that the hint names the command that was run.
    static func terminate(
        with error: any Error, command: any ParsableCommand.Type,
        arguments: [String] = Array(CommandLine.arguments.dropFirst())
    ) -> Never {
        if let reportable = error as? any ReportableError {
            StandardError.writeLine("error: " + oneLine(reportable.message))
            exit(reportable.exitStatus.rawValue)
        }
        if let code = error as? ExitCode {
            exit(code.rawValue)
        }
        // Help, --version and the like: argument-parser prints them and exits with 0.
        if command.exitCode(for: error) == .success {
            command.exit(withError: error)
        }
        // A usage error found by the parser: one line, and where to read more.
        let text = oneLine(command.message(for: error))
        StandardError.writeLine("error: \(text) (see '\(invokedCommand(command, arguments)) --help')")
        exit(ExitStatus.usage.rawValue)
    }

    /// `beluga-secrets seal` for `beluga-secrets seal KEY --bad`: the deepest command named on
    /// the command line, so the hint points at the right help.
    private static func invokedCommand(_ root: any ParsableCommand.Type, _ arguments: [String]) -> String {
        var names = [root._commandName]
        var current = root
        for argument in arguments {
            guard let next = current.configuration.subcommands.first(where: { $0._commandName == argument })
            else {
                break
            }
            names.append(argument)
            current = next
        }
        return names.joined(separator: " ")
    }

    /// The first line, without argument-parser's own `Error: ` prefix.
    private static func oneLine(_ text: String) -> String {
        var line = text.split(separator: "\n", omittingEmptySubsequences: true).first.map(String.init) ?? text
        if line.hasPrefix("Error: ") { line.removeFirst("Error: ".count) }
        return line
    }
}

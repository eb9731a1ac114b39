import Foundation
import JSONValue
import TimeFormat

#if canImport(Glibc)
    import Glibc
#endif

/// A credential printed by an exec plugin (`ExecCredential.status`).
struct ExecCredential: Sendable {
    var token: Sensitive<String>?
    var clientCertificate: [UInt8]?
    var clientKey: Sensitive<[UInt8]>?
    /// `nil`: valid until the server refuses it.
    var expiration: UnixTime?

    func isValid(at now: UnixTime) -> Bool { expiration.map { now < $0 } ?? true }
}

/// Runs an exec credential plugin (`client.authentication.k8s.io/v1` or `v1beta1`) as kubectl
/// does, and keeps its credential until `expirationTimestamp` or until the server refuses it.
/// Concurrent callers share one run of the plugin.
actor ExecCredentialProvider {
    let configuration: ExecPluginConfiguration
    /// `spec.cluster` for `KUBERNETES_EXEC_INFO` when `provideClusterInfo` is set.
    let clusterInfo: JSON?
    /// `user "u" (in /path)`, for messages.
    let userLabel: String
    let timeout: Duration
    private var cached: ExecCredential?
    private var running: Task<Result<ExecCredential, KubeError>, Never>?
    private(set) var runs = 0

    init(configuration: ExecPluginConfiguration, clusterInfo: JSON?, userLabel: String, timeout: Duration) {
        self.configuration = configuration
        self.clusterInfo = clusterInfo
        self.userLabel = userLabel
        self.timeout = timeout
    }

    func credential() async throws(KubeError) -> ExecCredential {
        if let cached, cached.isValid(at: .now()) { return cached }
        let task: Task<Result<ExecCredential, KubeError>, Never>
        if let running {
            task = running
        } else {
            let configuration = configuration
            let clusterInfo = clusterInfo
            let userLabel = userLabel
            let timeout = timeout
            task = Task {
                await TransferThread.run(name: "kubeapi-exec-plugin") {
                    ExecPluginRun.run(
                        configuration, clusterInfo: clusterInfo, userLabel: userLabel, timeout: timeout)
                }
            }
            running = task
            runs += 1
        }
        let result = await task.value
        if running == task { running = nil }
        let credential = try result.get()
        cached = credential
        return credential
    }

    /// Drops the cached credential after the server refused it (401): the next request runs
    /// the plugin again.
    func invalidate() { cached = nil }
}

/// One blocking run of a plugin, on a dedicated thread.
enum ExecPluginRun {
    static func run(
        _ configuration: ExecPluginConfiguration, clusterInfo: JSON?, userLabel: String, timeout: Duration
    ) -> Result<ExecCredential, KubeError> {
        let name = "exec plugin \"\(configuration.command)\" of \(userLabel)"
        let hint =
            configuration.installHint.map { " \($0.trimmingCharacters(in: .whitespacesAndNewlines))" } ?? ""
        guard let executable = resolve(configuration.command) else {
            let where_ =
                configuration.command.contains("/")
                ? "does not exist or is not executable" : "was not found on PATH"
            return .failure(KubeError(.configuration, "\(name) \(where_).\(hint)"))
        }

        let stdinIsTerminal = isatty(STDIN_FILENO) == 1
        let interactive: Bool
        switch configuration.interactiveMode {
        case .never: interactive = false
        case .ifAvailable: interactive = stdinIsTerminal
        case .always:
            guard stdinIsTerminal else {
                return .failure(
                    KubeError(
                        .configuration,
                        "\(name) needs a terminal (interactiveMode Always) but standard input is not one: run it in a terminal first, or set interactiveMode to IfAvailable"
                    ))
            }
            interactive = true
        }

        var execInfo: JSON = [
            "apiVersion": .string(configuration.apiVersion), "kind": "ExecCredential",
            "spec": ["interactive": .bool(interactive)],
        ]
        if configuration.provideClusterInfo, let clusterInfo {
            execInfo[path: "spec", "cluster"] = clusterInfo
        }
        var environment = ProcessInfo.processInfo.environment
        for entry in configuration.env { environment[entry.name] = entry.value }
        environment["KUBERNETES_EXEC_INFO"] = execInfo.jsonText

        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = configuration.args
        process.environment = environment
        let stdout = Pipe()
        let stderr = Pipe()
        process.standardOutput = stdout
        process.standardError = interactive ? FileHandle.standardError : stderr
        process.standardInput = interactive ? FileHandle.standardInput : FileHandle.nullDevice
        // Plain blocking reads on threads of their own (FileHandle's dispatch-based
        // readabilityHandler races with closing descriptors when many processes run at once).
        let output = PluginOutput()
        output.read(stdout, error: false)
        if !interactive { output.read(stderr, error: true) }
        let finished = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in finished.signal() }
        do {
            try process.run()
        } catch {
            return .failure(
                KubeError(.configuration, "\(name) could not be started: \(error.localizedDescription)"))
        }
        // A plugin that prompts the user gets much longer than one that runs unattended.
        let limit = interactive ? max(timeout, .seconds(600)) : timeout
        if finished.wait(timeout: .now() + limit.inSeconds) == .timedOut {
            kill(process.processIdentifier, SIGKILL)
            _ = finished.wait(timeout: .now() + 5)
            output.waitForEnd(timeout: 1)
            return .failure(
                KubeError(
                    .configuration,
                    "\(name) did not finish within \(Int(limit.inSeconds)) s and was stopped: check that it can run without a prompt"
                ))
        }
        // Let the pipes drain (a grandchild may hold them open: do not wait for it for long).
        output.waitForEnd(timeout: 5)
        let (bytes, errorText) = output.snapshot()

        if process.terminationReason == .uncaughtSignal {
            return .failure(
                KubeError(.configuration, "\(name) was killed by signal \(process.terminationStatus)"))
        }
        if process.terminationStatus != 0 {
            let excerpt = lastLine(errorText).map { ": \($0)" } ?? ""
            return .failure(
                KubeError(
                    .configuration, "\(name) failed with exit status \(process.terminationStatus)\(excerpt)"))
        }
        return parse(bytes, configuration: configuration, name: name)
    }

    static func parse(_ bytes: [UInt8], configuration: ExecPluginConfiguration, name: String) -> Result<
        ExecCredential, KubeError
    > {
        let garbage = KubeError(
            .configuration,
            "\(name) printed something that is not an ExecCredential (expected JSON with apiVersion \(configuration.apiVersion), kind ExecCredential and status.token)"
        )
        guard let document = try? JSON(parsing: bytes), document.objectValue != nil else {
            return .failure(garbage)
        }
        guard document["kind"]?.stringValue == "ExecCredential" else { return .failure(garbage) }
        guard let apiVersion = document["apiVersion"]?.stringValue, apiVersion == configuration.apiVersion
        else {
            return .failure(
                KubeError(
                    .configuration,
                    "\(name) returned apiVersion \"\(document["apiVersion"]?.stringValue ?? "")\" but the kubeconfig asks for \(configuration.apiVersion)"
                ))
        }
        guard let status = document["status"], status.objectValue != nil else {
            return .failure(KubeError(.configuration, "\(name) returned an ExecCredential without status"))
        }
        var credential = ExecCredential()
        if let token = status["token"]?.stringValue, !token.isEmpty { credential.token = Sensitive(token) }
        if let certificate = status["clientCertificateData"]?.stringValue, !certificate.isEmpty {
            credential.clientCertificate = Array(certificate.utf8)
        }
        if let key = status["clientKeyData"]?.stringValue, !key.isEmpty {
            credential.clientKey = Sensitive(Array(key.utf8))
        }
        if (credential.clientCertificate == nil) != (credential.clientKey == nil) {
            return .failure(
                KubeError(
                    .configuration,
                    "\(name) returned a client certificate without its key, or a key without its certificate")
            )
        }
        if credential.token == nil && credential.clientCertificate == nil {
            return .failure(
                KubeError(.configuration, "\(name) returned neither status.token nor a client certificate"))
        }
        if let text = status["expirationTimestamp"]?.stringValue, !text.isEmpty {
            guard let time = RFC3339.parse(text) else {
                return .failure(
                    KubeError(
                        .configuration,
                        "\(name) returned an expirationTimestamp that is not an RFC 3339 time: \(text)"))
            }
            credential.expiration = time
        }
        return .success(credential)
    }

    /// The plugin's path: as given when it contains a slash, else the first match on `PATH`.
    static func resolve(_ command: String) -> String? {
        if command.contains("/") { return access(command, X_OK) == 0 ? command : nil }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for folder in path.split(separator: ":") where !folder.isEmpty {
            let candidate = "\(folder)/\(command)"
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: candidate, isDirectory: &isDirectory),
                !isDirectory.boolValue,
                access(candidate, X_OK) == 0
            {
                return candidate
            }
        }
        return nil
    }

    static func lastLine(_ text: String) -> String? {
        guard
            let line = text.split(whereSeparator: \.isNewline).last(where: { !$0.allSatisfy(\.isWhitespace) })
        else {
            return nil
        }
        let trimmed = line.trimmingCharacters(in: .whitespaces)
        return trimmed.count > 300 ? String(trimmed.prefix(300)) + "…" : trimmed
    }
}

/// Collects a plugin's standard output (at most 1 MiB) and standard error (64 KiB), each read
/// until end of file on a thread of its own.
final class PluginOutput: @unchecked Sendable {
    private let lock = NSLock()
    private var stdout: [UInt8] = []
    private var stderr: [UInt8] = []
    /// Signalled once by each reader at the end of its stream.
    private let streamEnded = DispatchSemaphore(value: 0)
    private var readers = 0

    /// Reads `pipe` to its end. The thread holds the pipe, so its descriptor stays open while
    /// it reads (a grandchild of the plugin may keep the write end open after the plugin ends).
    func read(_ pipe: Pipe, error: Bool) {
        lock.lock()
        readers += 1
        lock.unlock()
        let thread = Thread { [self] in
            let descriptor = pipe.fileHandleForReading.fileDescriptor
            var buffer = [UInt8](repeating: 0, count: 16384)
            while true {
                let count = buffer.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
                if count < 0 && errno == EINTR { continue }
                if count <= 0 { break }
                append(buffer[0..<count], error: error)
            }
            streamEnded.signal()
        }
        thread.name = "kubeapi-exec-output"
        thread.start()
    }

    private func append(_ bytes: ArraySlice<UInt8>, error: Bool) {
        lock.lock()
        defer { lock.unlock() }
        if error {
            if stderr.count < 64 << 10 { stderr.append(contentsOf: bytes) }
        } else if stdout.count < 1 << 20 {
            stdout.append(contentsOf: bytes)
        }
    }

    /// Waits until every stream read has ended (standard error too: its last line explains a
    /// failure), or `timeout` seconds in all.
    func waitForEnd(timeout: Double) {
        lock.lock()
        let count = readers
        lock.unlock()
        let deadline = DispatchTime.now() + timeout
        for _ in 0..<count {
            if streamEnded.wait(timeout: deadline) == .timedOut { return }
        }
    }

    func snapshot() -> ([UInt8], String) {
        lock.lock()
        defer { lock.unlock() }
        return (stdout, String(decoding: stderr, as: UTF8.self))
    }
}

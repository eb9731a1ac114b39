import JSONValue
import TimeFormat

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
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
            configuration.installHint.map { " \($0.trimmingWhitespace())" } ?? ""
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
        // Like kubectl: this process's environment, the kubeconfig's `env` over it, and the
        // request for a credential. (The CLI removes a variable it read a value from first.)
        var overridden = Set(configuration.env.map(\.name))
        overridden.insert("KUBERNETES_EXEC_INFO")
        var environment = ProcessEnvironment.entries.filter { entry in
            !overridden.contains(String(entry.prefix { $0 != "=" }))
        }
        environment += configuration.env.map { "\($0.name)=\($0.value)" }
        environment.append("KUBERNETES_EXEC_INFO=\(execInfo.jsonText)")

        // A plugin that prompts the user gets much longer than one that runs unattended.
        let limit = interactive ? max(timeout, .seconds(600)) : timeout
        let child = ChildProcess(
            executable: executable, arguments: configuration.args, environment: environment,
            interactive: interactive)
        let outcome: ChildProcess.Outcome
        // Standard error is drained but not kept: what a plugin prints is never repeated (it may
        // hold a token or a one-time code), so its diagnostics are for the user to see by
        // running it.
        switch child.run(timeout: limit, outputLimit: 1 << 20, errorLimit: 0) {
        case .success(let ended): outcome = ended
        case .failure(let failure):
            return .failure(KubeError(.configuration, "\(name) could not be started: \(failure.description)"))
        }
        switch outcome.termination {
        case .exited(0):
            return parse(outcome.output, configuration: configuration, name: name)
        case .exited(let status):
            return .failure(
                KubeError(
                    .configuration,
                    "\(name) failed with exit status \(status): run it yourself to see its message (its output is not shown here)"
                ))
        case .signalled(let signal):
            return .failure(KubeError(.configuration, "\(name) was killed by signal \(signal)"))
        case .timedOut:
            return .failure(
                KubeError(
                    .configuration,
                    "\(name) did not finish within \(Int(limit.inSeconds)) s and was stopped: check that it can run without a prompt"
                ))
        case .unknown:
            return .failure(
                KubeError(
                    .configuration,
                    "\(name) ended, but its exit status could not be read (is SIGCHLD ignored in this process?)"
                ))
        }
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
                    "\(name) returned an ExecCredential of another apiVersion than the kubeconfig asks for (\(configuration.apiVersion)): make the two agree"
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
                        "\(name) returned an expirationTimestamp that is not an RFC 3339 time"))
            }
            credential.expiration = time
        }
        return .success(credential)
    }

    /// The plugin's path: as given when it contains a slash, else the first match on `PATH`.
    static func resolve(_ command: String) -> String? {
        if command.contains("/") { return access(command, X_OK) == 0 ? command : nil }
        let path = ProcessEnvironment.value("PATH") ?? "/usr/local/bin:/usr/bin:/bin"
        for folder in path.split(separator: ":") where !folder.isEmpty {
            let candidate = "\(folder)/\(command)"
            if FileStatus(candidate)?.isRegularFile == true, access(candidate, X_OK) == 0 { return candidate }
        }
        return nil
    }
}

import Foundation
import JSONValue
import KubeEmulator

/// One in-process `KubeEmulator` for a test: a private temporary folder, an admin kubeconfig in
/// it, and a `kubectl` runner that uses that kubeconfig (and a private HOME, so that kubectl's
/// discovery cache never leaks between tests).
///
/// ```swift
/// try await withEmulator { fixture in
///     let result = try await fixture.kubectl(["get", "namespaces"])
/// }
/// ```
public final class EmulatorFixture: Sendable {
    public let emulator: KubeEmulator
    public let directory: TemporaryDirectory
    /// The admin kubeconfig (namespace `default`).
    public let kubeconfigPath: String

    private init(emulator: KubeEmulator, directory: TemporaryDirectory, kubeconfigPath: String) {
        self.emulator = emulator
        self.directory = directory
        self.kubeconfigPath = kubeconfigPath
    }

    /// Starts an emulator (rollouts take 50 ms unless the options say otherwise).
    public static func start(
        _ options: KubeEmulator.Options = KubeEmulator.Options(rolloutDelay: .milliseconds(50))
    )
        async throws -> EmulatorFixture
    {
        let directory = try TemporaryDirectory(prefix: "kube-emulator")
        let emulator = try await KubeEmulator.start(options)
        let path = directory.file("kubeconfig")
        try emulator.writeKubeconfig(to: path)
        return EmulatorFixture(emulator: emulator, directory: directory, kubeconfigPath: path)
    }

    public func stop() async { await emulator.stop() }

    /// Writes a kubeconfig for `token` (a policy user's) and returns its path.
    public func kubeconfig(user: String, token: String, namespace: String = "default") throws -> String {
        let path = directory.file("kubeconfig-\(user)")
        try emulator.writeKubeconfig(to: path, user: user, token: token, namespace: namespace)
        return path
    }

    /// Writes a kubeconfig with a client certificate for `user` in `groups` (TLS emulators).
    public func kubeconfig(certificateUser user: String, groups: [String] = [], namespace: String = "default")
        throws
        -> String
    {
        let path = directory.file("kubeconfig-cert-\(user)")
        let certificate = try emulator.issueClientCertificate(user: user, groups: groups)
        try emulator.writeKubeconfig(
            to: path, user: user, clientCertificate: certificate, namespace: namespace)
        return path
    }

    /// Runs the installed `kubectl` with `arguments` against this emulator (admin kubeconfig
    /// unless `kubeconfig` says otherwise). Runs off the Swift concurrency pool, so the
    /// in-process server keeps answering while kubectl waits.
    public func kubectl(
        _ arguments: [String], stdin: String? = nil, kubeconfig: String? = nil, timeout: Double = 60
    ) async throws -> ProcessResult {
        let executable = try EmulatorFixture.kubectlPath()
        let environment = ["HOME": directory.path, "KUBECONFIG": kubeconfig ?? kubeconfigPath]
        return try await ProcessRunner.runDetached(
            executable, arguments, stdin: stdin, environment: environment, timeout: timeout)
    }

    /// The path of the `kubectl` on PATH.
    public static func kubectlPath() throws -> String {
        try ProcessRunner.which("kubectl")
    }
}

/// The executable was not found on PATH.
public struct ExecutableNotFound: Error, CustomStringConvertible {
    public var name: String
    public var description: String { "\(name) is not on PATH; install it to run this test" }
}

extension ProcessRunner {
    /// `run` on a dispatch thread, for async tests (blocking the cooperative pool would stall
    /// in-process servers).
    public static func runDetached(
        _ executable: String, _ arguments: [String], stdin: String? = nil,
        environment: [String: String] = [:],
        timeout: Double = 60
    ) async throws -> ProcessResult {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                do {
                    continuation.resume(
                        returning: try run(
                            executable, arguments, stdin: stdin, environment: environment, timeout: timeout))
                } catch {
                    continuation.resume(throwing: error)
                }
            }
        }
    }

    /// The absolute path of `name` found on PATH.
    public static func which(_ name: String) throws -> String {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for directory in path.split(separator: ":") {
            let candidate = "\(directory)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        throw ExecutableNotFound(name: name)
    }
}

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// A plain HTTP answer, for tests that call the API directly.
public struct HTTPAnswer: Sendable {
    public var status: Int
    public var headers: [String: String]
    public var body: [UInt8]
    public var text: String { String(decoding: body, as: UTF8.self) }
    /// The body parsed as JSON (`.null` when it is not JSON).
    public var json: JSON { (try? JSON(parsing: body)) ?? .null }
}

extension EmulatorFixture {
    /// One HTTP request to the emulator (plain-HTTP emulators), with the admin token unless
    /// `token` is given (pass "" for none).
    public func request(
        _ method: String, _ path: String, body: JSON? = nil, contentType: String = "application/json",
        token: String? = nil, headers: [String: String] = [:]
    ) async throws -> HTTPAnswer {
        try await request(
            method, path, rawBody: body.map { $0.serialized() }, contentType: contentType, token: token,
            headers: headers)
    }

    /// One HTTP request with a body of any encoding (protobuf, YAML).
    public func request(
        _ method: String, _ path: String, rawBody: [UInt8]?, contentType: String, token: String? = nil,
        headers: [String: String] = [:]
    ) async throws -> HTTPAnswer {
        guard let url = URL(string: emulator.url + path) else { throw ExecutableNotFound(name: path) }
        var request = URLRequest(url: url)
        request.httpMethod = method
        let bearer = token ?? emulator.adminToken
        if !bearer.isEmpty { request.setValue("Bearer \(bearer)", forHTTPHeaderField: "Authorization") }
        if let rawBody {
            request.httpBody = Data(rawBody)
            request.setValue(contentType, forHTTPHeaderField: "Content-Type")
        }
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        let (data, response) = try await URLSession.shared.data(for: request)
        let http = response as? HTTPURLResponse
        var answerHeaders: [String: String] = [:]
        for (name, value) in http?.allHeaderFields ?? [:] {
            answerHeaders[String(describing: name).lowercased()] = String(describing: value)
        }
        return HTTPAnswer(status: http?.statusCode ?? 0, headers: answerHeaders, body: Array(data))
    }
}

import ArgumentParser
import Dispatch
import Foundation
import KubeEmulator

/// `kube-emulator`: runs the in-memory Kubernetes API server until SIGINT or SIGTERM.
@main
struct KubeEmulatorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kube-emulator",
        abstract: "Serve an in-memory Kubernetes API on 127.0.0.1 for tests and demonstrations.",
        discussion: """
            Prints "listening on URL" as its first line, then serves until SIGINT or SIGTERM. kubectl \
            works against it with the written kubeconfig and no extra flags.

            POLICY FILE (--policy, YAML): users, their tokens and what they may do. The admin token \
            (--token) may do everything; every other user needs rules. RBAC semantics apply: \
            resourceNames never match create, and match list/watch only with \
            fieldSelector=metadata.name=<name>; Roles and RoleBindings created in the cluster are \
            enforced too.

              users:
                - name: alice                  # User "alice" in Status messages
                  token: alice-token           # bearer token (omit for client-certificate users)
                  groups: [developers]
                  rules:
                    - verbs: [get, list, watch]
                      apiGroups: [""]          # "" = core (the default), "*" = any
                      resources: [secrets, pods/log]
                      resourceNames: [app-secrets]   # optional
                      namespaces: [default]    # optional; absent = all namespaces and cluster scope
                - serviceAccount: beluga/agent # user system:serviceaccount:beluga:agent
                  token: agent-token
                  rules: [...]
                - name: ci
                  token: ci-token
                  admin: true                  # group system:masters: may do everything
              groups:
                - name: developers
                  rules:
                    - verbs: [get]
                      nonResourceURLs: ["/healthz"]

            ADMIN ENDPOINTS (admin token only): GET|PUT|DELETE /_emulator/faults (fault plan JSON: \
            latencyMilliseconds, errors[{code, share, count, retryAfterSeconds, match{verbs, \
            resources, names}}], hang{...}, dropWatchAfterEvents, dropWatchAfterSeconds, \
            goAwayAfterWatchEvents); GET|DELETE /_emulator/requests (request counts); \
            GET /_emulator/protocols (requests by HTTP version); GET /_emulator/rollouts?namespace=N&name=D; \
            POST /_emulator/podlogs {namespace, pod, container, path}; POST /_emulator/compact; \
            GET|PUT|POST|DELETE /_emulator/images (images that are missing or crash: POST \
            {image, behaviour: runs|missing|crashes, exitCode, log}).

            WORKLOADS: Deployments roll out through ReplicaSets whose pods a simulated kubelet \
            runs. Pods wait in CreateContainerConfigError while a Secret, ConfigMap or key their \
            environment needs is missing (unless optional), in ContainerCreating while a volume's \
            is, in ErrImagePull/ImagePullBackOff for a --missing-image and in CrashLoopBackOff for a \
            --crashing-image; they recover when the cause goes away. A rollout that cannot progress \
            ends in ProgressDeadlineExceeded after the Deployment's progressDeadlineSeconds, on a \
            clock --time-scale times faster than real time.
            """)

    @Option(help: "Port on 127.0.0.1; 0 picks a free one.")
    var port: Int = 0

    @Option(
        name: .customLong("kubeconfig-out"), help: "Write a kubeconfig for the admin token here (mode 0600).")
    var kubeconfigOut: String?

    @Option(help: "The admin bearer token (default: a random one, written to the kubeconfig).")
    var token: String?

    @Option(
        name: .customLong("token-file"),
        help: "Read the admin bearer token from this file (keeps it out of the process list).")
    var tokenFile: String?

    @Option(help: "A policy file (YAML) with users, tokens and rules; see below.")
    var policy: String?

    @Flag(
        help: "Serve HTTPS with a certificate from a CA generated at start (the kubeconfig carries the CA).")
    var tls = false

    @Option(
        name: .customLong("anonymous-http"),
        help:
            "Plain-HTTP requests without credentials: admin (kubectl sends none over HTTP) or unauthorized (401)."
    )
    var anonymousHTTP: KubeEmulator.AnonymousAccess = .admin

    @Option(
        name: .customLong("rollout-delay"),
        help: "How long a pod takes to start its containers (each step of a rollout), e.g. 200ms, 2s.")
    var rolloutDelay: String = "200ms"

    @Option(
        name: .customLong("time-scale"),
        help: "Emulated seconds per real second for kubelet back-offs and progress deadlines (e.g. 60).")
    var timeScale: Double = 1

    @Option(
        name: .customLong("missing-image"),
        help: "An image its registry does not have: pulls fail (ErrImagePull). Repeatable.")
    var missingImages: [String] = []

    @Option(
        name: .customLong("crashing-image"),
        help: "An image whose containers exit with status 1 at once (CrashLoopBackOff). Repeatable.")
    var crashingImages: [String] = []

    @Option(name: .customLong("watch-history"), help: "Changes kept for resuming watches (older: 410 Gone).")
    var watchHistory: Int = 10_000

    @Option(name: .customLong("bookmark-interval"), help: "Interval of watch bookmarks, e.g. 60s.")
    var bookmarkInterval: String = "60s"

    @Option(
        help: ArgumentHelp(
            "The Kubernetes \(OpenAPISchemas.kubernetesVersion) schemas: kubernetes-validate's _definitions.json, its folder, or a Python venv with kubernetes-validate.",
            discussion:
                "Default: $\(OpenAPISchemas.environmentVariable), else ./.venv; without schemas, field types and unknown fields are not checked."
        ))
    var schemas: String?

    @Option(
        name: .customLong("default-field-validation"),
        help:
            "What writes without fieldValidation get: Strict (default: unknown fields are refused), Warn (the real server's default), Ignore."
    )
    var defaultFieldValidation: FieldValidation = .strict

    func validate() throws {
        if token != nil && tokenFile != nil {
            throw ValidationError("give --token or --token-file, not both")
        }
        guard (0...65535).contains(port) else { throw ValidationError("--port must be between 0 and 65535") }
        guard Self.duration(rolloutDelay) != nil else {
            throw ValidationError(
                "--rollout-delay: \"\(rolloutDelay)\" is not a duration (use e.g. 200ms, 2s, 1m)")
        }
        guard Self.duration(bookmarkInterval) != nil else {
            throw ValidationError(
                "--bookmark-interval: \"\(bookmarkInterval)\" is not a duration (use e.g. 60s)")
        }
        guard watchHistory > 0 else { throw ValidationError("--watch-history must be at least 1") }
        guard timeScale > 0, timeScale.isFinite else {
            throw ValidationError("--time-scale must be a positive number (1 is real time)")
        }
    }

    func run() async throws {
        var accessPolicy = AccessPolicy()
        if let policy {
            do {
                accessPolicy = try AccessPolicy.load(path: policy)
            } catch {
                throw ValidationError("--policy \(policy): \(error.description)")
            }
        }
        var adminToken = token
        if let tokenFile {
            guard let data = FileManager.default.contents(atPath: tokenFile) else {
                throw ValidationError("--token-file \(tokenFile): cannot read the file")
            }
            let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            guard !text.isEmpty else { throw ValidationError("--token-file \(tokenFile): the file is empty") }
            adminToken = text
        }
        let schemaSource: OpenAPISchemas?
        if let schemas {
            do {
                schemaSource = try OpenAPISchemas.load(path: schemas)
            } catch {
                throw ValidationError("--schemas: \(error.description)")
            }
        } else {
            switch OpenAPISchemas.located() {
            case .success(let located):
                schemaSource = located
            case .failure(let problem):
                // A machine without the test venv (`make run` on a fresh clone): the emulator
                // still serves, with the kinds' own rules only.
                Self.warn(
                    "kube-emulator: \(problem.description); field types and unknown fields are not checked")
                schemaSource = nil
            }
        }
        let emulator = try await KubeEmulator.start(
            KubeEmulator.Options(
                port: port, token: adminToken, policy: accessPolicy, tls: tls,
                rolloutDelay: Self.duration(rolloutDelay) ?? .milliseconds(200),
                watchHistoryLimit: watchHistory,
                bookmarkInterval: Self.duration(bookmarkInterval) ?? .seconds(60),
                anonymousHTTP: anonymousHTTP, schemas: schemaSource,
                defaultFieldValidation: defaultFieldValidation, timeScale: timeScale,
                images: Dictionary(
                    missingImages.map { ($0, ImageBehaviour.missing) }
                        + crashingImages.map { ($0, ImageBehaviour.crashes(exitCode: 1, log: [])) },
                    uniquingKeysWith: { _, last in last })))
        // The kubeconfig exists before the first line announces the server, so whoever waits for
        // that line can use it at once.
        if let kubeconfigOut { try emulator.writeKubeconfig(to: kubeconfigOut) }
        Self.say("listening on \(emulator.url)")
        if let kubeconfigOut {
            Self.say("kubeconfig written to \(kubeconfigOut)")
        }
        let signal = await Self.waitForTerminationSignal()
        Self.say("stopping (signal \(signal))")
        await emulator.stop()
    }

    /// Writes a line to standard output at once (no buffering: callers read the first line).
    static func say(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }

    static func warn(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    /// `200ms`, `2s`, `1m`, or a bare number of seconds.
    static func duration(_ text: String) -> Duration? {
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60)]
        for (suffix, scale) in units where text.hasSuffix(suffix) {
            let number = text.dropLast(suffix.count)
            if let value = Double(number), value >= 0, !(suffix == "s" && number.hasSuffix("m")) {
                return .milliseconds(Int(value * scale * 1000))
            }
        }
        if let value = Double(text), value >= 0 { return .milliseconds(Int(value * 1000)) }
        return nil
    }

    static func waitForTerminationSignal() async -> Int32 {
        await withCheckedContinuation { continuation in
            let fired = SignalLatch(continuation)
            for value in [SIGINT, SIGTERM] {
                signal(value, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: value, queue: .global())
                source.setEventHandler { fired.fire(value) }
                source.resume()
                SignalLatch.keep(source)
            }
        }
    }
}

extension KubeEmulator.AnonymousAccess: ExpressibleByArgument {}
extension FieldValidation: ExpressibleByArgument {}

/// Resumes a continuation once, from whichever signal comes first.
final class SignalLatch: @unchecked Sendable {
    private let lock = NSLock()
    private var continuation: CheckedContinuation<Int32, Never>?
    nonisolated(unsafe) private static var sources: [any DispatchSourceSignal] = []

    init(_ continuation: CheckedContinuation<Int32, Never>) { self.continuation = continuation }

    func fire(_ signal: Int32) {
        lock.lock()
        let pending = continuation
        continuation = nil
        lock.unlock()
        pending?.resume(returning: signal)
    }

    /// Signal sources must outlive the wait.
    static func keep(_ source: any DispatchSourceSignal) { sources.append(source) }
}

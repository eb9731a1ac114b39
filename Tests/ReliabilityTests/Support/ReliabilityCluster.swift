import Foundation
import JSONValue
import KubeEmulator
import SecretSync
import Testing
import TestSupport

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// One emulated cluster for a reliability scenario: the chart's Deployment and settings, the
/// real `beluga-secrets agent` and CLI started as processes (their output kept in files, as a
/// container runtime keeps logs), the values used as leak markers, and the checks every
/// scenario ends with.
final class ReliabilityCluster: TestScoped, @unchecked Sendable {
    let fixture: EmulatorFixture
    /// The CLI's configuration folder and HOME (one operator's workstation).
    let home: TemporaryDirectory
    /// Output files of every process started.
    let logs: TemporaryDirectory
    /// The agent's own kubeconfig (user `beluga-secrets-agent`, an administrator), so that the
    /// emulator's accounting tells its requests from the CLI's.
    let agentKubeconfig: String
    static let agentUser = "beluga-secrets-agent"
    let namespace = "default"

    private let lock = NSLock()
    private var leakMarkers = LeakMarkers()
    private var started: [LoggedProcess] = []
    private var sequence = 0

    private init(
        fixture: EmulatorFixture, home: TemporaryDirectory, logs: TemporaryDirectory, agentKubeconfig: String
    ) {
        self.fixture = fixture
        self.home = home
        self.logs = logs
        self.agentKubeconfig = agentKubeconfig
    }

    /// An emulator (rollouts take 20 ms) with the Deployment `beluga-ai` (annotated to reload on
    /// the Secret and the settings) and the settings ConfigMap in `default` and in `namespaces`.
    static func start(namespaces: [String] = []) async throws -> ReliabilityCluster {
        // TLS, as a cluster serves: a token is never sent over plain HTTP.
        let fixture = try await EmulatorFixture.start(
            KubeEmulator.Options(tls: true, rolloutDelay: .milliseconds(20)))
        let token = "agent-" + UUID().uuidString
        fixture.emulator.addToken(token, user: UserInfo(name: agentUser, groups: ["system:masters"]))
        let agentKubeconfig = try fixture.kubeconfig(user: agentUser, token: token)
        let cluster = ReliabilityCluster(
            fixture: fixture, home: try TemporaryDirectory(prefix: "beluga-home"),
            logs: try TemporaryDirectory(prefix: "beluga-logs"), agentKubeconfig: agentKubeconfig)
        for namespace in namespaces {
            try await fixture.emulator.put([
                "apiVersion": "v1", "kind": "Namespace", "metadata": ["name": .string(namespace)],
            ])
        }
        for namespace in ["default"] + namespaces {
            try await cluster.putChartObjects(namespace: namespace)
        }
        return cluster
    }

    private func putChartObjects(namespace: String) async throws {
        try await BelugaLaunch.putChartObjects(into: fixture.emulator, namespace: namespace)
    }

    /// Kills whatever still runs and stops the emulator.
    func stop() async {
        for process in lock.withLock({ started }) where process.isRunning { await process.killNow() }
        fixture.emulator.faults.reset()
        await fixture.stop()
    }

    // MARK: - Markers

    /// A new secret value, shaped like an API key, that must never appear outside the Secret.
    func marker(_ label: String) -> String {
        lock.withLock { leakMarkers.make(label) }
    }

    /// Registers a value made elsewhere (e.g. one with unicode) as a marker too.
    func markers() -> LeakMarkers { lock.withLock { leakMarkers } }

    private func nextName(_ prefix: String) -> String {
        lock.withLock {
            sequence += 1
            return String(format: "%04d-", sequence) + prefix
        }
    }

    private func track(_ process: LoggedProcess) {
        lock.withLock { started.append(process) }
    }

    // MARK: - Processes

    /// The agents' lease duration: short, for quick failovers, yet long enough that a leader
    /// starved of CPU by the processes beside it keeps renewing within its renew deadline (3 s).
    static let leaseSeconds = 4.0

    /// Starts `beluga-secrets agent` with short lease timing, its health server on a free port.
    func startAgent(
        identity: String = "agent-a", debounce: String = "100ms", namespace: String? = nil,
        extra: [String] = []
    ) throws -> LoggedProcess {
        let process = try LoggedProcess(
            Binaries.path("beluga-secrets"),
            BelugaLaunch.agentArguments(
                kubeconfig: agentKubeconfig, identity: identity, namespace: namespace ?? self.namespace,
                debounce: debounce, leaseDuration: "\(Int(Self.leaseSeconds))s", renewDeadline: "3s",
                extra: ["--max-delay", "5s"] + extra),
            directory: logs.path, name: nextName("agent-\(identity)"))
        track(process)
        return process
    }

    /// Starts the CLI with this workstation's configuration and the admin kubeconfig; `stdin`
    /// is fed from a file (a value never goes on the command line).
    func startCLI(
        _ arguments: [String], stdin: String? = nil, kubeconfig: Bool = true, as user: String? = nil
    )
        throws -> LoggedProcess
    {
        var stdinPath: String?
        if let stdin {
            let path = logs.file(nextName("stdin"))
            guard
                FileManager.default.createFile(
                    atPath: path, contents: Data(stdin.utf8), attributes: [.posixPermissions: 0o600])
            else { throw LoggedProcessError(description: "cannot write \(path)") }
            stdinPath = path
        }
        let process = try LoggedProcess(
            Binaries.path("beluga-secrets"),
            kubeconfig
                ? BelugaLaunch.cliArguments(arguments, kubeconfig: user ?? fixture.kubeconfigPath)
                : arguments,
            environment: BelugaLaunch.workstationEnvironment(home: home),
            stdinPath: stdinPath, directory: logs.path, name: nextName(arguments.first ?? "cli"))
        if let stdinPath { try? FileManager.default.removeItem(atPath: stdinPath) }
        track(process)
        return process
    }

    /// Runs the CLI to its end (with the admin kubeconfig unless the command works offline).
    func run(_ arguments: [String], stdin: String? = nil, as user: String? = nil, timeout: Double = 120)
        async throws -> ProcessResult
    {
        let process = try startCLI(arguments, stdin: stdin, as: user)
        return try await finish([process], timeout: timeout)[0]
    }

    /// Starts every invocation at once and waits for all of them.
    func runAll(_ invocations: [([String], String?)], timeout: Double = 180) async throws -> [ProcessResult] {
        let processes = try invocations.map { try startCLI($0.0, stdin: $0.1) }
        return try await finish(processes, timeout: timeout)
    }

    /// Waits for started CLI processes; a process still running after `timeout` fails the test.
    func finish(_ processes: [LoggedProcess], timeout: Double = 180) async throws -> [ProcessResult] {
        let deadline = Date().addingTimeInterval(timeout)
        for process in processes {
            let left = max(1, deadline.timeIntervalSinceNow)
            if await !process.waitForExit(timeout: left) {
                await process.killNow()
                Issue.record(
                    "beluga-secrets \(process.arguments.joined(separator: " ")) did not finish in \(timeout) s"
                )
                throw LoggedProcessError(description: "a CLI process hung")
            }
        }
        return processes.map(\.result)
    }

    /// A kubeconfig for user `operator`, bound in `namespace` to a Role with the rules of the
    /// chart's operator Role (`templates/operator-role.yaml`; the chart tests check its rules):
    /// update the sealed store, read the agent's status, public keys, Deployment and Lease.
    func operatorKubeconfig(namespace: String? = nil) async throws -> String {
        let namespace = namespace ?? self.namespace
        let token = "operator-" + UUID().uuidString
        fixture.emulator.addToken(token, user: UserInfo(name: "operator", groups: []))
        func rule(_ group: String, _ resource: String, _ names: [String], _ verbs: [String]) -> JSON {
            [
                "apiGroups": [.string(group)], "resources": [.string(resource)],
                "resourceNames": .array(names.map { .string($0) }),
                "verbs": .array(verbs.map { .string($0) }),
            ]
        }
        try await fixture.emulator.put([
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
            "metadata": ["name": "beluga-ai-operator", "namespace": .string(namespace)],
            "rules": [
                rule("", "configmaps", ["beluga-ai-secrets-sealed"], ["get", "update"]),
                rule(
                    "", "configmaps", ["beluga-ai-secrets-status", "beluga-secrets-public-key"],
                    ["get", "list", "watch"]),
                rule("apps", "deployments", ["beluga-ai"], ["get", "list", "watch"]),
                rule("coordination.k8s.io", "leases", ["beluga-secrets-agent"], ["get"]),
            ],
        ])
        try await fixture.emulator.put([
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
            "metadata": ["name": "beluga-ai-operator", "namespace": .string(namespace)],
            "roleRef": [
                "apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "beluga-ai-operator",
            ],
            "subjects": [["apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "operator"]],
        ])
        return try fixture.kubeconfig(user: "operator", token: token, namespace: namespace)
    }

    /// Every process started so far (for the leak check).
    var allProcesses: [LoggedProcess] { lock.withLock { started } }

    // MARK: - Reading the cluster (in process: the emulator's store, no HTTP)

    func object(_ resource: String, _ name: String, namespace: String? = nil) async throws -> JSON? {
        try await fixture.emulator.object(resource, namespace: namespace ?? self.namespace, name: name)
    }

    /// The Secret's values as text, by key.
    func secretValues(namespace: String? = nil) async throws -> [String: String] {
        guard
            let data = try await object("secrets", "beluga-ai-secrets", namespace: namespace)?["data"]?
                .objectValue
        else { return [:] }
        var values: [String: String] = [:]
        for (key, value) in data {
            guard let text = value.stringValue, let bytes = Data(base64Encoded: text) else {
                values[key] = "<not base64>"
                continue
            }
            values[key] = String(decoding: bytes, as: UTF8.self)
        }
        return values
    }

    /// The Secret's raw bytes of `key`.
    func secretBytes(_ key: String, namespace: String? = nil) async throws -> Data? {
        guard
            let text = try await object("secrets", "beluga-ai-secrets", namespace: namespace)?[
                path: "data", key]?.stringValue
        else { return nil }
        return Data(base64Encoded: text)
    }

    /// An annotation of the sealed store, parsed.
    func storeAnnotation(_ name: String, namespace: String? = nil) async throws -> [String: JSON] {
        guard
            let text = try await object("configmaps", "beluga-ai-secrets-sealed", namespace: namespace)?[
                path: "metadata", "annotations", name]?.stringValue
        else { return [:] }
        return (try? JSON(parsing: text))?.objectValue ?? [:]
    }

    /// `beluga-ai.io/sealed-versions`: the writers' version per key.
    func sealedVersions(namespace: String? = nil) async throws -> [String: Int] {
        try await storeAnnotation(SealedStore.versionsAnnotation, namespace: namespace).compactMapValues {
            $0["version"]?.intValue
        }
    }

    /// A part of the agent's status object `beluga-ai-secrets-status` (`data[part]`), parsed.
    func statusPart(_ part: String, namespace: String? = nil) async throws -> JSON? {
        guard
            let text = try await object("configmaps", "beluga-ai-secrets-status", namespace: namespace)?[
                path: "data", part]?.stringValue
        else { return nil }
        return try? JSON(parsing: text)
    }

    /// The status object's `sync-status`: the agent's verdict per key.
    func syncStatus(namespace: String? = nil) async throws -> [String: JSON] {
        try await statusPart("sync-status", namespace: namespace)?.objectValue ?? [:]
    }

    /// Waits until `sync-status` records each of `keys` as applied at the version the writers
    /// gave it last. The agent records its verdict after it wrote the Secret (and after it
    /// scheduled the restart), so a Secret with the new values does not yet mean the record.
    func waitForAppliedStatus(
        of keys: [String], namespace: String? = nil, sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        try await eventually(
            "every key is recorded as applied at its last version", sourceLocation: sourceLocation
        ) {
            let status = try await self.syncStatus(namespace: namespace)
            let versions = try await self.sealedVersions(namespace: namespace)
            return keys.allSatisfy {
                status[$0]?["state"] == "applied" && versions[$0] != nil
                    && status[$0]?["version"]?.intValue == versions[$0]
            }
        }
    }

    func rollouts(namespace: String? = nil) async -> Int {
        await fixture.emulator.rollouts(namespace: namespace ?? self.namespace, deployment: "beluga-ai")
    }

    /// Waits until the Deployment carries the content hash of the Secret and settings as they
    /// are now, and the emulator's Deployment controller has seen it (it counts rollouts).
    func waitForCurrentHash(namespace: String? = nil, timeout: Duration = .seconds(60)) async throws {
        let namespace = namespace ?? self.namespace
        try await eventually(
            "the Deployment in \(namespace) carries the hash of the current content", timeout: timeout
        ) {
            let secret = try await self.object("secrets", "beluga-ai-secrets", namespace: namespace)
            let config = try await self.object("configmaps", "beluga-ai-config", namespace: namespace)
            let hash = ContentHash.compute([
                .secret("beluga-ai-secrets"): secret.map(ContentHash.content(ofSecret:)),
                .configMap("beluga-ai-config"): config.map(ContentHash.content(ofConfigMap:)),
            ])
            guard let deployment = try await self.object("deployments", "beluga-ai", namespace: namespace),
                let generation = deployment[path: "metadata", "generation"]?.intValue
            else { return false }
            // The pod template's hash, else the label the agent recorded without a rollout.
            guard
                let current = deployment[
                    path: "spec", "template", "metadata", "annotations", ContentHash.annotation]?.stringValue
                    ?? deployment[path: "metadata", "labels", ContentHash.label]?.stringValue
            else { return false }
            return ContentHash.matches(recorded: current, hash: hash)
                && deployment[path: "status", "observedGeneration"]?.intValue == generation
        }
    }

    /// Waits until the agent has published its public key.
    func waitForPublicKey(namespace: String? = nil, timeout: Duration = .seconds(60)) async throws {
        try await eventually("the agent publishes its public key", timeout: timeout) {
            try await self.object("configmaps", "beluga-secrets-public-key", namespace: namespace)?[
                path: "data", "sealing.pub"] != nil
        }
    }

    /// The Lease's holder.
    func leaseHolder() async throws -> String {
        try await object("leases", "beluga-secrets-agent")?[path: "spec", "holderIdentity"]?.stringValue ?? ""
    }

    // MARK: - The agent's health

    /// The agent's health port, from its "serving health and metrics address=HOST:PORT" log line.
    func healthPort(_ agent: LoggedProcess) async -> Int? {
        _ = await agent.waitForErrorOutput(timeout: 30) { $0.contains("serving health and metrics") }
        guard
            let line = agent.stderr.split(separator: "\n").first(where: {
                $0.contains("serving health and metrics")
            }),
            let address = line.split(separator: " ").first(where: { $0.hasPrefix("address=") }),
            let port = address.split(separator: ":").last
        else { return nil }
        return Int(port)
    }

    /// GET of the agent's health server (status 0 when it does not answer).
    func health(_ agent: LoggedProcess, _ path: String = "/healthz") async -> (status: Int, body: String) {
        guard let port = await healthPort(agent), let url = URL(string: "http://127.0.0.1:\(port)\(path)")
        else {
            return (0, "")
        }
        do {
            let (data, response) = try await URLSession.shared.data(from: url)
            return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
        } catch {
            return (0, "\(error)")
        }
    }

    // MARK: - Audit

    /// The agents' logs joined in the order given, as a log collector would keep them (a line a
    /// SIGKILL cut short still ends where the process stopped writing).
    func joinedLog(_ agents: [LoggedProcess]) -> String {
        agents.map { text -> String in
            let out = text.stdout
            return out.isEmpty || out.hasSuffix("\n") ? out : out + "\n"
        }.joined()
    }

    /// `beluga-secrets audit --verify -o json` over the agents' logs: the result and its JSON.
    func verifyAudit(_ agents: [LoggedProcess], extra: [String] = []) async throws -> (ProcessResult, JSON) {
        let path = logs.file(nextName("audit.log"))
        try joinedLog(agents).write(toFile: path, atomically: true, encoding: .utf8)
        let result = try await run(["audit", "--verify", "-o", "json", "--file", path] + extra)
        return (result, (try? JSON(parsing: result.stdout)) ?? .null)
    }

    /// The audit records of the agents' logs, each distinct line once (a line printed again by
    /// an agent that takes over counts once), parsed.
    func auditRecords(_ agents: [LoggedProcess]) -> [JSON] {
        var seen: Set<String> = []
        var records: [JSON] = []
        for line in joinedLog(agents).split(separator: "\n") where line.hasPrefix("{") {
            let text = String(line)
            guard seen.insert(text).inserted, let record = try? JSON(parsing: text) else { continue }
            records.append(record)
        }
        return records
    }

    // MARK: - Leak check

    /// Fails the test when a marker value appears in any process output (CLI and agents: standard
    /// output, audit records, errors, logs), in any Event, or anywhere in the cluster's objects
    /// except the data of the Secrets that are meant to hold the values.
    func expectNoLeaks(namespaces: [String] = ["default"], sourceLocation: SourceLocation = #_sourceLocation)
        async throws
    {
        let markers = self.markers()
        #expect(!markers.values.isEmpty, "the scenario used no marker values", sourceLocation: sourceLocation)
        for process in allProcesses {
            let leaks = markers.leaks(in: process.stdout + process.stderr)
            #expect(
                leaks.isEmpty,
                "beluga-secrets \(process.arguments.prefix(3).joined(separator: " ")) printed a value",
                sourceLocation: sourceLocation)
        }
        var objects: [String] = []
        for namespace in namespaces {
            for resource in [
                "events", "configmaps", "deployments", "leases", "secrets", "replicasets", "pods",
            ] {
                for var object in try await fixture.emulator.objects(resource, namespace: namespace) {
                    if resource == "secrets",
                        object[path: "metadata", "name"]?.stringValue == "beluga-ai-secrets"
                    {
                        object["data"] = nil
                    }
                    objects.append(object.jsonText)
                }
            }
        }
        let events = try await fixture.emulator.objects("events", namespace: nil)
        #expect(!events.isEmpty, "the agent wrote no Event to check", sourceLocation: sourceLocation)
        let leaks = markers.leaks(in: objects.joined(separator: "\n") + events.map(\.jsonText).joined())
        #expect(
            leaks.isEmpty, "a value appears in an object or Event: \(leaks.count) markers",
            sourceLocation: sourceLocation)
    }
}

/// The version a `set`/`rotate` reports ("KEY: version N sealed to kid …").
func reportedVersion(_ output: String) -> Int? {
    guard let range = output.range(of: ": version ") else { return nil }
    return Int(output[range.upperBound...].prefix { $0.isNumber })
}

/// The fingerprint a `set`/`rotate` reports ("(fp1:…)").
func reportedFingerprint(_ output: String) -> String? {
    guard let range = output.range(of: "(fp1:") else { return nil }
    return "fp1:" + output[range.upperBound...].prefix { $0.isHexDigit }
}

/// Checks a refusal: the documented exit code and exactly one `error: …` line on standard error.
func expectOneLineError(
    _ result: ProcessResult, status: Int32, mentioning fragments: [String] = [],
    sourceLocation: SourceLocation = #_sourceLocation
) {
    #expect(
        result.status == status, "exit \(result.status): \(result.stderr)", sourceLocation: sourceLocation)
    // The note that pins the agent's identity on a workstation's first contact is no error.
    let lines = result.stderr.split(separator: "\n").filter { !$0.hasPrefix("pinned the agent identity ") }
    #expect(
        lines.filter { $0.hasPrefix("error: ") }.count == 1 && lines.count == 1,
        "one error line expected: \(result.stderr)", sourceLocation: sourceLocation)
    for fragment in fragments {
        #expect(
            result.stderr.contains(fragment), "\(result.stderr) should mention \(fragment)",
            sourceLocation: sourceLocation)
    }
}

func expectSuccess(_ result: ProcessResult, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(
        result.status == 0, "exit \(result.status)\n\(result.stdout)\n\(result.stderr)",
        sourceLocation: sourceLocation)
}

import Foundation
import JSONValue
import KubeAPI
import KubeEmulator
import Logging
import Sealing
import Testing

@testable import SecretSync
import TestSupport
import TimeFormat

/// Audit lines collected in memory.
actor CollectingSink: AuditSink {
    private(set) var lines: [String] = []
    func emit(_ lines: [String]) async { self.lines += lines }
    func records() -> [AuditRecord] {
        lines.compactMap { (try? JSON(parsing: $0)).flatMap(AuditRecord.init(json:)) }
    }
}

/// Operational log lines collected in memory, for leak checks.
final class CollectingLog: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []

    func append(_ line: String) {
        lock.lock()
        lines.append(line)
        lock.unlock()
    }

    var text: String {
        lock.lock()
        defer { lock.unlock() }
        return lines.joined(separator: "\n")
    }

    func logger(_ label: String) -> Logger {
        var logger = Logger(label: label) { _ in Handler(log: self) }
        logger.logLevel = .debug
        return logger
    }

    struct Handler: LogHandler {
        let log: CollectingLog
        var logLevel: Logger.Level = .debug
        var metadata: Logger.Metadata = [:]
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) {
            var all = metadata
            all.merge(event.metadata ?? [:]) { _, new in new }
            log.append("\(event.level) \(event.message) \(all)")
        }
    }
}

/// A running in-process agent.
struct RunningAgent {
    let agent: Agent
    let task: Task<Void, Never>
    let sink: CollectingSink

    /// Stops it as SIGTERM would and waits until it has.
    func stop() async {
        agent.stop()
        await task.value
    }
}

/// An emulator with the objects the chart would create, a client, and helpers to seal and store
/// values the way `beluga-secrets set` does.
final class AgentHarness: TestScoped {
    let fixture: EmulatorFixture
    let client: KubeClient
    let namespace = "default"
    let names = ObjectNames()
    let log = CollectingLog()

    private init(fixture: EmulatorFixture, client: KubeClient) {
        self.fixture = fixture
        self.client = client
    }

    static func start(options: KubeEmulator.Options = KubeEmulator.Options(rolloutDelay: .milliseconds(20)))
        async throws -> AgentHarness
    {
        let fixture = try await EmulatorFixture.start(options)
        let client = try KubeClient(
            options: ClientConfiguration.Options(kubeconfig: fixture.kubeconfigPath, environment: [:]))
        let harness = AgentHarness(fixture: fixture, client: client)
        try await harness.createDeployment()
        try await fixture.emulator.put([
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": ["name": "beluga-ai-config", "namespace": "default"],
            "data": ["llmProvider": "openai"],
        ])
        return harness
    }

    func stop() async { await fixture.stop() }

    func createDeployment(name: String = "beluga-ai", reload: String? = "beluga-ai-secrets,beluga-ai-config")
        async throws
    {
        var metadata: JSON = ["name": .string(name), "namespace": .string(namespace)]
        if let reload { metadata["annotations"] = [ReloadAnnotation.name: .string(reload)] }
        try await fixture.emulator.put([
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": metadata,
            "spec": [
                "replicas": 1, "selector": ["matchLabels": ["app": .string(name)]],
                "template": [
                    "metadata": ["labels": ["app": .string(name)]],
                    "spec": ["containers": [["name": "server", "image": "beluga-ai:1.0.0"]]],
                ],
            ],
        ])
    }

    func startAgent(
        identity: String = "agent-a", debounce: Duration = .milliseconds(100),
        maxDelay: Duration = .seconds(5), leaderElection: Bool = true, client agentClient: KubeClient? = nil,
        deployments: [String] = [], allNamespaces: Bool = false,
        // Long enough that a leader starved of CPU by the tests running beside it keeps its lease;
        // a stopping agent releases its lease, so handovers stay quick.
        leaseTiming: LeaseTiming = LeaseTiming(
            leaseDuration: .seconds(15), renewDeadline: .seconds(10), retryPeriod: .milliseconds(250)),
        retireKeysAfter: Duration = .seconds(86400), signatures: SignaturePolicy = .optional,
        sink: CollectingSink = CollectingSink()
    ) -> RunningAgent {
        let configuration = AgentConfiguration(
            namespace: namespace, allNamespaces: allNamespaces, deployments: deployments, debounce: debounce,
            maxDelay: maxDelay, leaderElection: leaderElection, leaseTiming: leaseTiming, identity: identity,
            signaturePolicy: signatures, resyncPeriod: .seconds(600), retireKeysAfter: retireKeysAfter)
        let agent = Agent(
            client: agentClient ?? client, configuration: configuration, sink: sink,
            logger: log.logger(identity))
        let task = Task { await agent.run() }
        return RunningAgent(agent: agent, task: task, sink: sink)
    }

    // MARK: - Reading the cluster

    func object(_ resource: String, _ name: String) async throws -> JSON? {
        try await fixture.emulator.object(resource, namespace: namespace, name: name)
    }

    func secretValue(_ key: String) async throws -> String? {
        guard let text = try await object("secrets", names.secret)?[path: "data", key]?.stringValue,
            let data = Data(base64Encoded: text)
        else { return nil }
        return String(decoding: data, as: UTF8.self)
    }

    /// The sealed store as a writer reads it: with the signed versions of the agent's status.
    func store() async throws -> SealedStore {
        var store = SealedStore()
        if let object = try await object("configmaps", names.sealedStore) {
            store = try SealedStore(configMap: object, lenient: true)
        }
        store.signedVersions = try await status().keys.compactMapValues(\.signedVersion)
        return store
    }

    /// The agent's status object as the CLI reads it (empty when there is none).
    func status() async throws -> AgentStatus {
        guard let object = try await object("configmaps", names.status) else { return AgentStatus() }
        return AgentStatus(configMap: object)
    }

    func rollouts() async -> Int {
        await fixture.emulator.rollouts(namespace: namespace, deployment: "beluga-ai")
    }

    /// The content hash the Deployment carries: its pod template's, else the one the agent
    /// recorded in its label without a rollout (63 hex digits).
    func contentHash() async throws -> String? {
        guard let object = try await object("deployments", "beluga-ai") else { return nil }
        return RestartDecision.recordedHash(of: Deployment(json: object))
    }

    /// The hash in the Deployment's pod template alone (a rollout writes it).
    func templateHash() async throws -> String? {
        try await object("deployments", "beluga-ai")?[path: "spec", "template", "metadata", "annotations"]?[
            ContentHash.annotation]?.stringValue
    }

    /// The barrier of a check that nothing happened: waits until the agent has renewed its lease
    /// `count` more times (once a retry period), so the agent has been running and answering
    /// events that long however loaded the machine is, instead of a sleep of fixed length.
    func waitForLeaseRenewals(_ count: Int) async throws {
        let emulator = fixture.emulator
        let renewals = { emulator.requestCounts().count(verb: "update", resource: "leases") }
        let start = renewals()
        try await eventually("the agent renews its lease \(count) times") { renewals() >= start + count }
    }

    func events(reason: String) async throws -> [JSON] {
        try await fixture.emulator.objects("events", namespace: namespace).filter {
            $0["reason"]?.stringValue == reason
        }
    }

    /// The published current sealing key, once the agent has published it.
    func publicKey(timeout: Duration = .seconds(60)) async throws -> SealingPublicKey {
        try await eventually("the agent publishes its public key", timeout: timeout) {
            guard let object = try await self.object("configmaps", self.names.publicKeyConfigMap) else {
                return false
            }
            return (try? PublishedKeys(configMap: object, namespace: self.namespace)) != nil
        }
        guard let object = try await object("configmaps", names.publicKeyConfigMap) else {
            throw HarnessError("no public key")
        }
        return try PublishedKeys(configMap: object, namespace: namespace).current
    }

    /// Waits until the Deployment carries the content hash of the Secret and ConfigMap as they are.
    func waitForCurrentHash(timeout: Duration = .seconds(30)) async throws {
        try await eventually("the Deployment carries the hash of the current content", timeout: timeout) {
            let secret = try await self.object("secrets", self.names.secret)
            let config = try await self.object("configmaps", self.names.configMap)
            let hash = ContentHash.compute([
                .secret(self.names.secret): secret.map(ContentHash.content(ofSecret:)),
                .configMap(self.names.configMap): config.map(ContentHash.content(ofConfigMap:)),
            ])
            guard let recorded = try await self.contentHash() else { return false }
            return ContentHash.matches(recorded: recorded, hash: hash)
        }
        try await waitForDeploymentController()
    }

    /// Waits until the agent has recorded a content hash and its first restart check (the end of
    /// taking over, which logs the hash as current) has run, and the emulator's Deployment
    /// controller has caught up (it works asynchronously, as a controller would).
    func waitForFirstCheck() async throws {
        try await eventually("the agent recorded a content hash and checked it") {
            try await self.contentHash() != nil && self.log.text.contains("is current")
        }
        try await waitForDeploymentController()
    }

    /// Waits until the emulator's Deployment controller has seen the latest pod template (it
    /// counts rollouts as it does, asynchronously).
    func waitForDeploymentController() async throws {
        try await eventually("the Deployment controller caught up") {
            guard let deployment = try await self.object("deployments", "beluga-ai"),
                let generation = deployment[path: "metadata", "generation"]?.intValue
            else { return false }
            return deployment[path: "status", "observedGeneration"]?.intValue == generation
        }
    }

    // MARK: - Writing as the CLI does

    func seal(
        _ value: String, key: String, to publicKey: SealingPublicKey, namespace: String? = nil,
        secret: String? = nil
    ) throws -> String {
        let binding = try SecretBinding(
            namespace: namespace ?? self.namespace, secret: secret ?? names.secret, key: key)
        return try Envelope.seal(
            SecureBytes(Array(value.utf8)), for: binding, to: publicKey, sealedBy: "alice@ws1"
        )
        .text
    }

    /// A signed envelope (format 2), as `set` makes one with a signing key.
    func sealSigned(
        _ value: String, key: String, to publicKey: SealingPublicKey, version: Int, signer: SigningKeyPair,
        sealedAt: String? = nil
    ) throws -> String {
        let binding = try SecretBinding(namespace: namespace, secret: names.secret, key: key)
        return try Envelope.seal(
            SecureBytes(Array(value.utf8)), for: binding, to: publicKey, sealedBy: "alice@ws1",
            sealedAt: sealedAt, version: version, signer: signer
        )
        .text
    }

    /// Edits the signers ConfigMap as `beluga-secrets signer add/remove` does.
    func editSigners(_ edit: (inout AllowedSigners) throws(AllowedSignersError) -> Void) async throws {
        _ = try await AllowedSignersWriter(client: client, namespace: namespace, name: names.signers).update {
            (signers: inout AllowedSigners) throws(AllowedSignersError) in try edit(&signers)
        }
    }

    /// The Secret's applied versions.
    func appliedVersions() async throws -> [String: AppliedVersion] {
        AppliedVersion.parse(
            try await object("secrets", names.secret)?[
                path: "metadata", "annotations", AppliedVersion.annotation]?
                .stringValue)
    }

    /// Restores an earlier version of `key` as `beluga-secrets rollback` does, signing the
    /// rollback with `signer` when given.
    @discardableResult
    func rollback(key: String, to version: Int, signer: SigningKeyPair?) async throws -> Int {
        let binding = try SecretBinding(namespace: namespace, secret: names.secret, key: key)
        return try await edit { store throws -> Int in
            try store.rollback(
                key: key, to: version, by: "bob@ws2", at: RFC3339.format(.now()),
                signer: signer.map { RollbackSigner(key: $0, binding: binding) })
        }
    }

    /// Deletes `key` like `beluga-secrets delete`: a tombstone as its next version, signed with
    /// `signer` when given (retrying on conflict). Returns the tombstone's version.
    @discardableResult
    func delete(key: String, signer: SigningKeyPair? = nil) async throws -> Int {
        let binding = try SecretBinding(namespace: namespace, secret: names.secret, key: key)
        let status = try await status()
        let known = status.keys[key] != nil || status.orphaned[key] != nil
        return try await edit { store throws -> Int in
            try store.delete(
                key: key, by: "bob@ws2", at: RFC3339.format(.now()),
                signer: signer.map { RollbackSigner(key: $0, binding: binding) }, known: known)
        }
    }

    /// Stores `envelope` as a new version of `key` (read, edit, replace with the resourceVersion
    /// read, retry on conflict), like `beluga-secrets set`.
    @discardableResult
    func store(key: String, envelope: String, fingerprint: String = "") async throws -> Int {
        try await edit { store in
            store.set(
                key: key, envelope: envelope, fingerprint: fingerprint, sealedBy: "alice@ws1",
                sealedAt: RFC3339.format(.now()))
        }
    }

    /// Stores each of `envelopes` (by key) as a new version, all in one write of the sealed
    /// store, as a pipeline patching many keys at once does.
    func storeAll(_ envelopes: [String: String]) async throws {
        try await edit { store in
            for (key, envelope) in envelopes.sorted(by: { $0.key < $1.key }) {
                _ = store.set(
                    key: key, envelope: envelope, fingerprint: "", sealedBy: "alice@ws1",
                    sealedAt: RFC3339.format(.now()))
            }
        }
    }

    /// Reads the sealed store (numbered above the agent's signed versions, as writers do),
    /// applies `change`, and writes it back with the resourceVersion read (created when there is
    /// none), retrying on conflict and on the faults tests inject, as the CLI does.
    private func edit<Result>(_ change: (inout SealedStore) throws -> Result) async throws -> Result {
        for _ in 0..<50 {
            let object: ConfigMap?
            do {
                object = try await client.getIfPresent(
                    ConfigMap.self, name: names.sealedStore, namespace: namespace)
            } catch {
                continue
            }
            var store = try object.map { try SealedStore(configMap: $0.json) } ?? SealedStore()
            store.signedVersions = try await status().keys.compactMapValues(\.signedVersion)
            let result = try change(&store)
            let outcome: KubeError.Category?
            if let object {
                outcome = await replaceOutcome(
                    ConfigMap(json: store.writingEnvelopesAndVersions(into: object.json)))
            } else {
                outcome = await createOutcome(
                    ConfigMap(json: store.newConfigMap(name: names.sealedStore, namespace: namespace)))
            }
            if outcome == nil { return result }
            // The tests that inject faults expect writers to try again, as the CLI does.
            if let outcome,
                ![.conflict, .alreadyExists, .server, .throttled, .unreachable, .timeout].contains(outcome)
            {
                throw HarnessError("write failed: \(outcome)")
            }
        }
        throw HarnessError("the sealed store kept changing")
    }
}

extension AgentHarness {
    /// nil when the replace succeeded, else the failure's category.
    fileprivate func replaceOutcome(_ object: ConfigMap) async -> KubeError.Category? {
        do {
            _ = try await client.replace(object)
            return nil
        } catch {
            return error.category
        }
    }

    fileprivate func createOutcome(_ object: ConfigMap) async -> KubeError.Category? {
        do {
            _ = try await client.create(object, namespace: namespace)
            return nil
        } catch {
            return error.category
        }
    }
}

struct HarnessError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

import Foundation
import JSONValue
import KubeAPI
import KubeEmulator
import Sealing
import Testing
import TestSupport

/// One operator's workstation against an emulated cluster: the `beluga-secrets` binary run as a
/// real process with its own configuration folder, the chart's Deployment and settings in the
/// cluster, an agent's keys published the way the agent publishes them (made here with
/// `Sealing`, so the envelopes written can be opened), and `kubectl` and the `KubeAPI` client as
/// independent readers.
final class Workstation: TestScoped {
    let fixture: EmulatorFixture
    let home: TemporaryDirectory
    let namespace = "default"
    /// The agent's sealing key and identity, as the test publishes them.
    let sealing = SealingKeyPair.generate()
    let identity = SigningKeyPair.generate()

    private init(fixture: EmulatorFixture, home: TemporaryDirectory) {
        self.fixture = fixture
        self.home = home
    }

    /// An emulator with the chart's Deployment (annotated to reload) and settings ConfigMap; with
    /// `publish`, the agent's public keys too.
    static func start(
        _ options: KubeEmulator.Options = KubeEmulator.Options(rolloutDelay: .milliseconds(20)),
        publish: Bool = true
    ) async throws -> Workstation {
        let fixture = try await EmulatorFixture.start(options)
        let workstation = Workstation(fixture: fixture, home: try TemporaryDirectory(prefix: "beluga-home"))
        try await BelugaLaunch.putChartObjects(into: fixture.emulator, replicas: 2)
        if publish { try await workstation.publishKeys() }
        return workstation
    }

    func stop() async { await fixture.stop() }

    /// The configuration folder (`XDG_CONFIG_HOME/beluga-secrets`).
    var configFolder: String { home.file("config/beluga-secrets") }

    // MARK: - The agent's public keys

    /// Publishes `ConfigMap beluga-secrets-public-key` as docs/formats.md describes it: the
    /// identity key, the current sealing key, the key list signed by the identity, and the
    /// identity's statement that the current key is current, with `counter` (none with
    /// `signCurrent: false`, as agents before such statements published).
    func publishKeys(
        identity: SigningKeyPair? = nil, current: SealingKeyPair? = nil, previous: [SealingKeyPair] = [],
        signer: SigningKeyPair? = nil, counter: Int = 1, signCurrent: Bool = true
    ) async throws {
        let identity = identity ?? self.identity
        let current = current ?? sealing
        let signer = signer ?? identity
        func entry(_ pair: SealingKeyPair, state: String) -> JSON {
            let createdAt = "2026-01-02T03:04:05Z"
            let text =
                "beluga-secrets/sealing-key/v1\n\(pair.keyID.hex)\n\(pair.publicKey.base64)\n\(createdAt)"
            return [
                "kid": .string(pair.keyID.hex), "publicKey": .string(pair.publicKey.base64),
                "createdAt": .string(createdAt), "state": .string(state),
                "signature": .string(Data(signer.sign(Array(text.utf8))).base64EncodedString()),
            ]
        }
        let keys = previous.map { entry($0, state: "previous") } + [entry(current, state: "current")]
        var data: JSON = [
            "current": .string(current.keyID.hex), "sealing.pub": .string(current.publicKey.base64),
            "identity.pub": .string(identity.publicKey.base64),
            "keys.json": .string(JSON.array(keys).jsonText),
        ]
        if signCurrent {
            // Written here from the documented format, not with the product's own code.
            let signedAt = "2026-01-02T03:04:05Z"
            let text = [
                "beluga-secrets/current-sealing-key/v1", namespace, String(counter), current.keyID.hex,
                current.publicKey.base64, signedAt,
            ].joined(separator: "\n")
            let statement: JSON = [
                "counter": .int(counter), "kid": .string(current.keyID.hex), "namespace": .string(namespace),
                "publicKey": .string(current.publicKey.base64), "signedAt": .string(signedAt),
                "signature": .string(Data(signer.sign(Array(text.utf8))).base64EncodedString()),
            ]
            data["current.json"] = .string(statement.jsonText)
        }
        try await fixture.emulator.put([
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": ["name": "beluga-secrets-public-key", "namespace": "default"],
            "data": data,
        ])
    }

    // MARK: - Running the CLI

    /// Runs `beluga-secrets` with the admin kubeconfig (unless `kubeconfig` is given, or the
    /// arguments name one) and this workstation's configuration folder.
    func run(
        _ arguments: [String], stdin: String? = nil, kubeconfig: String? = nil,
        environment: [String: String] = [:], timeout: Double = 150
    ) async throws -> ProcessResult {
        try await ProcessRunner.runDetached(
            Binaries.path("beluga-secrets"),
            BelugaLaunch.cliArguments(arguments, kubeconfig: kubeconfig ?? fixture.kubeconfigPath),
            stdin: stdin,
            environment: BelugaLaunch.workstationEnvironment(home: home, adding: environment),
            timeout: timeout)
    }

    /// Starts `beluga-secrets` and leaves it running (two workstations at the same moment).
    func start(_ arguments: [String], environment: [String: String]) throws -> RunningProcess {
        try RunningProcess(
            Binaries.path("beluga-secrets"), arguments + ["--kubeconfig", fixture.kubeconfigPath],
            environment: BelugaLaunch.workstationEnvironment(home: home, adding: environment))
    }

    /// Starts the agent as a process against this workstation's cluster.
    func startAgent(identity: String = "agent-a") throws -> RunningProcess {
        try RunningProcess(
            Binaries.path("beluga-secrets"),
            BelugaLaunch.agentArguments(
                kubeconfig: fixture.kubeconfigPath, identity: identity, leaseDuration: "15s",
                renewDeadline: "10s"))
    }

    func kubectl(_ arguments: [String]) async throws -> ProcessResult {
        try await fixture.kubectl(arguments)
    }

    /// A `KubeAPI` client with the admin kubeconfig.
    func client() throws -> KubeClient {
        try KubeClient(
            options: ClientConfiguration.Options(kubeconfig: fixture.kubeconfigPath, environment: [:]))
    }

    // MARK: - Reading the cluster

    /// The sealed store as `kubectl get -o json` prints it.
    func sealedStoreWithKubectl() async throws -> JSON {
        let result = try await kubectl(["get", "configmap", "beluga-ai-secrets-sealed", "-o", "json"])
        try #require(result.status == 0, "\(result.stderr)")
        return try JSON(parsing: result.stdout)
    }

    /// The `sealed-versions` annotation of the store, read through the client, parsed.
    func sealedVersions() async throws -> JSON {
        let store = try await client().get(
            ConfigMap.self, name: "beluga-ai-secrets-sealed", namespace: namespace)
        let text = try #require(store.metadata.annotations["beluga-ai.io/sealed-versions"])
        return try JSON(parsing: text)
    }

    /// Opens the stored envelope of `key` with the agent's private key; the value as text.
    func openStored(_ key: String) async throws -> String {
        let store = try await sealedStoreWithKubectl()
        let text = try #require(store[path: "data", key]?.stringValue)
        let envelope = try Envelope.parse(text)
        let payload = try envelope.open(
            with: sealing,
            expecting: try SecretBinding(namespace: namespace, secret: "beluga-ai-secrets", key: key))
        return payload.value.withUnsafeBytes { String(decoding: $0, as: UTF8.self) }
    }

    /// The Secret's value of `key`, read with kubectl.
    func secretValue(_ key: String) async throws -> String? {
        let result = try await kubectl([
            "get", "secret", "beluga-ai-secrets", "-o",
            "jsonpath={.data.\(key.replacingOccurrences(of: ".", with: "\\."))}",
        ])
        guard result.status == 0, !result.stdout.isEmpty, let data = Data(base64Encoded: result.stdout) else {
            return nil
        }
        return String(decoding: data, as: UTF8.self)
    }

    /// The Deployment's content-hash annotation.
    func contentHash() async throws -> String? {
        let deployment = try await client().get(Deployment.self, name: "beluga-ai", namespace: namespace)
        return deployment.templateAnnotations["beluga-ai.io/content-hash"]
    }

    func rollouts() async -> Int {
        await fixture.emulator.rollouts(namespace: namespace, deployment: "beluga-ai")
    }

    /// Records the agent's verdict on a key's version, as the agent does: the `sync-status` of its
    /// status object `beluga-ai-secrets-status`, created when missing.
    func recordSyncStatus(_ entries: [String: JSON]) async throws {
        let name = "beluga-ai-secrets-status"
        let client = try client()
        if var object = try await client.getIfPresent(ConfigMap.self, name: name, namespace: namespace) {
            object.data["sync-status"] = JSON.object(entries).jsonText
            _ = try await client.replace(object, namespace: namespace)
        } else {
            var object = ConfigMap(name: name, namespace: namespace)
            object.data = ["sync-status": JSON.object(entries).jsonText]
            _ = try await client.create(object, namespace: namespace)
        }
    }
}

/// Checks a refusal: the documented exit code and one line `error: …` on standard error.
func expectFailure(
    _ result: ProcessResult, status: Int32, mentioning fragments: [String] = [],
    sourceLocation: SourceLocation = #_sourceLocation
) {
    #expect(
        result.status == status, "exit \(result.status): \(result.stderr)", sourceLocation: sourceLocation)
    let errorLines = result.stderr.split(separator: "\n").filter { $0.hasPrefix("error: ") }
    #expect(
        errorLines.count == 1, "one error line expected: \(result.stderr)", sourceLocation: sourceLocation)
    for fragment in fragments {
        #expect(
            result.stderr.contains(fragment), "\(result.stderr) should mention \(fragment)",
            sourceLocation: sourceLocation)
    }
}

/// Checks that a command succeeded.
func expectSuccess(_ result: ProcessResult, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(
        result.status == 0, "exit \(result.status)\nstdout: \(result.stdout)\nstderr: \(result.stderr)",
        sourceLocation: sourceLocation)
}

extension Workstation {
    /// Makes the server read `key` of the Secret into its environment, as the chart's apiKeys do:
    /// its pods then wait in CreateContainerConfigError while the key is missing.
    func requireKey(_ key: String) async throws {
        let patch: JSON = [
            "spec": [
                "template": [
                    "spec": [
                        "containers": [
                            [
                                "name": "server",
                                "env": [
                                    [
                                        "name": "OPENAI_API_KEY",
                                        "valueFrom": [
                                            "secretKeyRef": [
                                                "name": "beluga-ai-secrets", "key": .string(key),
                                            ]
                                        ],
                                    ]
                                ],
                            ]
                        ]
                    ]
                ]
            ]
        ]
        let patched = try await kubectl(["patch", "deployment", "beluga-ai", "-p", patch.jsonText])
        try #require(patched.status == 0, "\(patched.stderr)")
    }
}

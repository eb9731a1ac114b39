import Foundation
import JSONValue
import KubeAPI
import KubeEmulator
import Sealing
import Testing

@testable import SecretSync
import TestSupport

/// Settings changes, Event counting, least-privilege RBAC and `--all-namespaces`.
@Suite(.serialized) struct AgentScopeTests {
    @Test func aSettingsChangeIsRecordedAndRestartsOnce() async throws {
        try await withStarted(try await AgentHarness.start()) { harness in
            let running = harness.startAgent()
            _ = try await harness.publicKey()
            try await harness.waitForFirstCheck()
            let before = try await harness.object("deployments", "beluga-ai")?[
                path: "metadata", "generation"]?
                .intValue

            var config = try #require(try await harness.object("configmaps", "beluga-ai-config"))
            config[path: "data", "llmProvider"] = "anthropic"
            config[path: "data", "embeddingProvider"] = "openai"
            try await harness.fixture.emulator.put(config)

            try await eventually("the change is recorded") {
                await running.sink.records().filter { $0.event == .configChanged }.count == 2
            }
            try await harness.waitForCurrentHash()
            let after = try await harness.object("deployments", "beluga-ai")?[path: "metadata", "generation"]?
                .intValue
            #expect(after == (before ?? 0) + 1)
            let records = await running.sink.records().filter { $0.event == .configChanged }
            #expect(records.map(\.key) == ["embeddingProvider", "llmProvider"])
            #expect(records.map(\.reason) == ["added", "changed"])
            #expect(
                records.allSatisfy { $0.secret == "beluga-ai-config" && $0.fingerprint.hasPrefix("fp1:") })
            await running.stop()
        }
    }

    @Test func aRepeatedEventIsCountedNotDuplicated() async throws {
        try await withStarted(try await AgentHarness.start()) { harness in
            let running = harness.startAgent()
            let key = try await harness.publicKey()
            try await harness.store(key: "k", envelope: harness.seal("sealed", key: "k", to: key))
            try await eventually("applied") { try await harness.secretValue("k") == "sealed" }
            for round in 1...2 {
                var secret = try #require(try await harness.object("secrets", "beluga-ai-secrets"))
                secret[path: "data", "k"] = .string(Data("by-hand".utf8).base64EncodedString())
                try await harness.fixture.emulator.put(secret)
                try await eventually("edit \(round) is set back") {
                    try await harness.events(reason: "HandEditReverted").first?["count"]?.intValue == round
                }
            }
            #expect(try await harness.events(reason: "HandEditReverted").count == 1)
            #expect(try await harness.secretValue("k") == "sealed")
            await running.stop()
        }
    }

    @Test func aValueTheAPIServerRefusesIsRejectedOnce() async throws {
        try await withStarted(try await AgentHarness.start()) { harness in
            let running = harness.startAgent()
            let key = try await harness.publicKey()
            try await harness.store(key: "k", envelope: harness.seal("v1", key: "k", to: key))
            try await eventually("applied") { try await harness.secretValue("k") == "v1" }
            // Someone made the Secret immutable: the API server refuses every change of its data.
            var secret = try #require(try await harness.object("secrets", "beluga-ai-secrets"))
            secret["immutable"] = true
            try await harness.fixture.emulator.put(secret)

            let version = try await harness.store(key: "k", envelope: harness.seal("v2", key: "k", to: key))
            try await eventually("the write is refused and recorded") {
                try await harness.status().keys["k"]?.state == .rejected
            }
            let status = try #require(try await harness.status().keys["k"])
            #expect(status.version == version)
            #expect(status.reason.hasPrefix("the API server refused the Secret"))
            try await harness.store(key: "other", envelope: harness.seal("x", key: "other", to: key))
            try await eventually("another pass ran") {
                await running.sink.records().filter { $0.event == .secretRejected }.count >= 1
                    && harness.log.text.components(separatedBy: "refused the Secret").count >= 3
            }
            #expect(try await harness.secretValue("k") == "v1")
            #expect(
                await running.sink.records().filter { $0.event == .secretRejected && $0.key == "k" }.count
                    == 1)
            await running.stop()
        }
    }

    /// The agent works with nothing but the Role of docs/agent.md (the chart's): every name
    /// listed, no list or watch without a name, no create of Leases (the chart creates it) and of
    /// ConfigMaps only the agent's status (the chart creates the others).
    @Test func theDocumentedRoleIsEnough() async throws {
        try await withStarted(
            try await AgentHarness.start(
                options: KubeEmulator.Options(tls: true, rolloutDelay: .milliseconds(20)))
        ) { harness in
            let emulator = harness.fixture.emulator
            let names = ["beluga-ai-secrets-sealed", "beluga-secrets-public-key"]
            for name in names {
                try await emulator.put([
                    "apiVersion": "v1", "kind": "ConfigMap",
                    "metadata": ["name": .string(name), "namespace": "default"],
                ])
            }
            try await emulator.put([
                "apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                "metadata": ["name": "beluga-secrets-agent", "namespace": "default"],
            ])
            let rules = [
                AccessRule(verbs: ["create"], resources: ["secrets"]),
                AccessRule(
                    verbs: ["get", "list", "watch", "update"], resources: ["secrets"],
                    resourceNames: ["beluga-ai-secrets", "beluga-secrets-sealing-key"]),
                AccessRule(
                    verbs: ["get", "list", "watch", "update"], resources: ["configmaps"],
                    resourceNames: names),
                // The agent's own status ConfigMap: created by it (create cannot be limited by
                // name), then read and replaced by name only.
                AccessRule(verbs: ["create"], resources: ["configmaps"]),
                AccessRule(
                    verbs: ["get", "update"], resources: ["configmaps"],
                    resourceNames: ["beluga-ai-secrets-status"]),
                AccessRule(
                    verbs: ["get", "list", "watch"], resources: ["configmaps"],
                    resourceNames: ["beluga-ai-config", "beluga-secrets-signers"]),
                AccessRule(
                    verbs: ["get", "list", "watch", "patch"], apiGroups: ["apps"], resources: ["deployments"],
                    resourceNames: ["beluga-ai"]),
                AccessRule(
                    verbs: ["get", "update"], apiGroups: ["coordination.k8s.io"], resources: ["leases"],
                    resourceNames: ["beluga-secrets-agent"]),
                AccessRule(verbs: ["create", "patch"], resources: ["events"]),
            ].map { rule in
                var scoped = rule
                scoped.namespaces = ["default"]
                return scoped
            }
            emulator.setPolicy(
                AccessPolicy(users: [
                    AccessPolicy.User(
                        info: .serviceAccount(namespace: "default", name: "beluga-ai-agent"),
                        token: "agent-token",
                        rules: rules)
                ]))
            let kubeconfig = try harness.fixture.kubeconfig(user: "agent", token: "agent-token")
            let agentClient = try KubeClient(
                options: ClientConfiguration.Options(kubeconfig: kubeconfig, environment: [:]))
            // The policy applies: anything beyond the Role is refused.
            await #expect(throws: KubeError.self) {
                _ = try await agentClient.list(Deployment.self, namespace: "default")
            }
            let running = harness.startAgent(client: agentClient, deployments: ["beluga-ai"])

            let key = try await harness.publicKey()
            try await harness.waitForFirstCheck()
            try await harness.store(key: "k", envelope: harness.seal("v", key: "k", to: key))
            try await eventually("applied") { try await harness.secretValue("k") == "v" }
            try await harness.waitForCurrentHash()
            try await eventually("the rollout is recorded") {
                await running.sink.records().contains {
                    $0.event == .rolloutTriggered && $0.reason.contains("keys k")
                }
            }
            await running.stop()
            #expect(!harness.log.text.lowercased().contains("forbidden"), "\(harness.log.text)")
            let lease = try await harness.object("leases", "beluga-secrets-agent")
            #expect(lease?[path: "spec", "holderIdentity"] == "")
        }
    }

    @Test func allNamespacesManagesEveryNamespaceWithASealedStore() async throws {
        try await withStarted(try await AgentHarness.start()) { harness in
            let emulator = harness.fixture.emulator
            for space in ["team-a", "team-b", "no-store"] {
                try await emulator.put([
                    "apiVersion": "v1", "kind": "Namespace", "metadata": ["name": .string(space)],
                ])
            }
            for space in ["team-a", "team-b"] {
                try await emulator.put([
                    "apiVersion": "v1", "kind": "ConfigMap",
                    "metadata": ["name": "beluga-ai-secrets-sealed", "namespace": .string(space)],
                ])
            }
            let running = harness.startAgent(allNamespaces: true)
            try await eventually("ready") { await running.agent.health().ready }
            for space in ["team-a", "team-b"] {
                let published = try await waitForObject(
                    emulator, "configmaps", space, "beluga-secrets-public-key")
                let keys = try PublishedKeys(configMap: published, namespace: space)
                let binding = try SecretBinding(namespace: space, secret: "beluga-ai-secrets", key: "k")
                let envelope = try Envelope.seal(
                    SecureBytes(Array("value-\(space)".utf8)), for: binding, to: keys.current, sealedBy: "ops"
                )
                var store = try #require(
                    try await emulator.object(
                        "configmaps", namespace: space, name: "beluga-ai-secrets-sealed"))
                store[path: "data", "k"] = .string(envelope.text)
                try await emulator.put(store)
            }
            for space in ["team-a", "team-b"] {
                try await eventually("the Secret of \(space) is written") {
                    let secret = try await emulator.object(
                        "secrets", namespace: space, name: "beluga-ai-secrets")
                    return secret?[path: "data", "k"]?.stringValue
                        == Data("value-\(space)".utf8).base64EncodedString()
                }
            }
            // Each namespace has its own keys; a namespace without a sealed store is left alone.
            let a = try await emulator.object(
                "configmaps", namespace: "team-a", name: "beluga-secrets-public-key")
            let b = try await emulator.object(
                "configmaps", namespace: "team-b", name: "beluga-secrets-public-key")
            #expect(a?[path: "data", "current"] != b?[path: "data", "current"])
            #expect(
                try await emulator.object(
                    "configmaps", namespace: "no-store", name: "beluga-secrets-public-key")
                    == nil)
            #expect(
                try await emulator.object(
                    "configmaps", namespace: "default", name: "beluga-secrets-public-key")
                    == nil)
            try await eventually("both creations are recorded") {
                let records = await running.sink.records()
                return Set(records.filter { $0.event == .secretCreated }.map(\.namespace)) == [
                    "team-a", "team-b",
                ]
            }
            await running.stop()
        }
    }

    private func waitForObject(
        _ emulator: KubeEmulator, _ resource: String, _ namespace: String, _ name: String
    )
        async throws -> JSON
    {
        try await eventually("\(resource) \(namespace)/\(name) exists") {
            try await emulator.object(resource, namespace: namespace, name: name) != nil
        }
        return try #require(try await emulator.object(resource, namespace: namespace, name: name))
    }
}

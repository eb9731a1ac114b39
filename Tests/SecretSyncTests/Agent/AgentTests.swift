import Foundation
import JSONValue
import KubeAPI
import KubeEmulator
import Sealing
import Testing

@testable import SecretSync
import TestSupport
import TimeFormat

/// The agent against a real HTTP API server (the emulator), in process.
@Suite(.serialized) struct AgentTests {
    @Test func setUpdatesTheSecretAndRestartsTheDeploymentOnce() async throws {
        try await withStarted(try await AgentHarness.start()) { harness in
            var markers = LeakMarkers()
            let value = markers.make("openai")
            let running = harness.startAgent()
            let key = try await harness.publicKey()
            try await harness.waitForFirstCheck()
            let before = await harness.rollouts()

            try await harness.store(
                key: "openai-api-key", envelope: harness.seal(value, key: "openai-api-key", to: key))
            try await eventually("the Secret holds the value") {
                try await harness.secretValue("openai-api-key") == value
            }
            try await eventually("the Deployment restarted") { await harness.rollouts() == before + 1 }

            let secret = try #require(try await harness.object("secrets", "beluga-ai-secrets"))
            let config = try #require(try await harness.object("configmaps", "beluga-ai-config"))
            let expected = ContentHash.compute([
                .secret("beluga-ai-secrets"): ContentHash.content(ofSecret: secret),
                .configMap("beluga-ai-config"): ContentHash.content(ofConfigMap: config),
            ])
            #expect(try await harness.contentHash() == expected)
            #expect(secret[path: "metadata", "annotations", "beluga-ai.io/managed-keys"] == "openai-api-key")

            // Status and audit: applied version 1, one created record, one rollout record.
            let status = try #require(try await harness.status().keys["openai-api-key"])
            #expect(status.state == .applied && status.version == 1)
            let binding = try SecretBinding(
                namespace: "default", secret: "beluga-ai-secrets", key: "openai-api-key")
            #expect(
                status.fingerprint == Fingerprint(of: SecureBytes(Array(value.utf8)), binding: binding).text)
            try await eventually("the rollout is recorded") {
                await running.sink.records().contains {
                    $0.event == .rolloutTriggered && $0.reason.contains("openai-api-key")
                }
            }
            let records = await running.sink.records()
            #expect(records.filter { $0.event == .secretCreated }.map(\.key) == ["openai-api-key"])
            #expect(try await harness.events(reason: "KeyCreated").count == 1)
            let rolloutEvents = try await harness.events(reason: "RolloutTriggered")
            #expect(!rolloutEvents.isEmpty)
            // Found by listing (items carry no kind), yet named as kubectl describe looks for it.
            #expect(
                rolloutEvents.allSatisfy {
                    $0[path: "involvedObject", "kind"] == "Deployment"
                        && $0[path: "involvedObject", "apiVersion"] == "apps/v1"
                        && $0[path: "involvedObject", "name"] == "beluga-ai"
                })

            // No change: nothing more is written.
            harness.fixture.emulator.resetRequestCounts()
            try await harness.waitForLeaseRenewals(2)
            let rolloutsAfter = await harness.rollouts()
            #expect(rolloutsAfter == before + 1)
            let counts = harness.fixture.emulator.requestCounts()
            let writes = counts.writes - counts.count(verb: "update", resource: "leases")
            #expect(writes == 0, "\(counts.json.jsonText)")

            await running.stop()
            let lines = await running.sink.lines.joined(separator: "\n")
            #expect(markers.leaks(in: lines + harness.log.text).isEmpty)
        }
    }

    /// Installing the agent restarts nothing: with no hash on the Deployment it records the hash of
    /// what the running pods have on the Deployment's metadata, leaving the pod template (and so
    /// the generation) as it was; the first real change then rolls the pods exactly once.
    @Test func aFirstStartRecordsTheHashWithoutARollout() async throws {
        try await withStarted(try await AgentHarness.start()) { harness in
            try await harness.waitForDeploymentController()
            let original = try #require(try await harness.object("deployments", "beluga-ai"))
            let running = harness.startAgent()
            let key = try await harness.publicKey()
            try await harness.waitForCurrentHash()
            let recorded = try #require(try await harness.object("deployments", "beluga-ai"))
            #expect(recorded[path: "metadata", "generation"] == original[path: "metadata", "generation"])
            #expect(recorded[path: "spec", "template"] == original[path: "spec", "template"])
            let label = try #require(recorded[path: "metadata", "labels", ContentHash.label]?.stringValue)
            #expect(label.count == 63)
            #expect(try await harness.templateHash() == nil)
            #expect(await harness.rollouts() == 0)
            // The agent keeps running and answering: still no rollout.
            try await harness.waitForLeaseRenewals(2)
            #expect(await harness.rollouts() == 0)
            #expect(try await harness.events(reason: "RolloutTriggered").isEmpty)

            try await harness.store(
                key: "openai-api-key", envelope: harness.seal("sk-first", key: "openai-api-key", to: key))
            try await eventually("the Deployment restarted") { await harness.rollouts() == 1 }
            try await harness.waitForCurrentHash()
            #expect(try await harness.templateHash() != nil)
            try await harness.waitForLeaseRenewals(2)
            #expect(await harness.rollouts() == 1)
            await running.stop()

            // A new leader finds the hash current: nothing restarts.
            let current = { harness.log.text.components(separatedBy: "is current").count }
            let before = current()
            let again = harness.startAgent(identity: "agent-b")
            try await eventually("the new leader checked the Deployment") { current() > before }
            try await harness.waitForLeaseRenewals(2)
            #expect(await harness.rollouts() == 1)
            await again.stop()
        }
    }

    @Test func threeKeysWithinTheDebounceWindowMakeOneRollout() async throws {
        try await withStarted(try await AgentHarness.start()) { harness in
            // A quiet period far longer than three writes take on a loaded machine, so the
            // three changes fall into one batch whatever the scheduling.
            let running = harness.startAgent(debounce: .seconds(8), maxDelay: .seconds(120))
            let key = try await harness.publicKey()
            try await harness.waitForFirstCheck()
            let before = await harness.rollouts()

            for name in ["openai-api-key", "anthropic-api-key", "cohere-api-key"] {
                try await harness.store(
                    key: name, envelope: harness.seal("value-\(name)", key: name, to: key))
            }
            try await eventually("all three are applied") {
                let values = [
                    try await harness.secretValue("cohere-api-key"),
                    try await harness.secretValue("openai-api-key"),
                    try await harness.secretValue("anthropic-api-key"),
                ]
                return values.allSatisfy { $0 != nil }
            }
            try await eventually("the batch restarted the Deployment") { await harness.rollouts() > before }
            // Past another quiet period (four renewals are a second): still exactly one.
            try await harness.waitForLeaseRenewals(40)
            let after = await harness.rollouts()
            #expect(after == before + 1)
            let rollouts = await running.sink.records().filter { $0.event == .rolloutTriggered }
            #expect(
                rollouts.last?.reason.contains("anthropic-api-key, cohere-api-key, openai-api-key") == true)
            await running.stop()
        }
    }

    @Test func aRestartedAgentWithNothingChangedRestartsNothing() async throws {
        try await withStarted(try await AgentHarness.start()) { harness in
            let first = harness.startAgent()
            let key = try await harness.publicKey()
            try await harness.store(
                key: "openai-api-key", envelope: harness.seal("v1", key: "openai-api-key", to: key))
            try await eventually("the value is applied and rolled out") {
                let value = try await harness.secretValue("openai-api-key")
                let state = try await harness.status().keys["openai-api-key"]?.state
                return value == "v1" && state == .applied
            }
            try await harness.waitForCurrentHash()
            await first.stop()
            let rollouts = await harness.rollouts()
            let generation = try await harness.object("deployments", "beluga-ai")?[
                path: "metadata", "generation"]
            let seq = try await harness.status().auditHead?.seq

            let second = harness.startAgent(identity: "agent-b")
            try await eventually("the new agent is ready") { await second.agent.health().ready }
            // The pod template is unchanged (its generation moves with every change, at once).
            #expect(
                try await harness.object("deployments", "beluga-ai")?[path: "metadata", "generation"]
                    == generation)
            let after = await harness.rollouts()
            #expect(after == rollouts)
            // It printed the last recorded lines again (it cannot know they were printed), and
            // recorded nothing new.
            #expect(try await harness.status().auditHead?.seq == seq)
            await second.stop()
        }
    }

    @Test(arguments: ["tampered", "wrong-kid", "wrong-binding"])
    func aBadEnvelopeIsRejectedOnceAndThePreviousValueStays(kind: String) async throws {
        try await withStarted(try await AgentHarness.start()) { harness in
            let running = harness.startAgent()
            let key = try await harness.publicKey()
            try await harness.store(
                key: "openai-api-key", envelope: harness.seal("good", key: "openai-api-key", to: key))
            try await eventually("the good value is applied") {
                try await harness.secretValue("openai-api-key") == "good"
            }

            let bad: String
            switch kind {
            case "tampered":
                var envelope = Array(try harness.seal("evil", key: "openai-api-key", to: key).utf8)
                let index = envelope.count - 10
                envelope[index] = envelope[index] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
                bad = String(decoding: envelope, as: UTF8.self)
            case "wrong-kid":
                bad = try harness.seal("evil", key: "openai-api-key", to: SealingKeyPair.generate().publicKey)
            default:
                bad = try harness.seal("evil", key: "openai-api-key", to: key, namespace: "staging")
            }
            let version = try await harness.store(key: "openai-api-key", envelope: bad)
            try await eventually("the envelope is rejected") {
                try await harness.status().keys["openai-api-key"]?.state == .rejected
            }
            let status = try #require(try await harness.status().keys["openai-api-key"])
            #expect(status.version == version)
            let expectedReason = [
                "tampered": "does not open", "wrong-kid": "sealed to", "wrong-binding": "namespace",
            ][kind]
            #expect(status.reason.contains(expectedReason ?? "?"), "\(status.reason)")

            // A resync and an unrelated change do not report it again.
            try await harness.store(key: "other-key", envelope: harness.seal("x", key: "other-key", to: key))
            try await eventually("the other key is applied") {
                try await harness.secretValue("other-key") == "x"
            }
            #expect(try await harness.secretValue("openai-api-key") == "good")
            let rejections = await running.sink.records().filter { $0.event == .secretRejected }
            #expect(rejections.count == 1)
            #expect(rejections.first?.version == version)
            try await eventually("the rejection is reported as an Event") {
                try await !harness.events(reason: "EnvelopeRejected").isEmpty
            }
            let events = try await harness.events(reason: "EnvelopeRejected")
            #expect(events.count == 1)
            #expect(events.first?["count"] == 1)
            #expect(events.first?["type"] == "Warning")
            await running.stop()
            let printed = await running.sink.lines.joined()
            #expect(!printed.contains("evil"))
        }
    }

    @Test func aHandEditOfAManagedKeyIsSetBackAndReported() async throws {
        try await withStarted(try await AgentHarness.start()) { harness in
            let running = harness.startAgent()
            let key = try await harness.publicKey()
            try await harness.store(
                key: "openai-api-key", envelope: harness.seal("sealed", key: "openai-api-key", to: key))
            try await eventually("applied") { try await harness.secretValue("openai-api-key") == "sealed" }

            // An operator edits the managed key and adds one of their own.
            var secret = try #require(try await harness.object("secrets", "beluga-ai-secrets"))
            secret[path: "data", "openai-api-key"] = .string(Data("by-hand".utf8).base64EncodedString())
            secret[path: "data", "unmanaged"] = .string(Data("mine".utf8).base64EncodedString())
            try await harness.fixture.emulator.put(secret)

            try await eventually("the managed key is set back") {
                try await harness.secretValue("openai-api-key") == "sealed"
            }
            #expect(try await harness.secretValue("unmanaged") == "mine")
            try await eventually("the revert is recorded") {
                await running.sink.records().contains { $0.reason.hasPrefix("set back") }
            }
            try await eventually("the revert is reported as an Event") {
                try await harness.events(reason: "HandEditReverted").count == 1
            }
            await running.stop()
        }
    }

    @Test func deletingAKeyRemovesItAndLeavesOthersAlone() async throws {
        try await withStarted(try await AgentHarness.start()) { harness in
            let running = harness.startAgent()
            let key = try await harness.publicKey()
            try await harness.store(key: "a", envelope: harness.seal("1", key: "a", to: key))
            try await harness.store(key: "b", envelope: harness.seal("2", key: "b", to: key))
            try await eventually("applied") {
                let a = try await harness.secretValue("a")
                let b = try await harness.secretValue("b")
                return a == "1" && b == "2"
            }
            try await harness.delete(key: "a")
            try await eventually("the key is gone") { try await harness.secretValue("a") == nil }
            #expect(try await harness.secretValue("b") == "2")
            try await eventually("the deletion is recorded") {
                await running.sink.records().contains { $0.event == .secretDeleted && $0.key == "a" }
            }
            let secret = try await harness.object("secrets", "beluga-ai-secrets")
            #expect(secret?[path: "metadata", "annotations", "beluga-ai.io/managed-keys"] == "b")
            await running.stop()
        }
    }

    @Test func twoAgentsElectOneLeaderAndFailoverLosesNoChange() async throws {
        try await withStarted(try await AgentHarness.start()) { harness in
            let a = harness.startAgent(identity: "agent-a")
            let key = try await harness.publicKey()
            let b = harness.startAgent(identity: "agent-b")
            try await eventually("b stands by") { await b.agent.health().ready }
            let aLeads = await a.agent.health().leader
            let bLeads = await b.agent.health().leader
            #expect(aLeads && !bLeads)

            try await harness.store(key: "k", envelope: harness.seal("v1", key: "k", to: key))
            try await eventually("a applies v1") { try await harness.secretValue("k") == "v1" }
            let standbyLines = await b.sink.lines
            #expect(standbyLines.isEmpty)

            // a stops; a change made while it goes is applied by b.
            await a.stop()
            try await harness.store(key: "k", envelope: harness.seal("v2", key: "k", to: key))
            try await eventually("b takes over and applies v2") { try await harness.secretValue("k") == "v2" }
            try await eventually("b records it") {
                await b.sink.records().contains { $0.event == .secretRotated && $0.key == "k" }
            }
            let bLeadsNow = await b.agent.health().leader
            #expect(bLeadsNow)
            let lease = try await harness.object("leases", "beluga-secrets-agent")
            #expect(lease?[path: "spec", "holderIdentity"] == "agent-b")
            // One chain across both agents.
            var log = AuditLog()
            let linesA = await a.sink.lines
            let linesB = await b.sink.lines
            log.read((linesA + linesB).joined(separator: "\n"), source: "agents")
            let identity = try #require(
                try await harness.object("configmaps", "beluga-secrets-public-key")?[
                    path: "data", "identity.pub"]?
                    .stringValue)
            let verification = AuditVerifier.verify(
                log, identityKey: { _ in try? SigningPublicKey(base64: identity) })
            #expect(verification.isComplete, "\(verification.findings)")
            #expect(
                log.records.contains { $0.agent == "agent-b" && $0.event == .secretRotated && $0.key == "k" })
            await b.stop()
        }
    }

    /// The API cost of one rotation: the events echoing the agent's own writes start no
    /// reconcile, the sealed store, the Secret, the signers and the Deployment named by
    /// `--deployment` are watched, so their reads are answered from the watches' cache and none
    /// reaches the server, and each write is made once; with `--debounce 0s` the rollout is
    /// recorded in the same status write as the rotation. At most 6 requests in all.
    @Test func oneRotationCostsABoundedNumberOfRequests() async throws {
        try await withStarted(try await AgentHarness.start()) { harness in
            // As the chart runs it: the Deployment by name.
            let running = harness.startAgent(debounce: .zero, deployments: ["beluga-ai"])
            let key = try await harness.publicKey()
            try await harness.waitForFirstCheck()
            let emulator = harness.fixture.emulator
            func settled() async throws {
                // Quiet: no request to the objects of a rotation for a second.
                var last = -1
                for _ in 0..<60 {
                    let now = ["configmaps", "secrets", "deployments"].map {
                        emulator.requestCounts().count(resource: $0)
                    }.reduce(0, +)
                    if now == last { return }
                    last = now
                    try await Task.sleep(for: .seconds(1))
                }
                Issue.record("the agent did not go quiet within a minute")
            }
            // Each version is written in process, so that every request counted is the agent's.
            func store(_ value: String) async throws {
                let rollouts = await running.sink.records().filter { $0.event == .rolloutTriggered }.count
                let object =
                    try await harness.object("configmaps", harness.names.sealedStore)
                    ?? SealedStore().newConfigMap(
                        name: harness.names.sealedStore, namespace: harness.namespace)
                var store = try SealedStore(configMap: object)
                store.set(
                    key: "openai-api-key", envelope: try harness.seal(value, key: "openai-api-key", to: key),
                    fingerprint: "", sealedBy: "alice@ws1", sealedAt: RFC3339.format(.now()))
                _ = try await emulator.put(store.writingEnvelopesAndVersions(into: object))
                try await eventually("the rollout is recorded") {
                    await running.sink.records().filter { $0.event == .rolloutTriggered }.count > rollouts
                }
            }
            try await store("sk-first")
            try await settled()
            let before = emulator.requestCounts()
            try await store("sk-second")
            try await settled()
            let after = emulator.requestCounts()
            func made(_ verb: String, _ resource: String, _ name: String) -> Int {
                after.count(verb: verb, resource: resource, name: name)
                    - before.count(verb: verb, resource: resource, name: name)
            }
            let names = harness.names
            let costs = [
                "get store": made("get", "configmaps", names.sealedStore),
                "get secret": made("get", "secrets", names.secret),
                "get signers": made("get", "configmaps", names.signers),
                "write secret": made("create", "secrets", names.secret)
                    + made("update", "secrets", names.secret),
                "patch deployment": made("patch", "deployments", "beluga-ai"),
                "get status": made("get", "configmaps", names.status),
                "write status": made("create", "configmaps", names.status)
                    + made("update", "configmaps", names.status),
                "get deployment": made("get", "deployments", "beluga-ai"),
                "list deployments": after.count(verb: "list", resource: "deployments")
                    - before.count(verb: "list", resource: "deployments"),
            ]
            // Every request the agent made for the rotation, but its watches (long-lived, started
            // before) and its lease renewals (on a timer, whatever happens).
            func all(_ counts: RequestCounts) -> Int {
                counts.total - counts.count(verb: "watch") - counts.count(resource: "leases")
            }
            let total = all(after) - all(before)
            #expect(costs["write secret"] == 1, "\(costs)")
            #expect(costs["patch deployment"] == 1, "\(costs)")
            // Nothing else writes these objects here, so no conflict sends a read to the server.
            #expect(costs["get store"] == 0, "\(costs)")
            #expect(costs["get secret"] == 0, "\(costs)")
            #expect(costs["get signers"] == 0, "\(costs)")
            // The agent's status object is not watched: while the agent leads, the status in
            // memory is the truth, so it is written (with the audit head of the rotation's records,
            // and of the rollout's) and never read back.
            #expect(costs["get status"] == 0, "\(costs)")
            #expect(costs["write status"] == 1, "\(costs)")
            #expect(costs["get deployment"] == 0 && costs["list deployments"] == 0, "\(costs)")
            // The Secret, the status, the Deployment, an Event each for the rotation and the rollout.
            #expect(total <= 6, "\(total) requests: \(after.json.jsonText)")
            await running.stop()
        }
    }

    @Test func watchDropsAndInjected503sStillConverge() async throws {
        try await withStarted(try await AgentHarness.start()) { harness in
            let running = harness.startAgent()
            let key = try await harness.publicKey()
            try await harness.waitForFirstCheck()
            harness.fixture.emulator.faults.plan = FaultPlan(
                errors: [
                    // The first writes of the Secret fail for certain, then three in ten requests.
                    FaultPlan.ErrorFault(
                        code: 503, count: 2, retryAfterSeconds: 0,
                        match: .init(verbs: ["update", "create"], resources: ["secrets"])),
                    FaultPlan.ErrorFault(
                        code: 503, share: 0.3, retryAfterSeconds: 0,
                        match: .init(
                            verbs: ["get", "update", "patch", "create"],
                            resources: ["secrets", "configmaps", "deployments"])),
                ],
                dropWatchAfterEvents: 2)
            for index in 0..<6 {
                try await harness.store(
                    key: "key-\(index)",
                    envelope: harness.seal("value-\(index)", key: "key-\(index)", to: key))
            }
            try await eventually("every key is applied", timeout: .seconds(30)) {
                for index in 0..<6 where try await harness.secretValue("key-\(index)") != "value-\(index)" {
                    return false
                }
                return true
            }
            harness.fixture.emulator.faults.reset()
            #expect(harness.log.text.contains("trying again"))
            try await eventually("every key's status is recorded", timeout: .seconds(15)) {
                try await harness.status().keys.values.filter { $0.state == .applied }.count == 6
            }
            try await harness.waitForCurrentHash(timeout: .seconds(15))
            await running.stop()
            let created = await running.sink.records().filter { $0.event == .secretCreated }.map(\.key)
            #expect(Set(created) == Set((0..<6).map { "key-\($0)" }))
        }
    }

    @Test func keysRotateMakesANewCurrentKeyAndReSealsTheStore() async throws {
        try await withStarted(try await AgentHarness.start()) { harness in
            let running = harness.startAgent(retireKeysAfter: .zero)
            let first = try await harness.publicKey()
            try await harness.store(key: "k", envelope: harness.seal("value", key: "k", to: first))
            try await eventually("applied") { try await harness.secretValue("k") == "value" }
            try await harness.waitForCurrentHash()
            let rollouts = await harness.rollouts()

            let outcome = try await SealingKeyRotation.request(
                client: harness.client, namespace: "default", configMap: "beluga-secrets-public-key",
                timeout: .seconds(10))
            #expect(outcome.previous == first.keyID.hex)
            #expect(outcome.current.kid != first.keyID.hex)
            try await eventually("the stored envelope is re-sealed to the new key and the old key retired") {
                let store = try await harness.store()
                guard let text = store.envelopes["k"], let envelope = try? Envelope.parse(text) else {
                    return false
                }
                let published = try await harness.object("configmaps", "beluga-secrets-public-key")
                let keys = try published.map { try PublishedKeys(configMap: $0, namespace: "default") }
                return envelope.keyID.hex == outcome.current.kid
                    && keys?.keys.first { $0.kid == first.keyID.hex }?.state == .retired
            }
            // Same value, same version: no rotation of the value, no restart.
            #expect(try await harness.store().version(of: "k") == 1)
            #expect(try await harness.secretValue("k") == "value")
            try await harness.waitForLeaseRenewals(2)
            let after = await harness.rollouts()
            #expect(after == rollouts)
            let records = await running.sink.records()
            #expect(records.filter { $0.event == .secretRotated }.isEmpty)
            #expect(records.filter { $0.event == .sealingKeyRotated }.count == 3)  // rotated, re-sealed, retired
            // The private key of the retired kid is gone.
            let keySecret = try await harness.object("secrets", "beluga-secrets-sealing-key")
            #expect(keySecret?[path: "data", "\(first.keyID.hex).key"] == nil)
            await running.stop()
        }
    }
}

import Foundation
import JSONValue
import KubeAPI
import Sealing
import Testing

@testable import SecretSync
import TestSupport

/// Signed rotations end to end: the agent in process against the emulator, the allowed signers
/// in ConfigMap beluga-secrets-signers, envelopes stored as `set` stores them.
@Suite(.serialized) struct SignedRotationTests {
    let key = "openai-api-key"
    let alice = SigningKeyPair.generate()
    let bob = SigningKeyPair.generate()
    let mallory = SigningKeyPair.generate()

    /// Runs `body` with an emulator with alice and bob allowed and a running agent, stopped when
    /// `body` ends.
    func withSignedAgent(
        _ policy: SignaturePolicy, _ body: (AgentHarness, RunningAgent, SealingPublicKey) async throws -> Void
    ) async throws {
        let alice = self.alice
        let bob = self.bob
        try await withStarted(try await AgentHarness.start()) { harness in
            try await harness.editSigners { (signers: inout AllowedSigners) throws(AllowedSignersError) in
                try signers.add(name: "alice", key: alice.publicKey)
                try signers.add(name: "bob", key: bob.publicKey)
            }
            // The chart renders the sealed store (the agent no longer creates one): with it, the
            // agent reconciles, and reports its policy, from the start.
            try await harness.fixture.emulator.put([
                "apiVersion": "v1", "kind": "ConfigMap",
                "metadata": ["name": "beluga-ai-secrets-sealed", "namespace": .string(harness.namespace)],
            ])
            let running = harness.startAgent(signatures: policy)
            try await body(harness, running, try await harness.publicKey())
        }
    }

    func waitForStatus(
        _ harness: AgentHarness, version: Int, _ state: SyncStatus.State,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> SyncStatus {
        let key = self.key
        try await eventually("version \(version) is \(state.rawValue)", sourceLocation: sourceLocation) {
            let status = try await harness.status().keys[key]
            return status?.version == version && status?.state == state
        }
        return try #require(try await harness.status().keys[key])
    }

    /// The audit record of `version` of the key, once the agent printed it (it prints after it
    /// records the status).
    func record(
        _ running: RunningAgent, version: Int, _ event: AuditEvent,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> AuditRecord {
        let key = self.key
        try await eventually("version \(version) is recorded", sourceLocation: sourceLocation) {
            await running.sink.records().contains {
                $0.key == key && $0.version == version && $0.event == event
            }
        }
        return try #require(
            await running.sink.records().last { $0.key == key && $0.version == version && $0.event == event },
            sourceLocation: sourceLocation)
    }

    func tampered(_ envelope: String) -> String {
        var bytes = Array(envelope.utf8)
        let index = bytes.count - 5
        bytes[index] = bytes[index] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        return String(decoding: bytes, as: UTF8.self)
    }

    @Test func aSignedSetIsAppliedWithTheSignerInTheAuditRecord() async throws {
        try await withSignedAgent(.required) { harness, running, sealingKey in
            var markers = LeakMarkers()
            let value = markers.make("signed")
            let version = try await harness.store(
                key: key,
                envelope: harness.sealSigned(value, key: key, to: sealingKey, version: 1, signer: alice)
            )
            _ = try await waitForStatus(harness, version: version, .applied)
            #expect(try await harness.secretValue(key) == value)
            try await eventually("the change is recorded") {
                await running.sink.records().contains { $0.event == .secretCreated }
            }
            let record = try #require(await running.sink.records().first { $0.event == .secretCreated })
            #expect(record.signer == "alice")
            #expect(record.signerKeyId == alice.signerID.hex)
            #expect(record.sealedBy == "alice@ws1")
            #expect(ChangeSignature(record) == .verified)
            let applied = try await harness.appliedVersions()
            #expect(applied[key]?.version == 1)
            #expect(applied[key]?.fingerprint == record.fingerprint)
            try await eventually("the change is reported as an Event") {
                try await harness.events(reason: "KeyCreated").count == 1
            }
            await running.stop()
            #expect(markers.leaks(in: await running.sink.lines.joined() + harness.log.text).isEmpty)
        }
    }

    /// A signed value delivered by Helm (`sealedSecrets`, sealed offline with `seal --version 7`)
    /// has no version record in the store; the agent publishes the signed version it applied, and
    /// the next change a writer numbers from the store is above it, so `required` applies it
    /// rather than refusing it as a replay.
    @Test func aChangeAfterASignedValueFromHelmIsNumberedAboveIt() async throws {
        try await withSignedAgent(.required) { harness, running, sealingKey in
            try await harness.fixture.emulator.put([
                "apiVersion": "v1", "kind": "ConfigMap",
                "metadata": [
                    "name": .string(harness.names.sealedStore), "namespace": .string(harness.namespace),
                ],
                "data": [
                    .init(key): .string(
                        try harness.sealSigned(
                            "from-helm", key: key, to: sealingKey, version: 7, signer: alice))
                ],
            ])
            let key = self.key
            try await eventually("the agent publishes the signed version it applied") {
                try await harness.status().keys[key]?.signedVersion == 7
            }
            #expect(try await harness.secretValue(key) == "from-helm")
            let next = try await harness.store().nextVersion(of: key)
            #expect(next == 8)
            let version = try await harness.store(
                key: key,
                envelope: harness.sealSigned(
                    "after-helm", key: key, to: sealingKey, version: next, signer: bob))
            #expect(version == next)
            let status = try await waitForStatus(harness, version: version, .applied)
            #expect(status.signedVersion == 8)
            #expect(try await harness.secretValue(key) == "after-helm")
            await running.stop()
        }
    }

    /// Unsigned, forged, tampered and replayed envelopes, one after another, on a key whose
    /// version 2 (signed by bob) is applied.
    func badEnvelopes(_ harness: AgentHarness, _ sealingKey: SealingPublicKey) async throws -> [(
        String, String
    )] {
        let binding = try SecretBinding(namespace: harness.namespace, secret: harness.names.secret, key: key)
        let replayed = try harness.sealSigned("one", key: key, to: sealingKey, version: 1, signer: alice)
        try await harness.store(key: key, envelope: replayed)
        try await harness.store(
            key: key, envelope: harness.sealSigned("two", key: key, to: sealingKey, version: 2, signer: bob))
        _ = try await waitForStatus(harness, version: 2, .applied)
        return [
            ("unsigned", try harness.seal("value-unsigned", key: key, to: sealingKey)),
            (
                "forged",
                try Envelope.seal(
                    SecureBytes(Array("value-forged".utf8)), for: binding, to: sealingKey,
                    sealedBy: "alice@ws1",
                    version: 9, signer: mallory
                ).text
            ),
            (
                "tampered",
                tampered(
                    try harness.sealSigned(
                        "value-tampered", key: key, to: sealingKey, version: 9, signer: alice))
            ),
            ("replayed", replayed),
        ]
    }

    @Test func requiredRefusesUnsignedForgedTamperedAndReplayedEnvelopes() async throws {
        try await withSignedAgent(.required) { harness, running, sealingKey in
            let reasons = [
                "unsigned": "is not signed",
                "forged": "signer \(mallory.signerID), which is not an allowed signer",
                "tampered": "in the name of signer alice (\(alice.signerID)) does not verify",
                "replayed": "version 1 is not higher than version 2",
            ]
            for (index, (kind, envelope)) in try await badEnvelopes(harness, sealingKey).enumerated() {
                let version = try await harness.store(key: key, envelope: envelope)
                let status = try await waitForStatus(harness, version: version, .rejected)
                #expect(status.reason.contains(reasons[kind] ?? "?"), "\(kind): \(status.reason)")
                #expect(try await harness.secretValue(key) == "two", "\(kind): the previous value stays")
                _ = try await record(running, version: version, .secretRejected)
                let rejections = await running.sink.records().filter { $0.event == .secretRejected }
                #expect(rejections.count == index + 1, "\(kind): one record per rejected envelope")
                #expect(rejections.last?.version == version)
                #expect(rejections.last?.reason == status.reason)
                try await eventually("\(kind) is reported as an Event") {
                    try await harness.events(reason: "EnvelopeRejected").count == index + 1
                }
            }
            let events = try await harness.events(reason: "EnvelopeRejected")
            #expect(events.allSatisfy { $0["count"] == 1 && $0["type"] == "Warning" })
            #expect(try await harness.appliedVersions()[key]?.version == 2)
            await running.stop()
            let printed = await running.sink.lines.joined() + harness.log.text
            for value in ["value-unsigned", "value-forged", "value-tampered"] {
                #expect(!printed.contains(value))
            }
        }
    }

    @Test func optionalAppliesTheSameEnvelopesButFlagsThem() async throws {
        try await withSignedAgent(.optional) { harness, running, sealingKey in
            let expected: [String: ChangeSignature] = [
                "unsigned": .unsigned, "forged": .unverified, "tampered": .unverified, "replayed": .replayed,
            ]
            let values = [
                "unsigned": "value-unsigned", "forged": "value-forged", "tampered": "value-tampered",
                "replayed": "one",
            ]
            for (kind, envelope) in try await badEnvelopes(harness, sealingKey) {
                let version = try await harness.store(key: key, envelope: envelope)
                _ = try await waitForStatus(harness, version: version, .applied)
                #expect(try await harness.secretValue(key) == values[kind])
                let record = try await record(running, version: version, .secretRotated)
                #expect(ChangeSignature(record) == expected[kind], "\(kind): \(record.reason)")
            }
            #expect(await running.sink.records().filter { $0.event == .secretRejected }.isEmpty)
            // Nothing unproven moved the applied version.
            #expect(try await harness.appliedVersions()[key]?.version == 2)
            await running.stop()
        }
    }

    @Test func aRemovedSignersNewEnvelopesAreRefusedWhileItsValuesStay() async throws {
        try await withSignedAgent(.required) { harness, running, sealingKey in
            try await harness.store(
                key: key,
                envelope: harness.sealSigned("by-alice", key: key, to: sealingKey, version: 1, signer: alice))
            try await harness.store(
                key: "other",
                envelope: harness.sealSigned("x", key: "other", to: sealingKey, version: 1, signer: alice))
            _ = try await waitForStatus(harness, version: 1, .applied)
            // Both of her envelopes are applied before she is removed (one still pending would be
            // refused).
            try await eventually("her other value is applied") {
                try await harness.secretValue("other") == "x"
            }

            try await harness.editSigners { (signers: inout AllowedSigners) throws(AllowedSignersError) in
                try signers.remove(name: "alice", at: "2026-02-01T00:00:00Z", by: "admin@ws")
            }
            try await eventually("the agent read the new list") {
                harness.log.text.contains("1 allowed signer, 1 removed")
            }
            // Her values stay, without a rejection.
            try await harness.store(
                key: "third",
                envelope: harness.sealSigned("3", key: "third", to: sealingKey, version: 1, signer: bob))
            try await eventually("an unrelated change is applied") {
                try await harness.secretValue("third") == "3"
            }
            #expect(try await harness.secretValue(key) == "by-alice")
            #expect(try await harness.status().keys[key]?.state == .applied)
            #expect(await running.sink.records().filter { $0.event == .secretRejected }.isEmpty)

            // Her new envelope is refused, naming her as removed.
            let version = try await harness.store(
                key: key,
                envelope: harness.sealSigned(
                    "alice-again", key: key, to: sealingKey, version: 2, signer: alice))
            let status = try await waitForStatus(harness, version: version, .rejected)
            #expect(
                status.reason.contains("signer alice (\(alice.signerID)), removed from the allowed signers"))
            #expect(try await harness.secretValue(key) == "by-alice")
            #expect(try await harness.secretValue("other") == "x")

            // Another signer takes over the key.
            let next = try await harness.store(
                key: key,
                envelope: harness.sealSigned("by-bob", key: key, to: sealingKey, version: 3, signer: bob))
            _ = try await waitForStatus(harness, version: next, .applied)
            #expect(try await harness.secretValue(key) == "by-bob")
            await running.stop()
        }
    }

    @Test func aSignedRollbackIsAppliedAndRecordedAsARollback() async throws {
        try await withSignedAgent(.required) { harness, running, sealingKey in
            for (version, value) in [(1, "first"), (2, "second")] {
                try await harness.store(
                    key: key,
                    envelope: harness.sealSigned(
                        value, key: key, to: sealingKey, version: version, signer: alice)
                )
            }
            _ = try await waitForStatus(harness, version: 2, .applied)

            // Without a signature the old envelope is a replay.
            let unsigned = try await harness.rollback(key: key, to: 1, signer: nil)
            let refused = try await waitForStatus(harness, version: unsigned, .rejected)
            #expect(refused.reason.contains("version 1 is not higher than version 2"))
            #expect(try await harness.secretValue(key) == "second")

            // Signed by bob: restored, as version 4.
            let back = try await harness.rollback(key: key, to: 1, signer: bob)
            #expect(back == 4)
            _ = try await waitForStatus(harness, version: back, .applied)
            #expect(try await harness.secretValue(key) == "first")
            let record = try await record(running, version: back, .secretRotated)
            #expect(record.signer == "bob" && record.signerKeyId == bob.signerID.hex)
            #expect(record.version == 4)
            #expect(
                record.reason.hasPrefix(
                    "rollback from version 3 to the envelope of version 1, signed by bob"),
                "\(record.reason)")
            #expect(record.reason.contains("signed by alice (\(alice.signerID))"))
            #expect(ChangeSignature(record) == .verified)
            #expect(try await harness.appliedVersions()[key]?.version == back)

            // The old version 2 envelope replayed after the rollback is refused.
            let replay = try await harness.store(
                key: key,
                envelope: harness.sealSigned("second", key: key, to: sealingKey, version: 2, signer: alice))
            _ = try await waitForStatus(harness, version: replay, .rejected)
            #expect(try await harness.secretValue(key) == "first")
            await running.stop()
        }
    }

    @Test func theNamespacesAnnotationOverridesTheFlagAndIsFollowedLive() async throws {
        try await withSignedAgent(.optional) { harness, running, sealingKey in
            var signers = try #require(try await harness.object("configmaps", "beluga-secrets-signers"))
            signers[path: "metadata", "annotations", AllowedSigners.policyAnnotation] = "required"
            try await harness.fixture.emulator.put(signers)
            try await eventually("the agent follows the annotation") {
                harness.log.text.contains("signatures required (annotation beluga-ai.io/signatures)")
            }
            let version = try await harness.store(
                key: key, envelope: harness.seal("plain", key: key, to: sealingKey))
            _ = try await waitForStatus(harness, version: version, .rejected)
            #expect(try await harness.secretValue(key) == nil)

            // Back to optional: the same envelope is applied, flagged as unsigned.
            signers = try #require(try await harness.object("configmaps", "beluga-secrets-signers"))
            signers[path: "metadata", "annotations", AllowedSigners.policyAnnotation] = "optional"
            try await harness.fixture.emulator.put(signers)
            _ = try await waitForStatus(harness, version: version, .applied)
            #expect(try await harness.secretValue(key) == "plain")
            let record = try await record(running, version: version, .secretCreated)
            #expect(ChangeSignature(record) == .unsigned)
            await running.stop()
        }
    }
}

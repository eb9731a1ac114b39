import JSONValue
import Sealing
import Testing

@testable import SecretSync

/// Which keys are Helm's, what the agent reports about their envelopes after a rotation, and
/// what the workstation prints from that report.
@Suite struct HelmResealPlanTests {
    let old = SealingKeyPair.generate()
    let current = SealingKeyPair.generate()
    var keyring: SealingKeyring { SealingKeyring(current: current, others: [old]) }
    let now = "2026-12-06T01:00:00Z"

    func sealedStore(annotation: JSON? = nil, managedFields: [JSON] = []) -> JSON {
        var metadata: JSON = ["name": "beluga-ai-secrets-sealed", "namespace": "prod"]
        if let annotation { metadata["annotations"] = [HelmOwnership.annotation: annotation] }
        if !managedFields.isEmpty { metadata["managedFields"] = .array(managedFields) }
        return ["apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata]
    }

    func seal(_ value: String, key: String, to publicKey: SealingPublicKey) throws -> String {
        let binding = try SecretBinding(namespace: "prod", secret: "beluga-ai-secrets", key: key)
        return try Envelope.seal(
            SecureBytes(Array(value.utf8)), for: binding, to: publicKey, sealedBy: "ci@values",
            sealedAt: "2026-12-01T00:00:00Z"
        ).text
    }

    func open(_ text: String, key: String) throws -> (value: SecureBytes, sealedBy: String, sealedAt: String)
    {
        let binding = try SecretBinding(namespace: "prod", secret: "beluga-ai-secrets", key: key)
        let payload = try keyring.open(try Envelope.parse(text), expecting: binding)
        return (payload.value, payload.sealedBy, payload.sealedAt)
    }

    func bytes(_ text: String) -> SecureBytes { SecureBytes(Array(text.utf8)) }

    // MARK: - Ownership

    @Test func theChartsAnnotationAndHelmsFieldManagerNameTheKeys() {
        let ownership = HelmOwnership(
            configMap: sealedStore(
                annotation: "openai-api-key, anthropic-api-key,",
                managedFields: [
                    [
                        "manager": "helm", "operation": "Apply",
                        "fieldsV1": ["f:data": ["f:cohere-api-key": [:], ".": [:]]],
                    ],
                    // Another manager's fields are not Helm's.
                    [
                        "manager": "beluga-secrets", "operation": "Update",
                        "fieldsV1": ["f:data": ["f:set-key": [:]]],
                    ],
                ]))
        #expect(ownership.keys == ["openai-api-key", "anthropic-api-key", "cohere-api-key"])
        #expect(ownership.problems.isEmpty)
        #expect(HelmOwnership(configMap: sealedStore()).keys.isEmpty)
    }

    @Test func anAnnotationOutOfBoundsIsIgnoredAsAWholeAndNamed() {
        let bad: [JSON] = [
            "openai-api-key,not a key",
            .string(String(repeating: "k,", count: HelmOwnership.maximumKeys + 1)),
            .string(String(repeating: "a", count: HelmOwnership.maximumAnnotationBytes + 1)),
            42,
        ]
        for value in bad {
            let ownership = HelmOwnership(
                configMap: sealedStore(
                    annotation: value,
                    managedFields: [["manager": "helm", "fieldsV1": ["f:data": ["f:kept": [:]]]]]))
            // What Helm's field manager owns still counts; the annotation adds nothing.
            #expect(ownership.keys == ["kept"])
            #expect(ownership.problems.count == 1)
            let problem = ownership.problems.first?.description ?? ""
            #expect(problem.contains("annotation beluga-ai.io/helm-managed-keys"), "\(problem)")
            #expect(problem.utf8.count < 300)
        }
    }

    // MARK: - The agent's report

    @Test func helmEnvelopesOnAPreviousKeyAreReportedReSealedNotRewritten() throws {
        let helmText = try seal("sk-helm", key: "openai-api-key", to: old.publicKey)
        let mineText = try seal("sk-mine", key: "set-key", to: old.publicKey)
        let currentText = try seal("sk-new", key: "anthropic-api-key", to: current.publicKey)
        var store = SealedStore()
        store.envelopes = ["openai-api-key": helmText, "set-key": mineText, "anthropic-api-key": currentText]
        let plan = HelmResealPlan(
            store: store, helmOwned: ["openai-api-key", "anthropic-api-key", "absent-key"], keyring: keyring,
            previous: [:], namespace: "prod", secret: "beluga-ai-secrets", now: now)
        // Only the Helm key on the previous key: not the one already current, not one the agent
        // re-seals itself.
        #expect(Array(plan.entries.keys) == ["openai-api-key"])
        #expect(plan.fresh == ["openai-api-key"])
        let entry = try #require(plan.entries["openai-api-key"])
        #expect(entry.kid == old.keyID.hex && entry.current == current.keyID.hex)
        #expect(entry.source == HelmReseal.source(of: helmText))
        #expect(!entry.signed && entry.since == now)
        let published = try Envelope.parse(entry.envelope)
        #expect(published.format == .v1 && published.keyID == current.keyID)
        // Same value, author and time, to the current key.
        let opened = try open(entry.envelope, key: "openai-api-key")
        #expect(
            opened.value == bytes("sk-helm") && opened.sealedBy == "ci@values"
                && opened.sealedAt == "2026-12-01T00:00:00Z")
        #expect(
            HelmResealPlan.isCurrent(
                plan.entries, store: store, helmOwned: ["openai-api-key"], keyring: keyring))

        // The next reconcile keeps the entry as it is: nothing re-sealed twice, no new Event.
        let again = HelmResealPlan(
            store: store, helmOwned: ["openai-api-key"], keyring: keyring, previous: plan.entries,
            namespace: "prod", secret: "beluga-ai-secrets", now: "2026-12-06T02:00:00Z")
        #expect(again.entries == plan.entries)
        #expect(again.fresh.isEmpty)

        // The values upgraded in: nothing left to report, and the old report is out of date.
        store.envelopes["openai-api-key"] = entry.envelope
        #expect(
            !HelmResealPlan.isCurrent(
                plan.entries, store: store, helmOwned: ["openai-api-key"], keyring: keyring))
        let done = HelmResealPlan(
            store: store, helmOwned: ["openai-api-key"], keyring: keyring, previous: plan.entries,
            namespace: "prod", secret: "beluga-ai-secrets", now: now)
        #expect(done.entries.isEmpty && done.fresh.isEmpty)
        #expect(HelmResealPlan.isCurrent([:], store: store, helmOwned: ["openai-api-key"], keyring: keyring))
    }

    @Test func aNewEnvelopeInTheValuesIsReportedAgain() throws {
        var store = SealedStore()
        store.envelopes["k"] = try seal("one", key: "k", to: old.publicKey)
        let first = HelmResealPlan(
            store: store, helmOwned: ["k"], keyring: keyring, previous: [:], namespace: "prod",
            secret: "beluga-ai-secrets", now: now)
        store.envelopes["k"] = try seal("two", key: "k", to: old.publicKey)
        #expect(!HelmResealPlan.isCurrent(first.entries, store: store, helmOwned: ["k"], keyring: keyring))
        let second = HelmResealPlan(
            store: store, helmOwned: ["k"], keyring: keyring, previous: first.entries, namespace: "prod",
            secret: "beluga-ai-secrets", now: now)
        #expect(second.fresh == ["k"])
        #expect(try open(try #require(second.entries["k"]).envelope, key: "k").value == bytes("two"))
    }

    @Test func aSignedEnvelopeIsReportedForItsSignerWithoutAReSeal() throws {
        let signer = SigningKeyPair.generate()
        let binding = try SecretBinding(namespace: "prod", secret: "beluga-ai-secrets", key: "k")
        var store = SealedStore()
        store.envelopes["k"] =
            try Envelope.seal(
                SecureBytes(Array("v".utf8)), for: binding, to: old.publicKey, sealedBy: "ci", version: 4,
                signer: signer
            ).text
        store.versions["k"] = SealedVersion(version: 4, fingerprint: "", sealedBy: "ci", sealedAt: now)
        let plan = HelmResealPlan(
            store: store, helmOwned: ["k"], keyring: keyring, previous: [:], namespace: "prod",
            secret: "beluga-ai-secrets", now: now)
        let entry = try #require(plan.entries["k"])
        #expect(entry.signed && entry.envelope.isEmpty && entry.version == 4)
        #expect(plan.fresh == ["k"])
    }

    @Test func anEnvelopeThatDoesNotOpenIsLeftToTheReconcile() throws {
        var store = SealedStore()
        // Sealed for another key name: the reconcile refuses it and says why.
        store.envelopes["k"] = try seal("v", key: "other", to: old.publicKey)
        let plan = HelmResealPlan(
            store: store, helmOwned: ["k"], keyring: keyring, previous: [:], namespace: "prod",
            secret: "beluga-ai-secrets", now: now)
        #expect(plan.entries.isEmpty)
    }

    @Test func theEventNamesTheKeysAndTheCommands() throws {
        let unsigned = HelmReseal(
            kid: old.keyID.hex, current: current.keyID.hex, source: String(repeating: "0", count: 64),
            envelope: "bs1.x", signed: false, version: 2, since: now)
        var signed = unsigned
        signed.signed = true
        let message = SealingKeeper.needsResealMessage(
            [("openai-api-key", unsigned), ("signed-key", signed)], namespace: "prod",
            names: ObjectNames.derived(release: "beluga-ai"))
        #expect(
            message.contains("sealed to sealing key \(old.keyID.hex), not the current \(current.keyID.hex)"))
        #expect(
            message.contains(
                "Re-seal openai-api-key into the values: beluga-secrets keys helm-values -n prod --release beluga-ai"
            ))
        #expect(message.contains("signed-key is signed") && message.contains("--version 3"))
    }

    // MARK: - The status part

    @Test func theReportReadsBackFromTheStatusAndBadEntriesAreLeftOut() throws {
        let envelope = try seal("v", key: "k", to: current.publicKey)
        var status = AgentStatus()
        status.helmReseal["k"] = HelmReseal(
            kid: old.keyID.hex, current: current.keyID.hex, source: HelmReseal.source(of: "x"),
            envelope: envelope,
            signed: false, version: 1, since: now)
        let object = status.writing(into: nil, name: "beluga-ai-secrets-status", namespace: "prod")
        let reread = AgentStatus(configMap: object)
        #expect(reread == status)
        #expect(reread.problems.isEmpty)

        var data = object["data"]?.objectValue ?? [:]
        data[AgentStatus.Key.helmReseal] = .string(
            #"{"k":{"kid":"zz","current":"0011223344556677","source":"\#(String(repeating: "a", count: 64))","#
                + #""envelope":"","signed":false,"version":1,"since":""},"bad name!":{}}"#)
        var edited = object
        edited["data"] = .object(data)
        let damaged = AgentStatus(configMap: edited)
        #expect(damaged.helmReseal.isEmpty)
        #expect(damaged.problems.count == 2)
        #expect(damaged.problems.contains { $0.description.contains("kid is not a key id") })
    }

    // MARK: - The values block

    @Test func theValuesBlockHoldsOnlyEnvelopesSealedToTheTrustedCurrentKey() throws {
        let helmText = try seal("sk-helm", key: "openai-api-key", to: old.publicKey)
        var store = SealedStore()
        store.envelopes = ["openai-api-key": helmText]
        let plan = HelmResealPlan(
            store: store, helmOwned: ["openai-api-key"], keyring: keyring, previous: [:], namespace: "prod",
            secret: "beluga-ai-secrets", now: now)
        let block = try HelmValuesBlock(
            reported: plan.entries, stored: store.envelopes, current: current.publicKey)
        let envelope = try #require(plan.entries["openai-api-key"]).envelope
        #expect(
            block.yaml(kid: current.keyID.hex).hasSuffix(
                "sealedSecrets:\n  \"openai-api-key\": \"\(envelope)\"\n"))

        // A current key other than the one the published envelope is sealed to: refused.
        let other = SealingKeyPair.generate()
        #expect(throws: HelmValuesError.self) {
            try HelmValuesBlock(reported: plan.entries, stored: store.envelopes, current: other.publicKey)
        }
        // The values changed since the report: left out rather than undone.
        let changed = try HelmValuesBlock(
            reported: plan.entries,
            stored: ["openai-api-key": try seal("newer", key: "openai-api-key", to: old.publicKey)],
            current: current.publicKey)
        #expect(changed.envelopes.isEmpty && changed.changedSince == ["openai-api-key"])
        #expect(changed.yaml(kid: current.keyID.hex).isEmpty)
    }
}

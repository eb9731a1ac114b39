import Foundation
import JSONValue
import KubeAPI
import KubeEmulator
import Sealing
import Testing

@testable import SecretSync
import TestSupport
import TimeFormat

/// After a sealing-key rotation the agent re-seals the envelopes `beluga-secrets set` wrote, but
/// never those Helm values own: it keeps their key, reports them once, and publishes them
/// re-sealed for the values file; the old key goes once the values are upgraded.
@Suite(.serialized) struct HelmOwnedEnvelopeTests {
    /// Writes `data` into the sealed store as Helm 3 does, an update with the field manager `helm`.
    func writeAsHelm(_ harness: AgentHarness, _ data: [String: String]) async throws {
        let patch = JSON.object(["data": .object(data.mapValues { .string($0) })]).jsonText
        let result = try await harness.fixture.kubectl([
            "patch", "configmap", harness.names.sealedStore, "-n", harness.namespace, "--type=merge", "-p",
            patch,
            "--field-manager=helm",
        ])
        #expect(result.status == 0, "\(result.stderr)")
    }

    func helmOwnsData(_ object: JSON?, key: String) -> Bool {
        (object?[path: "metadata", "managedFields"]?.arrayValue ?? []).contains {
            $0["manager"] == "helm" && $0[path: "fieldsV1", "f:data", "f:\(key)"] != nil
        }
    }

    @Test func helmsEnvelopesAreLeftReportedAndTheirKeyKeptUntilTheValuesAreUpgraded() async throws {
        try await withStarted(try await AgentHarness.start()) { harness in
            var markers = LeakMarkers()
            let values = [
                "set-key": markers.make("set"), "listed-key": markers.make("listed"),
                "applied-key": markers.make("applied"),
            ]
            let running = harness.startAgent(retireKeysAfter: .zero)
            let first = try await harness.publicKey()
            // One key `beluga-secrets set` wrote; one the chart lists in its annotation; one Helm's
            // field manager wrote.
            try await harness.store(
                key: "set-key", envelope: harness.seal(values["set-key"]!, key: "set-key", to: first))
            try await harness.store(
                key: "listed-key", envelope: harness.seal(values["listed-key"]!, key: "listed-key", to: first)
            )
            try await writeAsHelm(
                harness,
                ["applied-key": try harness.seal(values["applied-key"]!, key: "applied-key", to: first)])
            let annotate = try await harness.fixture.kubectl([
                "annotate", "configmap", harness.names.sealedStore, "-n", harness.namespace,
                "\(HelmOwnership.annotation)=listed-key",
            ])
            #expect(annotate.status == 0, "\(annotate.stderr)")
            try await eventually("every key is applied") {
                for (key, value) in values where try await harness.secretValue(key) != value { return false }
                return true
            }
            let helmBefore = try await harness.store().envelopes.filter { $0.key != "set-key" }

            let outcome = try await SealingKeyRotation.request(
                client: harness.client, namespace: "default", configMap: "beluga-secrets-public-key",
                timeout: .seconds(10))
            try await eventually("the set key is re-sealed and Helm's keys are reported") {
                let store = try await harness.store()
                let setKey = store.envelopes["set-key"].flatMap { try? Envelope.parse($0) }
                let reported = try await harness.status().helmReseal
                return setKey?.keyID.hex == outcome.current.kid
                    && Set(reported.keys) == ["listed-key", "applied-key"]
            }
            // Helm's envelopes, and Helm's ownership of them, are as they were.
            let store = try await harness.store()
            #expect(store.envelopes.filter { $0.key != "set-key" } == helmBefore)
            let object = try await harness.object("configmaps", harness.names.sealedStore)
            #expect(helmOwnsData(object, key: "applied-key"))
            // Their key stays, though retirement is immediate for keys nothing uses.
            func state(of kid: String) async throws -> PublishedSealingKey.State? {
                let published = try await harness.object("configmaps", "beluga-secrets-public-key")
                return try published.map { try PublishedKeys(configMap: $0, namespace: "default") }?
                    .keys.first { $0.kid == kid }?.state
            }
            #expect(try await state(of: first.keyID.hex) != .retired)
            let status = try await harness.status()
            for (key, entry) in status.helmReseal {
                #expect(entry.kid == first.keyID.hex && entry.current == outcome.current.kid)
                #expect(entry.source == HelmReseal.source(of: helmBefore[key] ?? ""))
                let published = try Envelope.parse(entry.envelope)
                #expect(!entry.signed && published.keyID.hex == outcome.current.kid)
            }
            try await eventually("one Warning Event names both keys") {
                try await harness.events(reason: "HelmEnvelopeNeedsReseal").count == 1
            }
            let event = try #require(try await harness.events(reason: "HelmEnvelopeNeedsReseal").first)
            let message = event["message"]?.stringValue ?? ""
            #expect(event["type"] == "Warning")
            #expect(
                message.contains("applied-key, listed-key")
                    && message.contains("beluga-secrets keys helm-values"))

            // Another change reconciles the namespace again: no second Event, nothing re-sealed.
            let current = try await harness.publicKey()
            #expect(current.keyID.hex == outcome.current.kid)
            let other = markers.make("other")
            try await harness.store(
                key: "other-key", envelope: harness.seal(other, key: "other-key", to: current))
            try await eventually("the other key is applied") {
                try await harness.secretValue("other-key") == other
            }
            try await harness.waitForLeaseRenewals(2)
            #expect(try await harness.events(reason: "HelmEnvelopeNeedsReseal").count == 1)
            #expect(try await harness.status().helmReseal == status.helmReseal)

            // What `keys helm-values` prints, checked against the current key, upgraded in.
            let block = try HelmValuesBlock(
                reported: status.helmReseal, stored: try await harness.store().envelopes, current: current)
            #expect(block.envelopes.map(\.key) == ["applied-key", "listed-key"])
            try await writeAsHelm(
                harness, Dictionary(uniqueKeysWithValues: block.envelopes.map { ($0.key, $0.envelope) }))
            try await eventually("the old key is retired once no envelope uses it, and the report cleared") {
                guard try await state(of: first.keyID.hex) == .retired else { return false }
                return try await harness.status().helmReseal.isEmpty
            }
            for (key, value) in values { #expect(try await harness.secretValue(key) == value) }
            let records = await running.sink.records()
            #expect(records.filter { $0.event == .secretRotated }.isEmpty)
            await running.stop()
            let statusText = try await harness.object("configmaps", harness.names.status)?.jsonText ?? ""
            let events = try await harness.fixture.emulator.objects("events", namespace: "default")
            #expect(markers.leaks(in: harness.log.text + statusText + JSON.array(events).jsonText).isEmpty)
        }
    }

    @Test func aBadAnnotationIsReportedAndTheAgentReSealsAsBefore() async throws {
        try await withStarted(try await AgentHarness.start()) { harness in
            let running = harness.startAgent(retireKeysAfter: .zero)
            let first = try await harness.publicKey()
            try await harness.store(key: "k", envelope: harness.seal("value", key: "k", to: first))
            let annotate = try await harness.fixture.kubectl([
                "annotate", "configmap", harness.names.sealedStore, "-n", harness.namespace,
                "\(HelmOwnership.annotation)=k,not a key",
            ])
            #expect(annotate.status == 0, "\(annotate.stderr)")
            try await eventually("applied") { try await harness.secretValue("k") == "value" }
            let outcome = try await SealingKeyRotation.request(
                client: harness.client, namespace: "default", configMap: "beluga-secrets-public-key",
                timeout: .seconds(10))
            try await eventually("the envelope is re-sealed: the bad list names no key") {
                try await harness.store().envelopes["k"].flatMap { try? Envelope.parse($0) }?.keyID.hex
                    == outcome.current.kid
            }
            try await eventually("the bad annotation is reported") {
                try await harness.events(reason: "InputRejected").contains {
                    ($0["message"]?.stringValue ?? "").contains("annotation beluga-ai.io/helm-managed-keys")
                }
            }
            #expect(try await harness.status().helmReseal.isEmpty)
            await running.stop()
        }
    }
}

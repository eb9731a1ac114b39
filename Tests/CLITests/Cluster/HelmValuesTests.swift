import Foundation
import JSONValue
import KubeAPI
import Sealing
import Testing
import TestSupport

import SecretSync

/// `keys helm-values`, the `status`/`list` marks and the `set` warning for keys Helm values own,
/// against what an agent publishes after a sealing-key rotation (written here as the agent writes
/// it, so that each refusal can be made).
@Suite struct HelmValuesTests {
    func sealed(_ workstation: Workstation, _ value: String, key: String, to pair: SealingKeyPair) throws
        -> String
    {
        let binding = try SecretBinding(
            namespace: workstation.namespace, secret: "beluga-ai-secrets", key: key)
        return try Envelope.seal(
            SecureBytes(Array(value.utf8)), for: binding, to: pair.publicKey, sealedBy: "ci"
        )
        .text
    }

    /// The sealed store as the chart renders it with `sealedSecrets: {key: envelope}`.
    func renderStore(_ workstation: Workstation, _ data: [String: String]) async throws {
        let client = try workstation.client()
        var object = ConfigMap(name: "beluga-ai-secrets-sealed", namespace: workstation.namespace)
        object.metadata.annotations[HelmOwnership.annotation] = data.keys.sorted().joined(separator: ",")
        object.data = data
        if var existing = try await client.getIfPresent(
            ConfigMap.self, name: object.metadata.name, namespace: workstation.namespace)
        {
            existing.metadata.annotations = object.metadata.annotations
            existing.data = data
            _ = try await client.replace(existing, namespace: workstation.namespace)
        } else {
            _ = try await client.create(object, namespace: workstation.namespace)
        }
    }

    /// The agent's status part `helm-reseal`.
    func publishReport(_ workstation: Workstation, _ report: [String: HelmReseal]) async throws {
        var status = AgentStatus()
        status.helmReseal = report
        let client = try workstation.client()
        let name = "beluga-ai-secrets-status"
        let existing = try await client.getIfPresent(
            ConfigMap.self, name: name, namespace: workstation.namespace)
        let object = ConfigMap(
            json: status.writing(into: existing?.json, name: name, namespace: workstation.namespace))
        if existing != nil {
            _ = try await client.replace(object, namespace: workstation.namespace)
        } else {
            _ = try await client.create(object, namespace: workstation.namespace)
        }
    }

    @Test func theValuesBlockIsPrintedOnlyWhenSealedToTheCurrentKeyTheIdentitySigned() async throws {
        try await withStarted(try await Workstation.start(publish: false)) { workstation in
            var markers = LeakMarkers()
            let old = workstation.sealing
            let rotated = SealingKeyPair.generate()
            try await workstation.publishKeys(current: rotated, previous: [old], counter: 2)
            let inValues = try sealed(workstation, markers.make("helm"), key: "anthropic-api-key", to: old)
            try await renderStore(workstation, ["anthropic-api-key": inValues])
            let resealed = try sealed(
                workstation, "same value, new key", key: "anthropic-api-key", to: rotated)
            let entry = HelmReseal(
                kid: old.keyID.hex, current: rotated.keyID.hex, source: HelmReseal.source(of: inValues),
                envelope: resealed, signed: false, version: 0, since: "2026-12-06T01:00:00Z")

            // Nothing reported: nothing printed.
            let nothing = try await workstation.run(["keys", "helm-values"])
            expectSuccess(nothing)
            #expect(nothing.stdout.isEmpty && nothing.stderr.contains("nothing to re-seal"))

            try await publishReport(workstation, ["anthropic-api-key": entry])
            let printed = try await workstation.run(["keys", "helm-values"])
            expectSuccess(printed)
            #expect(printed.stdout.hasSuffix("sealedSecrets:\n  \"anthropic-api-key\": \"\(resealed)\"\n"))

            let status = try await workstation.run(["status"])
            expectSuccess(status)
            #expect(
                status.stdout.contains(
                    "Helm values:  anthropic-api-key sealed to sealing key \(old.keyID.hex): re-seal with "
                        + "beluga-secrets keys helm-values -n default --release beluga-ai"))
            let list = try await workstation.run(["list"])
            expectSuccess(list)
            let row = list.stdout.split(separator: "\n").first { $0.hasPrefix("anthropic-api-key") } ?? ""
            #expect(
                row.contains("pending*") && row.contains("re-seal with beluga-secrets keys helm-values"),
                "\(row)")

            // doctor: a warning in sealed-keys, with the commands that fix it.
            let doctor = try await workstation.run(["doctor", "-o", "json"])
            let report = try JSON(parsing: doctor.stdout)
            let check = (report["checks"]?.arrayValue ?? []).first { $0["name"] == "sealed-keys" }
            #expect(check?["verdict"] == "warning", "\(doctor.stdout)")
            #expect(
                (check?["evidence"]?.arrayValue ?? []).contains {
                    ($0.stringValue ?? "").hasPrefix(
                        "anthropic-api-key: Helm values hold it sealed to sealing key \(old.keyID.hex)")
                }, "\(doctor.stdout)")
            #expect(
                (check?["fix"]?.arrayValue ?? []).contains {
                    $0 == "beluga-secrets keys helm-values -n default > sealed-values.yaml"
                }, "\(doctor.stdout)")

            // A status that publishes an envelope sealed to another key than the signed current one.
            var forged = entry
            forged.envelope = try sealed(
                workstation, "x", key: "anthropic-api-key", to: SealingKeyPair.generate())
            try await publishReport(workstation, ["anthropic-api-key": forged])
            let refused = try await workstation.run(["keys", "helm-values"])
            expectFailure(
                refused, status: 6,
                mentioning: ["anthropic-api-key", "not an envelope sealed to the current"])
            #expect(refused.stdout.isEmpty)

            // A signed envelope: its signer's command, nothing printed.
            var signed = entry
            signed.signed = true
            signed.envelope = ""
            signed.version = 4
            try await publishReport(workstation, ["anthropic-api-key": signed])
            let named = try await workstation.run(["keys", "helm-values"])
            expectSuccess(named)
            #expect(named.stdout.isEmpty)
            #expect(
                named.stderr.contains(
                    "beluga-secrets seal anthropic-api-key -n default --secret beluga-ai-secrets --version 5")
            )

            // `set` on a key of the values: stored, with a warning.
            let set = try await workstation.run(["set", "anthropic-api-key"], stdin: markers.make("set"))
            expectSuccess(set)
            #expect(
                set.stderr.contains(
                    "warning: anthropic-api-key is in the Helm values of release beluga-ai (sealedSecrets): the next "
                        + "helm upgrade puts the value in the values file back"))
            let other = try await workstation.run(["set", "openai-api-key"], stdin: markers.make("other"))
            expectSuccess(other)
            #expect(!other.stderr.contains("warning:"))
            for result in [nothing, printed, status, list, doctor, refused, named, set, other] {
                #expect(markers.leaks(in: result.allOutput).isEmpty)
            }
        }
    }
}

import Foundation
import JSONValue
import KubeAPI
import Sealing
import Testing
import TestSupport

/// What the workstation trusts of what the agent publishes: a current sealing key only under the
/// identity's signed statement, never one older than a statement seen before, and the pinned
/// identity in every command that reads the published keys (`set`, `keys show`, `status`,
/// `audit`). Each attack here is made as someone who may only patch the public-key ConfigMap.
@Suite struct AgentTrustTests {
    @Test func aKeyWhoseCurrentnessIsUnsignedOrOlderThanOneSeenIsRefused() async throws {
        try await withStarted(try await Workstation.start(publish: false)) { workstation in
            // No statement of which key is current: refused, nothing written, nothing pinned.
            try await workstation.publishKeys(signCurrent: false)
            let unsigned = try await workstation.run(["set", "openai-api-key"], stdin: "sk-one")
            expectFailure(unsigned, status: 6, mentioning: ["current.json", "which sealing key is current"])
            let pins = workstation.configFolder + "/known-agents.json"
            #expect(!FileManager.default.fileExists(atPath: pins))
            #expect(
                try await workstation.kubectl(["get", "configmap", "beluga-ai-secrets-sealed"]).status != 0)

            // Signed: the identity is pinned with the counter.
            try await workstation.publishKeys(counter: 4)
            expectSuccess(try await workstation.run(["set", "openai-api-key"], stdin: "sk-two"))
            func pinned() throws -> JSON? {
                try JSON(parsing: String(contentsOfFile: pins, encoding: .utf8))["agents"]?[0]
            }
            #expect(try pinned()?["currentCounter"] == 4)
            #expect(try pinned()?["currentKid"] == .string(workstation.sealing.keyID.hex))

            // The agent rotates: followed, and the higher counter kept.
            let rotated = SealingKeyPair.generate()
            try await workstation.publishKeys(current: rotated, previous: [workstation.sealing], counter: 5)
            let afterRotation = try await workstation.run(["set", "openai-api-key"], stdin: "sk-three")
            expectSuccess(afterRotation)
            #expect(afterRotation.stdout.contains("sealed to kid \(rotated.keyID)"))
            #expect(try pinned()?["currentCounter"] == 5)

            // The ConfigMap from before the rotation put back, every signature in it genuine:
            // its key is superseded, and its counter says so.
            try await workstation.publishKeys(counter: 4)
            let replayed = try await workstation.run(["set", "openai-api-key"], stdin: "sk-four")
            expectFailure(
                replayed, status: 6,
                mentioning: [
                    "counter 4", "counter 5", "\(rotated.keyID)", "superseded", "--accept-new-identity",
                ])
            #expect(try await workstation.sealedVersions()[path: "openai-api-key", "version"] == 2)
            let show = try await workstation.run(["keys", "show"])
            expectFailure(show, status: 6, mentioning: ["counter 4"])
            let status = try await workstation.run(["status", "-o", "json"])
            #expect(
                try JSON(parsing: status.stdout)[path: "sealingKey", "identityPin"] == "currentReplayed",
                "\(status.allOutput)")

            // The same counter naming another key is no newer either.
            let other = SealingKeyPair.generate()
            try await workstation.publishKeys(
                current: other, previous: [workstation.sealing, rotated], counter: 5)
            let sameCounter = try await workstation.run(["set", "openai-api-key"], stdin: "sk-five")
            expectFailure(sameCounter, status: 6, mentioning: ["counter 5"])
            #expect(try await workstation.sealedVersions()[path: "openai-api-key", "version"] == 2)

            // Keys restored from a backup on purpose: accepted when asked, and pinned anew.
            try await workstation.publishKeys(counter: 4)
            let accepted = try await workstation.run(
                ["set", "openai-api-key", "--accept-new-identity"], stdin: "sk-six")
            expectSuccess(accepted)
            #expect(accepted.stderr.contains("accepted sealing key \(workstation.sealing.keyID)"))
            #expect(try pinned()?["currentCounter"] == 4)
            #expect(try await workstation.sealedVersions()[path: "openai-api-key", "version"] == 3)
        }
    }

    @Test func keysShowAndAuditCompareThePublishedIdentityWithThePinnedOne() async throws {
        try await withStarted(try await Workstation.start()) { workstation in
            // Before anything is pinned, keys show looks without pinning.
            let look = try await workstation.run(["keys", "show"])
            expectSuccess(look)
            #expect(look.stdout.contains("not pinned yet"))
            #expect(look.stdout.contains("counter 1"))
            expectSuccess(try await workstation.run(["set", "openai-api-key"], stdin: "sk-one"))
            let shown = try await workstation.run(["keys", "show"])
            expectSuccess(shown)
            #expect(
                shown.stdout.contains("\(workstation.identity.signerID)") && shown.stdout.contains("pinned"))

            let genuine = workstation.home.file("genuine.log")
            try AuditLines.write(AuditLines.chain(3, identity: workstation.identity), to: genuine)
            expectSuccess(try await workstation.run(["audit", "--verify", "--file", genuine]))

            // Someone replaces the identity in the ConfigMap and forges records signed with it.
            let forger = SigningKeyPair.generate()
            try await workstation.publishKeys(identity: forger, current: SealingKeyPair.generate())
            let forged = workstation.home.file("forged.log")
            try AuditLines.write(AuditLines.chain(3, identity: forger, signer: "mallory"), to: forged)
            let audit = try await workstation.run(["audit", "--verify", "--file", forged])
            expectFailure(
                audit, status: 6,
                mentioning: [
                    "changed", "\(workstation.identity.signerID)", "\(forger.signerID)", "--identity-key",
                ])
            #expect(!audit.stdout.contains("verified:"))
            let show = try await workstation.run(["keys", "show"])
            expectFailure(show, status: 6, mentioning: ["changed", "--accept-new-identity"])
            let rotate = try await workstation.run(["keys", "rotate", "--timeout", "1s"])
            expectFailure(rotate, status: 6, mentioning: ["changed"])
            #expect(
                try await workstation.client().get(
                    ConfigMap.self, name: "beluga-secrets-public-key", namespace: "default"
                ).metadata.annotations["beluga-ai.io/rotate-sealing-key"] == nil)

            // Checked against the key the user trusts, the forged records fail on their own.
            let identityFile = workstation.home.file("identity.pub")
            try (workstation.identity.publicKey.base64 + "\n").write(
                toFile: identityFile, atomically: true, encoding: .utf8)
            let againstPinned = try await workstation.run(
                ["audit", "--verify", "--file", forged, "--identity-key", identityFile])
            expectFailure(againstPinned, status: 6, mentioning: ["altered"])

            // Accepted on purpose (the agent was reinstalled): from now on the new identity holds.
            let accepted = try await workstation.run(["keys", "show", "--accept-new-identity"])
            expectSuccess(accepted)
            #expect(accepted.stderr.contains("accepted the new agent identity \(forger.signerID)"))
            expectSuccess(try await workstation.run(["audit", "--verify", "--file", forged]))
        }
    }

    @Test func auditVerifyRefusesAChainCutAtEitherEndUnlessAWindowIsAccepted() async throws {
        try await withStarted(try await Workstation.start()) { workstation in
            let lines = AuditLines.chain(5, identity: workstation.identity)
            func file(_ name: String, _ lines: [String]) throws -> String {
                let path = workstation.home.file(name)
                try AuditLines.write(lines, to: path)
                return path
            }
            let whole = try file("whole.log", lines)
            let head = "5:\(Digest.sha256Hex(lines[4]))"
            let verified = try await workstation.run(["audit", "--verify", "--file", whole, "--head", head])
            expectSuccess(verified)
            #expect(verified.stdout.contains("chain unbroken from record 1 up to the audit head"))

            // The first records cut off: no hole shows, yet the trail is not whole.
            let headless = try file("headless.log", Array(lines.dropFirst(2)))
            let cutStart = try await workstation.run(["audit", "--verify", "--file", headless])
            expectFailure(cutStart, status: 6, mentioning: ["--allow-partial"])
            #expect(cutStart.stdout.contains("PARTIAL") && !cutStart.stdout.contains("chain unbroken"))
            let window = try await workstation.run([
                "audit", "--verify", "--allow-partial", "--file", headless,
            ])
            expectSuccess(window)
            #expect(window.stdout.contains("records 1–2 are not in the logs read"))

            // The last record cut off, checked against the head the agent holds.
            let tailless = try file("tailless.log", Array(lines.dropLast()))
            let cutEnd = try await workstation.run(["audit", "--verify", "--file", tailless, "--head", head])
            expectFailure(cutEnd, status: 6, mentioning: ["--allow-partial"])
            #expect(cutEnd.stdout.contains("record 5 is not in the logs read"))
            // A head naming another record 5 is tampering, window or not.
            let otherHead = "default/5:\(Digest.sha256Hex(lines[3]))"
            let wrongHead = try await workstation.run([
                "audit", "--verify", "--allow-partial", "--file", whole, "--head", otherHead,
            ])
            expectFailure(wrongHead, status: 6, mentioning: ["altered"])
            let badHead = try await workstation.run(["audit", "--verify", "--file", whole, "--head", "5:abc"])
            #expect(badHead.status == 1, "\(badHead.allOutput)")
        }
    }

    @Test func auditShowsAChangeAsSignedOnlyWhenItCheckedTheRecordsSignature() async throws {
        try await withStarted(try await Workstation.start()) { workstation in
            var lines = AuditLines.chain(2, identity: workstation.identity)
            // A third line claiming a signed change, written by someone without the agent's key.
            lines += AuditLines.chain(3, identity: SigningKeyPair.generate(), signer: "mallory").suffix(1)
            let log = workstation.home.file("agent.log")
            try AuditLines.write(lines, to: log)
            let identityFile = workstation.home.file("identity.pub")
            try (workstation.identity.publicKey.base64 + "\n").write(
                toFile: identityFile, atomically: true, encoding: .utf8)

            // Without the identity key nothing shows as signed.
            let unchecked = try await workstation.run(["audit", "--file", log])
            expectSuccess(unchecked)
            #expect(!unchecked.stdout.contains(" yes "), "\(unchecked.stdout)")
            #expect(unchecked.stdout.contains("UNCHECKED"))
            #expect(unchecked.stdout.contains("3 changes name an allowed signer"))

            // With it, the agent's records show as signed and the forged one as forged.
            let checked = try await workstation.run(["audit", "--file", log, "--identity-key", identityFile])
            expectSuccess(checked)
            let rows = checked.stdout.split(separator: "\n").map(String.init)
            #expect(rows.first { $0.contains(" v1 ") }?.contains(" yes") == true, "\(checked.stdout)")
            #expect(rows.first { $0.contains(" v3 ") }?.contains("FORGED") == true, "\(checked.stdout)")
            #expect(checked.stdout.contains("1 record does not carry the agent's signature"))
            let json = try await workstation.run([
                "audit", "-o", "json", "--file", log, "--identity-key", identityFile,
            ])
            let changes = try JSON(parsing: json.stdout)["changes"]?.arrayValue ?? []
            #expect(changes.map { $0["signature"]?.stringValue ?? "" } == ["verified", "verified", "forged"])
        }
    }
}

/// Audit lines made here from docs/formats.md ("Audit record"), not with the product's code:
/// members sorted, compact, `sig` over the line without it.
enum AuditLines {
    static func chain(
        _ count: Int, identity: SigningKeyPair, namespace: String = "default", signer: String = "alice"
    ) -> [String] {
        var lines: [String] = []
        var prev = ""
        for seq in 1...count {
            var record: JSON = [
                "agent": "agent-a", "event": .string(seq == 1 ? "secret.created" : "secret.rotated"),
                "fingerprint": .string("fp1:\(String(repeating: "0", count: 31))\(seq)"),
                "key": "openai-api-key", "namespace": .string(namespace), "prev": .string(prev),
                "previousFingerprint": "", "reason": "", "sealedAt": "2026-01-01T00:00:00Z",
                "sealedBy": "alice@ws1", "secret": "beluga-ai-secrets", "seq": .int(seq),
                "signer": .string(signer), "signerKeyId": "0123456789abcdef",
                "ts": .string("2026-01-01T00:00:0\(seq)Z"), "version": .int(seq),
            ]
            record["sig"] = .string(Data(identity.sign(record.serialized())).base64EncodedString())
            let line = record.jsonText
            lines.append(line)
            prev = Digest.sha256Hex(line)
        }
        return lines
    }

    static func write(_ lines: [String], to path: String) throws {
        try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
    }
}

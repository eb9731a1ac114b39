import Foundation
import JSONValue
import KubeAPI
import Sealing
import Testing
import TestSupport

/// `set`, `rotate`, `rollback`, `delete`, `list` and `get` in sealed mode: what they write is
/// checked with kubectl and the client, and the envelopes are opened with the agent's key.
@Suite struct SealedModeTests {
    @Test func setRotateRollbackAndDeleteKeepVersionsAndOnlyEverStoreCiphertext() async throws {
        try await withStarted(try await Workstation.start()) { workstation in
            var markers = LeakMarkers()
            let first = markers.make("first")
            let second = markers.make("second")
            var outputs: [ProcessResult] = []

            // First use: sealed to the published key, identity pinned, store created.
            let set = try await workstation.run(["set", "openai-api-key"], stdin: first + "\n")
            outputs.append(set)
            expectSuccess(set)
            #expect(
                set.stdout.contains("openai-api-key: version 1 sealed to kid \(workstation.sealing.keyID)"))
            #expect(set.stdout.contains("the agent will apply it"))
            #expect(set.stderr.contains("pinned the agent identity \(workstation.identity.signerID)"))
            #expect(try await workstation.openStored("openai-api-key") == first)
            let stored = try await workstation.sealedStoreWithKubectl()
            #expect(
                stored[path: "data", "openai-api-key"]?.stringValue?.hasPrefix(
                    "bs1.\(workstation.sealing.keyID).") == true)
            var versions = try await workstation.sealedVersions()
            #expect(versions[path: "openai-api-key", "version"] == 1)
            let binding = try SecretBinding(
                namespace: "default", secret: "beluga-ai-secrets", key: "openai-api-key")
            let firstPrint = Fingerprint(of: SecureBytes(Array(first.utf8)), binding: binding).text
            #expect(versions[path: "openai-api-key", "fingerprint"]?.stringValue == firstPrint)
            #expect(set.stdout.contains(firstPrint))

            // The pin is told once.
            let again = try await workstation.run(
                ["set", "anthropic-api-key"], stdin: markers.make("anthropic"))
            outputs.append(again)
            expectSuccess(again)
            #expect(!again.stderr.contains("pinned"))

            // Rotate: the version increases, the old envelope is kept for rollback.
            let rotate = try await workstation.run(
                ["rotate", "openai-api-key", "--from-env", "NEW_VALUE"], environment: ["NEW_VALUE": second])
            outputs.append(rotate)
            expectSuccess(rotate)
            #expect(rotate.stdout.contains("version 2"))
            #expect(try await workstation.openStored("openai-api-key") == second)
            versions = try await workstation.sealedVersions()
            #expect(versions[path: "openai-api-key", "version"] == 2)
            #expect(versions[path: "openai-api-key", "history"]?.arrayValue?.first?["version"] == 1)

            // A key that does not exist cannot be rotated (a typo must not create a key).
            let typo = try await workstation.run(["rotate", "openai-api-kye"], stdin: second)
            outputs.append(typo)
            expectFailure(typo, status: 2, mentioning: ["openai-api-kye", "beluga-secrets set"])

            // Rollback restores version 1's envelope as version 3.
            let rollback = try await workstation.run(["rollback", "openai-api-key"])
            outputs.append(rollback)
            expectSuccess(rollback)
            #expect(rollback.stdout.contains("version 3 restores version 1"))
            #expect(try await workstation.openStored("openai-api-key") == first)
            versions = try await workstation.sealedVersions()
            #expect(versions[path: "openai-api-key", "version"] == 3)
            #expect(versions[path: "openai-api-key", "rollbackOf"] == 1)
            let notKept = try await workstation.run(["rollback", "openai-api-key", "--to-version", "9"])
            outputs.append(notKept)
            expectFailure(notKept, status: 2, mentioning: ["version 9"])

            // The agent applied version 3 and rejected nothing yet: list and get show it.
            try await workstation.recordSyncStatus([
                "openai-api-key": [
                    "state": "applied", "version": 3, "fingerprint": .string(firstPrint),
                    "at": "2026-01-01T00:00:00Z", "reason": "",
                ],
                "anthropic-api-key": [
                    "state": "rejected", "version": 1, "fingerprint": "", "at": "2026-01-01T00:00:00Z",
                    "reason": "the envelope was sealed for another namespace",
                ],
            ])
            let list = try await workstation.run(["list", "-o", "json"])
            outputs.append(list)
            expectSuccess(list)
            let keys = try JSON(parsing: list.stdout)["keys"]?.arrayValue ?? []
            #expect(keys.map { $0["key"]?.stringValue } == ["anthropic-api-key", "openai-api-key"])
            #expect(keys[1]["state"] == "applied")
            #expect(keys[1]["version"] == 3)
            #expect(keys[1]["fingerprint"]?.stringValue == firstPrint)
            #expect(keys[0]["state"] == "rejected")
            #expect(keys[0]["reason"] == "the envelope was sealed for another namespace")
            let table = try await workstation.run(["list"])
            outputs.append(table)
            expectSuccess(table)
            #expect(table.stdout.hasPrefix("KEY"))
            #expect(table.stdout.contains("rejected   the envelope was sealed for another namespace"))

            let get = try await workstation.run(["get", "openai-api-key"])
            outputs.append(get)
            expectSuccess(get)
            #expect(get.stdout.contains("Version:         3"))
            #expect(get.stdout.contains("State:           applied"))
            #expect(get.stdout.contains("Kept versions:"))
            let yaml = try await workstation.run(["get", "openai-api-key", "-o", "yaml"])
            outputs.append(yaml)
            expectSuccess(yaml)
            #expect(yaml.stdout.contains("key: openai-api-key\n"))
            #expect(yaml.stdout.contains("version: 3\n"))

            // Delete removes the envelope and records the deletion as the next version (a
            // tombstone without history); the other key stays. Until an agent applies it, `get`
            // shows the deletion pending.
            let delete = try await workstation.run(["delete", "openai-api-key"])
            outputs.append(delete)
            expectSuccess(delete)
            #expect(delete.stdout.contains("deletion recorded as version 4"), "\(delete.stdout)")
            let afterDelete = try await workstation.sealedStoreWithKubectl()
            #expect(afterDelete[path: "data", "openai-api-key"] == nil)
            #expect(afterDelete[path: "data", "anthropic-api-key"] != nil)
            versions = try await workstation.sealedVersions()
            #expect(versions[path: "openai-api-key", "version"] == 4)
            #expect(versions[path: "openai-api-key", "deletedAt"]?.stringValue?.isEmpty == false)
            #expect(versions[path: "openai-api-key", "history"]?.arrayValue?.isEmpty == true)
            let pending = try await workstation.run(["get", "openai-api-key"])
            outputs.append(pending)
            expectSuccess(pending)
            #expect(pending.stdout.contains("deleted (version 4)"), "\(pending.stdout)")
            let missing = try await workstation.run(["get", "never-set"])
            outputs.append(missing)
            expectFailure(missing, status: 2)

            for output in outputs {
                #expect(markers.leaks(in: output.allOutput).isEmpty, "a value leaked: \(output.allOutput)")
            }
            // Only ciphertext left the workstation: no object in the cluster holds a value.
            let everything = try await workstation.kubectl([
                "get", "configmaps,secrets,deployments", "-A", "-o", "json",
            ])
            #expect(markers.leaks(in: everything.stdout).isEmpty)
        }
    }

    @Test func withASigningKeyTheEnvelopeIsSignedAndRecordsItsVersion() async throws {
        try await withStarted(try await Workstation.start()) { workstation in
            let signer = try await workstation.run(["signer", "init"])
            expectSuccess(signer)
            let set = try await workstation.run(["set", "openai-api-key"], stdin: "sk-signed-1")
            expectSuccess(set)
            let rotate = try await workstation.run(["rotate", "openai-api-key"], stdin: "sk-signed-2")
            expectSuccess(rotate)
            #expect(rotate.stdout.contains("and signed by"))
            let text = try #require(
                try await workstation.sealedStoreWithKubectl()[path: "data", "openai-api-key"]?.stringValue)
            let envelope = try Envelope.parse(text)
            #expect(envelope.format == .v2)
            let key = try SigningPublicKey.read(from: workstation.configFolder + "/signer.pub")
            let verified = try envelope.verifySignature(allowedSigners: [key]).requireSigned()
            #expect(verified == key)
            let payload = try envelope.open(
                with: workstation.sealing,
                expecting: try SecretBinding(
                    namespace: "default", secret: "beluga-ai-secrets", key: "openai-api-key"))
            #expect(payload.version == 2)
            // An old signed version would be refused by the agent as a replay unless the rollback is
            // signed: without signing, rollback says so; with the key, it signs a rollback statement.
            let unsignedRollback = try await workstation.run(["rollback", "openai-api-key", "--no-sign"])
            expectFailure(
                unsignedRollback, status: 6, mentioning: ["signed", "beluga-secrets set openai-api-key"])
            let rollback = try await workstation.run(["rollback", "openai-api-key"])
            expectSuccess(rollback)
            #expect(rollback.stdout.contains("version 3 restores version 1"))
            #expect(rollback.stdout.contains("signed by \(key.signerID)"))
            let record = try #require(
                try await workstation.sealedStoreWithKubectl()[
                    path: "metadata", "annotations", "beluga-ai.io/sealed-versions"]?
                    .stringValue)
            let statement = try #require(try JSON(parsing: record)[path: "openai-api-key", "rollback"])
            #expect(statement["from"] == 2 && statement["to"] == 1 && statement["version"] == 3)
            #expect(statement["signer"]?.stringValue == key.signerID.hex)
            // --no-sign seals format 1.
            let unsigned = try await workstation.run(
                ["rotate", "openai-api-key", "--no-sign"], stdin: "sk-signed-3")
            expectSuccess(unsigned)
            let latest = try #require(
                try await workstation.sealedStoreWithKubectl()[path: "data", "openai-api-key"]?.stringValue)
            #expect(latest.hasPrefix("bs1."))
        }
    }

    @Test func twoWorkstationsSettingDifferentKeysAtTheSameMomentBothKeepTheirKey() async throws {
        try await withStarted(try await Workstation.start()) { workstation in
            // Slow writes of the store (the server waits before it applies them) make both writers
            // read it before either write lands: one of them must meet a conflict (on create or on
            // replace) and replay its change on what the other wrote.
            workstation.fixture.emulator.faults.update {
                $0.latencyMilliseconds = 500
                $0.latencyMatch = .init(verbs: ["create", "update"], resources: ["configmaps"])
            }
            for round in 0..<2 {
                let alice = try workstation.start(
                    ["set", "alice-key-\(round)", "--from-env", "VALUE", "--sealed-by", "alice@ws1"],
                    environment: ["VALUE": "sk-alice-\(round)"])
                let bob = try workstation.start(
                    ["set", "bob-key-\(round)", "--from-env", "VALUE", "--sealed-by", "bob@ws2"],
                    environment: ["VALUE": "sk-bob-\(round)"])
                #expect(await alice.waitForExit(timeout: 30))
                #expect(await bob.waitForExit(timeout: 30))
                #expect(alice.exitStatus == 0, "\(alice.stderr)")
                #expect(bob.exitStatus == 0, "\(bob.stderr)")
            }
            let versions = try await workstation.sealedVersions()
            for round in 0..<2 {
                #expect(try await workstation.openStored("alice-key-\(round)") == "sk-alice-\(round)")
                #expect(try await workstation.openStored("bob-key-\(round)") == "sk-bob-\(round)")
                #expect(versions[path: "alice-key-\(round)", "sealedBy"] == "alice@ws1")
                #expect(versions[path: "bob-key-\(round)", "sealedBy"] == "bob@ws2")
            }
            // Each writer read, wrote, met the other's write and replayed: more writes than keys.
            let counts = workstation.fixture.emulator.requestCounts()
            #expect(
                counts.count(verb: "create", resource: "configmaps")
                    + counts.count(verb: "update", resource: "configmaps") > 4)
        }
    }

    @Test func aChangedAgentIdentityIsRefusedUntilAcceptedWhileARotatedSealingKeyIsNot() async throws {
        try await withStarted(try await Workstation.start()) { workstation in
            expectSuccess(try await workstation.run(["set", "openai-api-key"], stdin: "sk-one"))
            let pins = workstation.configFolder + "/known-agents.json"
            let attributes = try FileManager.default.attributesOfItem(atPath: pins)
            #expect((attributes[.posixPermissions] as? Int) == 0o600)
            let folder = try FileManager.default.attributesOfItem(atPath: workstation.configFolder)
            #expect((folder[.posixPermissions] as? Int) == 0o700)

            // The agent rotated its sealing key, signed by the same identity: accepted silently.
            let rotated = SealingKeyPair.generate()
            try await workstation.publishKeys(current: rotated, previous: [workstation.sealing], counter: 2)
            let afterRotation = try await workstation.run(["set", "openai-api-key"], stdin: "sk-two")
            expectSuccess(afterRotation)
            #expect(afterRotation.stdout.contains("sealed to kid \(rotated.keyID)"))

            // A key list not signed by the pinned identity is refused.
            let forger = SigningKeyPair.generate()
            try await workstation.publishKeys(current: SealingKeyPair.generate(), signer: forger, counter: 3)
            let forged = try await workstation.run(["set", "openai-api-key"], stdin: "sk-three")
            expectFailure(forged, status: 6, mentioning: ["not signed by the agent's identity"])

            // Another identity altogether: refused, nothing written, until accepted.
            let newIdentity = SigningKeyPair.generate()
            let newKey = SealingKeyPair.generate()
            try await workstation.publishKeys(identity: newIdentity, current: newKey)
            let refused = try await workstation.run(["set", "openai-api-key"], stdin: "sk-four")
            expectFailure(
                refused, status: 6,
                mentioning: [
                    "identity", "changed", "\(workstation.identity.signerID)", "\(newIdentity.signerID)",
                    "--accept-new-identity",
                ])
            #expect(try await workstation.sealedVersions()[path: "openai-api-key", "version"] == 2)
            let accepted = try await workstation.run(
                ["set", "openai-api-key", "--accept-new-identity"], stdin: "sk-five")
            expectSuccess(accepted)
            #expect(accepted.stderr.contains("accepted the new agent identity \(newIdentity.signerID)"))
            #expect(try await workstation.sealedVersions()[path: "openai-api-key", "version"] == 3)
            // From now on the new identity is the pinned one.
            let next = try await workstation.run(["set", "openai-api-key"], stdin: "sk-six")
            expectSuccess(next)
            #expect(next.stderr.isEmpty, "\(next.stderr)")
        }
    }

    @Test func withoutPublishedKeysSetSaysTheAgentIsMissing() async throws {
        try await withStarted(try await Workstation.start(publish: false)) { workstation in
            let result = try await workstation.run(["set", "openai-api-key"], stdin: "sk-x")
            expectFailure(result, status: 2, mentioning: ["beluga-ai-public-key", "--release", "--direct"])
            let store = try await workstation.kubectl(["get", "configmap", "beluga-ai-secrets-sealed"])
            #expect(store.status != 0)
        }
    }
}

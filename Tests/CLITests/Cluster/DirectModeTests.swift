import Foundation
import JSONValue
import KubeAPI
import Sealing
import Testing
import TestSupport

/// The same commands with `--direct`: no agent, the Secret written here and the Deployment's
/// content hash patched once per change.
@Suite struct DirectModeTests {
    @Test func directWritesChangeOnlyTheirKeyAndRestartOncePerChange() async throws {
        try await withStarted(try await Workstation.start()) { workstation in
            var markers = LeakMarkers()
            let first = markers.make("first")
            let second = markers.make("second")
            var outputs: [ProcessResult] = []
            // A key written by another tool stays as it is.
            let other = try await workstation.kubectl([
                "create", "secret", "generic", "beluga-ai-secrets", "--from-literal=legacy-key=legacy-value",
            ])
            try #require(other.status == 0, "\(other.stderr)")

            let set = try await workstation.run(["set", "openai-api-key", "--direct"], stdin: first)
            outputs.append(set)
            expectSuccess(set)
            #expect(set.stdout.contains("openai-api-key: version 1"))
            #expect(set.stdout.contains("deployment \"beluga-ai\": restarting"))
            #expect(try await workstation.secretValue("openai-api-key") == first)
            #expect(try await workstation.secretValue("legacy-key") == "legacy-value")
            let hashAfterSet = try #require(try await workstation.contentHash())
            #expect(await workstation.rollouts() == 1)

            // The same value again: a new version, but the content is the same, so no restart.
            let same = try await workstation.run(["set", "openai-api-key", "--direct"], stdin: first)
            outputs.append(same)
            expectSuccess(same)
            #expect(same.stdout.contains("version 2"))
            #expect(same.stdout.contains("nothing restarts"))
            #expect(try await workstation.contentHash() == hashAfterSet)
            #expect(await workstation.rollouts() == 1)

            let rotate = try await workstation.run(["rotate", "openai-api-key", "--direct"], stdin: second)
            outputs.append(rotate)
            expectSuccess(rotate)
            #expect(rotate.stdout.contains("version 3"))
            #expect(try await workstation.secretValue("openai-api-key") == second)
            #expect(try await workstation.contentHash() != hashAfterSet)
            #expect(await workstation.rollouts() == 2)

            // restart finds the hash current: nothing restarts.
            let restart = try await workstation.run(["restart"])
            outputs.append(restart)
            expectSuccess(restart)
            #expect(restart.stdout.contains("is current, nothing restarts"))
            #expect(await workstation.rollouts() == 2)

            // list and get show the direct key and the one another tool wrote; --reveal prints it.
            let list = try await workstation.run(["list", "-o", "json"])
            outputs.append(list)
            let keys = try JSON(parsing: list.stdout)["keys"]?.arrayValue ?? []
            #expect(keys.map { $0["key"]?.stringValue } == ["legacy-key", "openai-api-key"])
            #expect(keys.map { $0["state"]?.stringValue } == ["unmanaged", "direct"])
            #expect(keys[1]["version"] == 3)
            let binding = try SecretBinding(
                namespace: "default", secret: "beluga-ai-secrets", key: "openai-api-key")
            #expect(
                keys[1]["fingerprint"]?.stringValue
                    == Fingerprint(of: SecureBytes(Array(second.utf8)), binding: binding).text)
            let reveal = try await workstation.run(["get", "openai-api-key", "--reveal"])
            expectSuccess(reveal)
            #expect(reveal.stdout == second)

            // Keys written directly keep no earlier values.
            let rollback = try await workstation.run(["rollback", "openai-api-key"])
            outputs.append(rollback)
            expectFailure(rollback, status: 2, mentioning: ["--direct"])

            let delete = try await workstation.run(["delete", "openai-api-key", "--direct"])
            outputs.append(delete)
            expectSuccess(delete)
            #expect(try await workstation.secretValue("openai-api-key") == nil)
            #expect(try await workstation.secretValue("legacy-key") == "legacy-value")
            #expect(await workstation.rollouts() == 3)
            let secret = try await workstation.client().get(
                Secret.self, name: "beluga-ai-secrets", namespace: "default")
            #expect(secret.metadata.annotations["beluga-ai.io/direct-versions"] == nil)

            for output in outputs {
                #expect(markers.leaks(in: output.allOutput).isEmpty, "a value leaked: \(output.allOutput)")
            }
        }
    }

    /// The workstation round trip costs what it must: the Secret read and written once (the
    /// content hash is computed from the Secret the write returned), the Deployment read and
    /// patched once.
    @Test func aDirectSetReadsAndWritesEachObjectOnce() async throws {
        try await withStarted(try await Workstation.start()) { workstation in
            let before = workstation.fixture.emulator.requestCounts()
            let set = try await workstation.run(["set", "openai-api-key", "--direct"], stdin: "sk-once")
            expectSuccess(set)
            let after = workstation.fixture.emulator.requestCounts()
            func made(_ verb: String, _ resource: String) -> Int {
                after.count(verb: verb, resource: resource) - before.count(verb: verb, resource: resource)
            }
            #expect(made("get", "secrets") == 1)
            #expect(made("create", "secrets") + made("patch", "secrets") + made("update", "secrets") == 1)
            #expect(made("get", "deployments") == 1)
            #expect(made("patch", "deployments") == 1)
            #expect(try await workstation.secretValue("openai-api-key") == "sk-once")
            #expect(await workstation.rollouts() == 1)
        }
    }

    @Test func aKeyTheSealedStoreHoldsIsRefusedForDirectWrites() async throws {
        try await withStarted(try await Workstation.start()) { workstation in
            expectSuccess(try await workstation.run(["set", "openai-api-key"], stdin: "sk-sealed"))
            let direct = try await workstation.run(["set", "openai-api-key", "--direct"], stdin: "sk-direct")
            expectFailure(direct, status: 6, mentioning: ["managed by the agent", "drop --direct"])
            #expect(try await workstation.secretValue("openai-api-key") == nil)
            let delete = try await workstation.run(["delete", "openai-api-key", "--direct"])
            expectFailure(delete, status: 6)
            // A key the agent lists as managed is refused too, though the store no longer holds it.
            _ = try await workstation.client().create(
                Secret(json: [
                    "apiVersion": "v1", "kind": "Secret",
                    "metadata": [
                        "name": "beluga-ai-secrets", "namespace": "default",
                        "annotations": ["beluga-ai.io/managed-keys": "anthropic-api-key"],
                    ],
                    "data": ["anthropic-api-key": .string(Data("sk-a".utf8).base64EncodedString())],
                ]))
            let managed = try await workstation.run(
                ["rotate", "anthropic-api-key", "--direct"], stdin: "sk-b")
            expectFailure(managed, status: 6, mentioning: ["anthropic-api-key"])
        }
    }

    @Test func rotatingAMissingKeyDirectlyCreatesNothing() async throws {
        try await withStarted(try await Workstation.start()) { workstation in
            let result = try await workstation.run(["rotate", "nope", "--direct"], stdin: "sk-x")
            expectFailure(result, status: 2, mentioning: ["nope"])
            let secret = try await workstation.kubectl(["get", "secret", "beluga-ai-secrets"])
            #expect(secret.status != 0)
        }
    }
}

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

    /// The workstation round trip costs what it must: six requests, each object read once (the
    /// content hash is computed from the Secret the write returned), the Secret and then the
    /// Deployment patched once.
    @Test func aDirectSetReadsAndWritesEachObjectOnce() async throws {
        try await withStarted(try await Workstation.start()) { workstation in
            let before = workstation.fixture.emulator.requestCounts()
            let set = try await workstation.run(["set", "openai-api-key", "--direct"], stdin: "sk-once")
            expectSuccess(set)
            let after = workstation.fixture.emulator.requestCounts()
            func made(_ verb: String, _ resource: String, _ name: String? = nil) -> Int {
                after.count(verb: verb, resource: resource, name: name)
                    - before.count(verb: verb, resource: resource, name: name)
            }
            #expect(made("get", "secrets", "beluga-ai-secrets") == 1)
            #expect(made("create", "secrets") + made("patch", "secrets") + made("update", "secrets") == 1)
            #expect(made("get", "configmaps", "beluga-ai-secrets-sealed") == 1)
            #expect(made("get", "configmaps", "beluga-ai-config") == 1)
            #expect(made("get", "deployments", "beluga-ai") == 1)
            #expect(made("patch", "deployments", "beluga-ai") == 1)
            #expect(after.total - before.total == 6, "\(after.json.jsonText)")
            #expect(try await workstation.secretValue("openai-api-key") == "sk-once")
            #expect(await workstation.rollouts() == 1)
            // The pods roll on the Secret as written: the Deployment was patched after it.
            let client = try workstation.client()
            let secret = try await client.get(Secret.self, name: "beluga-ai-secrets", namespace: "default")
            let deployment = try await client.get(Deployment.self, name: "beluga-ai", namespace: "default")
            #expect(
                (Int(deployment.metadata.resourceVersion ?? "") ?? 0)
                    > (Int(secret.metadata.resourceVersion ?? "") ?? .max))
        }
    }

    /// The six requests take three round trips: the four reads (sealed store, Secret, settings,
    /// Deployment) go out at once, then the Secret's patch, then the Deployment's. Seen without
    /// timing: while the emulator holds one read unanswered, the other three still arrive; while
    /// it holds the Secret's patch, all four reads have been made and the Deployment is not
    /// patched yet.
    @Test func aDirectSetMakesItsReadsAtOnceThenWritesTheSecretThenTheDeployment() async throws {
        try await withStarted(try await Workstation.start()) { workstation in
            let emulator = workstation.fixture.emulator
            let valueFile = workstation.home.file("value")
            try Data("sk-round-trips".utf8).write(to: URL(fileURLWithPath: valueFile))
            func made(_ verb: String, _ resource: String, _ name: String) -> Int {
                emulator.requestCounts().count(verb: verb, resource: resource, name: name)
            }
            func reads() -> [Int] {
                [
                    made("get", "configmaps", "beluga-ai-secrets-sealed"),
                    made("get", "secrets", "beluga-ai-secrets"),
                    made("get", "configmaps", "beluga-ai-config"), made("get", "deployments", "beluga-ai"),
                ]
            }
            // The Secret does not exist yet: its write is a create.
            for held in [(["get"], "secrets"), (["get"], "configmaps"), (["create", "patch"], "secrets")] {
                emulator.faults.update { $0.hang = .init(verbs: held.0, resources: [held.1]) }
                emulator.resetRequestCounts()
                let set = try workstation.start(
                    ["set", "openai-api-key", "--direct", "--from-file", valueFile], environment: [:])
                // A sequential client would stop at the held request; these arrive only when
                // the reads go out together.
                try await eventually("all four reads are made while a \(held) is held") {
                    reads().allSatisfy { $0 == 1 }
                }
                if held.0 != ["get"] {
                    try await eventually("the Secret's write is held") {
                        emulator.requestCounts().count(verb: "create", resource: "secrets") == 1
                    }
                }
                #expect(made("patch", "deployments", "beluga-ai") == 0)
                await set.stop()
                emulator.faults.update { $0.hang = nil }
            }
            #expect(await workstation.rollouts() == 0)
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

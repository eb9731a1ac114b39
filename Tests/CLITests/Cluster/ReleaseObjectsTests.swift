import Foundation
import JSONValue
import KubeAPI
import Sealing
import Testing
import TestSupport

/// `--release` with several releases in one namespace, through the built CLI: which public-key
/// ConfigMap it reads (the derived name, the fixed one only when it is the release's, never
/// another release's), and the identity pins kept per public-key ConfigMap, with pins written
/// before they named one still guarding the fixed name.
@Suite struct ReleaseObjectsTests {
    static let legacy = "beluga-secrets-public-key"

    /// Copies the published keys (fixed name, unmarked) to `name`, marked as Helm marks `release`'s.
    func publishCopy(_ workstation: Workstation, as name: String, release: String) async throws {
        let client = try workstation.client()
        let source = try await client.get(ConfigMap.self, name: Self.legacy, namespace: "default")
        var copy = ConfigMap(name: name, namespace: "default")
        copy.metadata.labels = [
            "app.kubernetes.io/instance": release, "app.kubernetes.io/managed-by": "Helm",
        ]
        copy.metadata.annotations = [
            "meta.helm.sh/release-name": release, "meta.helm.sh/release-namespace": "default",
        ]
        copy.data = source.data
        _ = try await client.create(copy, namespace: "default")
    }

    func pins(_ workstation: Workstation) throws -> [JSON] {
        let text = try String(
            contentsOfFile: workstation.configFolder + "/known-agents.json", encoding: .utf8)
        return try JSON(parsing: text)["agents"]?.arrayValue ?? []
    }

    func writePins(_ workstation: Workstation, _ entries: [JSON]) throws {
        let text = JSON.object(["agents": .array(entries)]).prettyText()
        try text.write(
            toFile: workstation.configFolder + "/known-agents.json", atomically: true, encoding: .utf8)
    }

    @Test func eachReleaseReadsItsOwnPublicKeysAndIsPinnedApart() async throws {
        try await withStarted(try await Workstation.start()) { workstation in
            // The default release uses the unmarked fixed name an agent without Helm publishes.
            let main = try await workstation.run(["set", "openai-api-key"], stdin: "sk-main")
            expectSuccess(main)
            #expect(try pins(workstation).map { $0["configMap"] } == [.string(Self.legacy)])

            // Another release never takes the fixed names: without its own keys, it is told so.
            let missing = try await workstation.run(
                ["set", "openai-api-key", "--release", "beluga-ai-canary"], stdin: "sk-canary")
            expectFailure(missing, status: 2, mentioning: ["beluga-ai-canary-public-key", "--release"])
            #expect(
                try await workstation.kubectl(["get", "configmap", "beluga-ai-canary-secrets-sealed"]).status
                    != 0)

            // With its own keys published, it seals to them and gets its own pin beside the first.
            try await publishCopy(workstation, as: "beluga-ai-canary-public-key", release: "beluga-ai-canary")
            let canary = try await workstation.run(
                ["set", "openai-api-key", "--release", "beluga-ai-canary"], stdin: "sk-canary")
            expectSuccess(canary)
            #expect(canary.stderr.contains("pinned the agent identity"))
            #expect(
                Set(try pins(workstation).compactMap { $0["configMap"]?.stringValue })
                    == [Self.legacy, "beluga-ai-canary-public-key"])
            let status = try await workstation.run(["status", "--release", "beluga-ai-canary", "-o", "json"])
            expectSuccess(status)
            #expect(try JSON(parsing: status.stdout)["agent"]?["lease"] == "beluga-ai-canary-agent")
        }
    }

    @Test func aPinWrittenBeforePinsNamedTheirConfigMapGuardsTheFixedName() async throws {
        try await withStarted(try await Workstation.start()) { workstation in
            expectSuccess(try await workstation.run(["set", "openai-api-key"], stdin: "sk-one"))
            // The same pin as an earlier version wrote it: no configMap, another identity.
            var entry = try #require(try pins(workstation).first)
            entry["configMap"] = nil
            let genuine = entry["identity"]
            entry["identity"] = .string(SigningKeyPair.generate().publicKey.base64)
            try writePins(workstation, [entry])
            let refused = try await workstation.run(["set", "openai-api-key"], stdin: "sk-two")
            expectFailure(refused, status: 6, mentioning: ["changed", "--accept-new-identity"])

            // With the genuine identity it is the pin of the fixed name: no first use again.
            entry["identity"] = genuine
            try writePins(workstation, [entry])
            let accepted = try await workstation.run(["set", "openai-api-key"], stdin: "sk-three")
            expectSuccess(accepted)
            #expect(!accepted.stderr.contains("first use"))
        }
    }
}

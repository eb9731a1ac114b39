import Foundation
import JSONValue
import KubeAPI
import KubeEmulator
import Sealing
import Testing
import TestSupport

/// `signer add`, `signer remove` and `signer list` against the emulator: the ConfigMap
/// beluga-secrets-signers as docs/formats.md describes it, read back with kubectl, the exit codes
/// of bad input, conflicts and denials, and `--dry-run` writing nothing.
@Suite struct SignerListTests {
    let alice = SigningKeyPair.generate()
    let bob = SigningKeyPair.generate()

    func signer(_ workstation: Workstation, _ arguments: [String], kubeconfig: String? = nil) async throws
        -> ProcessResult
    {
        try await workstation.run(
            ["signer"] + arguments + ["--kubeconfig", kubeconfig ?? workstation.fixture.kubeconfigPath])
    }

    func signersWithKubectl(_ workstation: Workstation) async throws -> JSON? {
        let result = try await workstation.kubectl([
            "get", "configmap", "beluga-secrets-signers", "-o", "json",
        ])
        return result.status == 0 ? try JSON(parsing: result.stdout) : nil
    }

    @Test func addListAndRemoveEditTheDocumentedConfigMap() async throws {
        try await withStarted(try await Workstation.start()) { workstation in
            // From base64 as `signer show` prints it, and from a signer.pub file.
            let add = try await signer(workstation, ["add", "alice", alice.publicKey.base64])
            expectSuccess(add)
            #expect(
                add.stdout.contains(
                    "signer alice (key id \(alice.signerID)) added to ConfigMap default/beluga-secrets-signers"
                ))
            let file = workstation.home.file("bob.pub")
            try bob.publicKey.write(to: file)
            expectSuccess(try await signer(workstation, ["add", "bob", "@" + file]))

            var object = try #require(try await signersWithKubectl(workstation))
            #expect(
                object["data"] == [
                    "alice": .string(alice.publicKey.base64), "bob": .string(bob.publicKey.base64),
                ])
            #expect(object[path: "metadata", "labels", "app.kubernetes.io/managed-by"] == "beluga-secrets")

            // The same again changes nothing.
            let again = try await signer(workstation, ["add", "alice", alice.publicKey.base64])
            expectSuccess(again)
            #expect(again.stdout.contains("already listed"))

            let remove = try await signer(workstation, ["remove", "alice"])
            expectSuccess(remove)
            #expect(remove.stdout.contains("signer alice (key id \(alice.signerID)) removed"))
            object = try #require(try await signersWithKubectl(workstation))
            #expect(object["data"] == ["bob": .string(bob.publicKey.base64)])
            let removed = try JSON(
                parsing: try #require(
                    object[path: "metadata", "annotations", "beluga-ai.io/removed-signers"]?.stringValue))
            let entry = try #require(removed[alice.signerID.hex])
            #expect(entry["name"] == "alice")
            #expect(entry["publicKey"]?.stringValue == alice.publicKey.base64)
            #expect(entry["removedBy"]?.stringValue?.contains("@") == true)
            #expect(entry["removedAt"]?.stringValue?.hasSuffix("Z") == true)

            let table = try await signer(workstation, ["list"])
            expectSuccess(table)
            let lines = table.stdout.split(separator: "\n")
            #expect(lines.first?.hasPrefix("NAME") == true)
            #expect(
                lines.contains {
                    $0.hasPrefix("bob ") && $0.contains(bob.signerID.hex) && $0.contains("allowed")
                }
            )
            #expect(lines.contains { $0.hasPrefix("alice ") && $0.contains("removed") })
            #expect(table.stdout.contains("signatures as the agent's --signatures flag says"))

            for format in ["json", "yaml"] {
                let listed = try await signer(workstation, ["list", "-o", format])
                expectSuccess(listed)
                if format == "json" {
                    let data = try JSON(parsing: listed.stdout)
                    #expect(
                        data["namespace"] == "default" && data["exists"] == true && data["policy"] == .null)
                    let signers = try #require(data["signers"]?.arrayValue)
                    #expect(signers.map { $0["name"] } == ["bob", "alice"])
                    #expect(signers.map { $0["state"] } == ["allowed", "removed"])
                    #expect(signers.first?["signerKeyId"]?.stringValue == bob.signerID.hex)
                } else {
                    #expect(listed.stdout.contains("state: removed"))
                }
            }

            // Listed again: no longer removed.
            expectSuccess(try await signer(workstation, ["add", "alice", alice.publicKey.base64]))
            object = try #require(try await signersWithKubectl(workstation))
            #expect(object[path: "metadata", "annotations", "beluga-ai.io/removed-signers"] == nil)
        }
    }

    @Test func theNamespacesPolicyIsShown() async throws {
        try await withStarted(try await Workstation.start()) { workstation in
            let empty = try await signer(workstation, ["list"])
            expectSuccess(empty)
            #expect(empty.stderr.contains("does not exist"))
            expectSuccess(try await signer(workstation, ["add", "alice", alice.publicKey.base64]))
            expectSuccess(
                try await workstation.kubectl([
                    "annotate", "configmap", "beluga-secrets-signers", "beluga-ai.io/signatures=required",
                ]))
            let list = try await signer(workstation, ["list"])
            #expect(
                list.stdout.contains(
                    "signatures required in namespace default (annotation beluga-ai.io/signatures)"))
            let json = try JSON(parsing: try await signer(workstation, ["list", "-o", "json"]).stdout)
            #expect(json["policy"] == "required")
            // Edits keep the annotation an administrator set.
            expectSuccess(try await signer(workstation, ["add", "bob", bob.publicKey.base64]))
            let object = try #require(try await signersWithKubectl(workstation))
            #expect(object[path: "metadata", "annotations", "beluga-ai.io/signatures"] == "required")
        }
    }

    @Test func badInputConflictsAndMissingSignersExitAsDocumented() async throws {
        try await withStarted(try await Workstation.start()) { workstation in
            expectSuccess(try await signer(workstation, ["add", "alice", alice.publicKey.base64]))

            // Local input: a key that is not base64 of 32 bytes, a missing file (exit 1).
            expectFailure(
                try await signer(workstation, ["add", "carol", "not-a-key"]), status: 1,
                mentioning: ["not a valid signer public key", "beluga-secrets signer show"])
            expectFailure(
                try await signer(workstation, ["add", "carol", "@/nonexistent/carol.pub"]), status: 1,
                mentioning: ["/nonexistent/carol.pub"])
            let short = Data([UInt8](repeating: 7, count: 31)).base64EncodedString()
            expectFailure(
                try await signer(workstation, ["add", "carol", short]), status: 1, mentioning: ["31 bytes"])
            // A name a ConfigMap key cannot be (exit 6, like any invalid name).
            expectFailure(
                try await signer(workstation, ["add", "carol@example.com", bob.publicKey.base64]), status: 6,
                mentioning: ["invalid signer name"])
            // Conflicts with what is listed (exit 3).
            expectFailure(
                try await signer(workstation, ["add", "alice", bob.publicKey.base64]), status: 3,
                mentioning: [
                    "signer \"alice\" is already listed with key id \(alice.signerID)", "signer remove alice",
                ])
            expectFailure(
                try await signer(workstation, ["add", "alice2", alice.publicKey.base64]), status: 3,
                mentioning: ["already listed as signer \"alice\""])
            // Not listed (exit 2).
            expectFailure(
                try await signer(workstation, ["remove", "carol"]), status: 2,
                mentioning: ["signer \"carol\" is not listed (listed: alice)"])
            let object = try #require(try await signersWithKubectl(workstation))
            #expect(object["data"] == ["alice": .string(alice.publicKey.base64)])
        }
    }

    @Test func dryRunsWriteNothing() async throws {
        try await withStarted(try await Workstation.start()) { workstation in
            workstation.fixture.emulator.resetRequestCounts()
            let add = try await signer(workstation, ["add", "alice", alice.publicKey.base64, "--dry-run"])
            expectSuccess(add)
            #expect(
                add.stdout.contains("would be added to ConfigMap default/beluga-secrets-signers, creating it")
            )
            let absent = try await workstation.kubectl([
                "get", "configmap", "beluga-secrets-signers", "-o", "json",
            ])
            #expect(absent.status != 0, "\(absent.stdout) \(absent.stderr)")
            expectSuccess(try await signer(workstation, ["add", "alice", alice.publicKey.base64]))
            workstation.fixture.emulator.resetRequestCounts()
            let remove = try await signer(workstation, ["remove", "alice", "--dry-run"])
            expectSuccess(remove)
            #expect(remove.stdout.contains("would be removed"))
            #expect(workstation.fixture.emulator.requestCounts().writes == 0)
            #expect(
                try await signersWithKubectl(workstation)?["data"] == [
                    "alice": .string(alice.publicKey.base64)
                ])
        }
    }

    @Test func twoAdministratorsAddingAtTheSameMomentBothKeepTheirSigner() async throws {
        try await withStarted(
            try await Workstation.start(
                KubeEmulator.Options(rolloutDelay: .milliseconds(20)))
        ) { workstation in
            expectSuccess(
                try await signer(workstation, ["add", "first", SigningKeyPair.generate().publicKey.base64]))
            let keys = (0..<4).map { _ in SigningKeyPair.generate().publicKey.base64 }
            let results = try await withThrowingTaskGroup(of: ProcessResult.self) { group in
                for (index, key) in keys.enumerated() {
                    group.addTask { try await signer(workstation, ["add", "admin-\(index)", key]) }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            for result in results { expectSuccess(result) }
            let data = try #require(try await signersWithKubectl(workstation)?["data"]?.objectValue)
            #expect(Set(data.keys) == Set(["first"] + (0..<4).map { "admin-\($0)" }))
        }
    }

    @Test func aDeniedWriteNamesTheMissingPermission() async throws {
        let policy = try AccessPolicy(
            yaml: """
                users:
                  - name: ops
                    token: ops-token
                    rules:
                      - verbs: [get, list, watch]
                        resources: [configmaps]
                """)
        try await withStarted(
            try await Workstation.start(
                KubeEmulator.Options(policy: policy, tls: true, rolloutDelay: .milliseconds(20)))
        ) { workstation in
            expectSuccess(try await signer(workstation, ["add", "alice", alice.publicKey.base64]))
            let ops = try workstation.fixture.kubeconfig(user: "ops", token: "ops-token")
            expectFailure(
                try await signer(workstation, ["add", "bob", bob.publicKey.base64], kubeconfig: ops),
                status: 4,
                mentioning: ["user \"ops\" cannot update configmaps \"beluga-secrets-signers\""])
            let list = try await signer(workstation, ["list"], kubeconfig: ops)
            expectSuccess(list)
            #expect(list.stdout.contains("alice"))
        }
    }
}

import Foundation
import JSONValue
import KubeAPI
import KubeEmulator
import Sealing
import Testing
import TestSupport

/// The workstation commands with the real agent running: what `set` seals, the agent opens,
/// applies and rolls out, and `--wait` reports; what the agent refuses, `--wait` reports too.
@Suite struct WithTheAgentTests {
    @Test func setRotateRollbackAndDeleteThroughTheAgent() async throws {
        try await withStarted(try await Workstation.start(publish: false)) { workstation in
            try await withStarted(try workstation.startAgent()) { agent in
                try await eventually("the agent publishes its keys") {
                    let keys = try await workstation.kubectl([
                        "get", "configmap", "beluga-secrets-public-key",
                    ])
                    return keys.status == 0
                }
                var markers = LeakMarkers()
                let first = markers.make("first")
                let second = markers.make("second")
                var outputs: [ProcessResult] = []

                let set = try await workstation.run(
                    ["set", "openai-api-key", "--wait", "--timeout", "120s"], stdin: first)
                outputs.append(set)
                expectSuccess(set)
                #expect(set.stdout.contains("the agent applied version 1"))
                #expect(set.stdout.hasSuffix("successfully rolled out\n"))
                #expect(try await workstation.secretValue("openai-api-key") == first)
                let afterSet = await workstation.rollouts()

                let rotate = try await workstation.run(
                    ["rotate", "openai-api-key", "--wait", "--timeout", "120s"], stdin: second)
                outputs.append(rotate)
                expectSuccess(rotate)
                #expect(try await workstation.secretValue("openai-api-key") == second)

                let rollback = try await workstation.run([
                    "rollback", "openai-api-key", "--wait", "--timeout", "120s",
                ])
                outputs.append(rollback)
                expectSuccess(rollback)
                #expect(try await workstation.secretValue("openai-api-key") == first)
                // One rollout per change, and --wait waited for each.
                #expect(await workstation.rollouts() == afterSet + 2)

                // The agent's own reading agrees with the workstation's: applied, same fingerprint.
                let list = try await workstation.run(["list", "-o", "json"])
                outputs.append(list)
                let key = try #require(try JSON(parsing: list.stdout)["keys"]?.arrayValue?.first)
                #expect(key["state"] == "applied")
                #expect(key["version"] == 3)
                let status = try await workstation.run(["status"])
                outputs.append(status)
                #expect(status.stdout.contains("Agent:        leader agent-a"))
                #expect(status.stdout.contains("Pending:      none"))

                // The restart the agent would make is already made: restart changes nothing.
                let restart = try await workstation.run(["restart"])
                expectSuccess(restart)
                #expect(restart.stdout.contains("nothing restarts"))

                // Signed by a key the agent does not know, in a namespace that requires signatures: the
                // agent refuses it, --wait says why, and the Secret keeps the value it had.
                expectSuccess(try await workstation.run(["signer", "init"]))
                expectSuccess(
                    try await workstation.kubectl(["create", "configmap", "beluga-secrets-signers"]))
                expectSuccess(
                    try await workstation.kubectl([
                        "annotate", "configmap", "beluga-secrets-signers", "beluga-ai.io/signatures=required",
                    ]))
                let refused = try await workstation.run(
                    ["rotate", "openai-api-key", "--wait", "--timeout", "120s"],
                    stdin: markers.make("refused"))
                outputs.append(refused)
                expectFailure(refused, status: 6, mentioning: ["rejected version 4"])
                #expect(try await workstation.secretValue("openai-api-key") == first)

                // Under required, a deletion needs a signature too: an unsigned one is refused and
                // the value stays, until the policy is lowered explicitly.
                let delete = try await workstation.run(["delete", "openai-api-key", "--no-sign"])
                outputs.append(delete)
                expectSuccess(delete)
                try await eventually("the agent refuses the unsigned deletion") {
                    let list = try await workstation.run(["list"])
                    return list.stdout.contains("deletion refused: deletion is not signed")
                }
                let refusedDeletion = try await workstation.run(["status"])
                outputs.append(refusedDeletion)
                #expect(
                    refusedDeletion.stdout.contains("Pending:      openai-api-key (rejected)"),
                    "\(refusedDeletion.stdout)")
                #expect(try await workstation.secretValue("openai-api-key") == first)
                expectSuccess(
                    try await workstation.kubectl([
                        "annotate", "--overwrite", "configmap", "beluga-secrets-signers",
                        "beluga-ai.io/signatures=optional",
                    ]))
                try await eventually("the agent removes the key from the Secret") {
                    try await workstation.secretValue("openai-api-key") == nil
                }
                for output in outputs {
                    #expect(
                        markers.leaks(in: output.allOutput).isEmpty, "a value leaked: \(output.allOutput)")
                }
                #expect(markers.leaks(in: agent.stdout + agent.stderr).isEmpty)
            }
        }
    }
}

import Foundation
import JSONValue
import KubeAPI
import Testing
import TestSupport

/// `status` and `completion`.
@Suite struct StatusAndCompletionTests {
    static func microTime(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: date).replacingOccurrences(of: "Z", with: "000Z")
    }

    func putLease(_ workstation: Workstation, renewed: Date) async throws {
        try await workstation.fixture.emulator.put([
            "apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
            "metadata": ["name": "beluga-secrets-agent", "namespace": "default"],
            "spec": [
                "holderIdentity": "agent-0", "leaseDurationSeconds": 15,
                "renewTime": .string(Self.microTime(renewed)),
                "acquireTime": .string(Self.microTime(renewed)),
            ],
        ])
    }

    @Test func statusShowsTheLeaderTheSealingKeyPendingChangesAndOldKeys() async throws {
        try await withStarted(try await Workstation.start()) { workstation in
            let noAgent = try await workstation.run(["status"])
            expectSuccess(noAgent)
            #expect(noAgent.stdout.contains("no Lease beluga-secrets-agent"))
            #expect(
                noAgent.stdout.contains("Identity:     \(workstation.identity.signerID) (not pinned yet)"))

            try await putLease(workstation, renewed: Date())
            expectSuccess(try await workstation.run(["set", "openai-api-key"], stdin: "sk-1"))
            expectSuccess(try await workstation.run(["set", "anthropic-api-key"], stdin: "sk-2"))
            try await workstation.recordSyncStatus([
                "openai-api-key": [
                    "state": "applied", "version": 1, "fingerprint": .string("fp1:" + String(repeating: "0", count: 32)), "at": "2026-02-03T04:05:06Z",
                    "reason": "",
                ]
            ])
            // The openai key was sealed long ago.
            var versions = try await workstation.sealedVersions()
            versions[path: "openai-api-key", "sealedAt"] = "2020-01-01T00:00:00Z"
            _ = try await workstation.client().patch(
                ConfigMap.self, name: "beluga-ai-secrets-sealed", namespace: "default",
                patch: .merge([
                    "metadata": ["annotations": ["beluga-ai.io/sealed-versions": .string(versions.jsonText)]]
                ]))

            // Renewed just now, as a live agent would have (the commands above may take a while on
            // a loaded machine).
            try await putLease(workstation, renewed: Date())
            let status = try await workstation.run(["status"])
            expectSuccess(status)
            #expect(status.stdout.contains("Agent:        leader agent-0, renewed"))
            #expect(status.stdout.contains("Sealing key:  \(workstation.sealing.keyID), "))
            #expect(status.stdout.contains("(pinned)"))
            #expect(status.stdout.contains("Last sync:    2026-02-03T04:05:06Z"))
            #expect(status.stdout.contains("Pending:      anthropic-api-key (pending)"))
            #expect(status.stdout.contains("due (older than 90d)"))
            #expect(status.stderr.contains("warning: 1 key is older than 90d: openai-api-key"))

            try await putLease(workstation, renewed: Date())
            let json = try await workstation.run(["status", "-o", "json", "--max-age", "1s"])
            expectSuccess(json)
            let data = try JSON(parsing: json.stdout)
            #expect(data[path: "agent", "live"] == true)
            #expect(data[path: "agent", "holder"] == "agent-0")
            #expect(data[path: "sealingKey", "kid"]?.stringValue == workstation.sealing.keyID.hex)
            #expect(data["pending"]?.arrayValue?.count == 1)
            #expect(data["maxAge"] == "1s")

            try await putLease(workstation, renewed: Date().addingTimeInterval(-3600))
            let stale = try await workstation.run(["status"])
            #expect(stale.stdout.contains("not running? agent-0 last renewed 60m ago"))
        }
    }

    @Test(arguments: ["bash", "zsh", "fish"])
    func completionScriptsCoverTheCommands(shell: String) async throws {
        let result = try ProcessRunner.run(
            Binaries.path("beluga-secrets"), ["completion", shell], timeout: 30)
        #expect(result.status == 0, "\(result.stderr)")
        for command in ["set", "rotate", "rollback", "restart", "status"] {
            #expect(result.stdout.contains(command))
        }
        #expect(result.stdout.contains("dry-run"))
    }

    @Test func anUnknownShellIsAUsageError() throws {
        let result = try ProcessRunner.run(
            Binaries.path("beluga-secrets"), ["completion", "tcsh"], timeout: 30)
        #expect(result.status == 1)
    }
}

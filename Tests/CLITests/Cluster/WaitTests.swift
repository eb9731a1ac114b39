import Foundation
import JSONValue
import KubeAPI
import KubeEmulator
import Sealing
import Testing
import TestSupport

/// `--wait`: the agent's verdict, then the rollout, followed like `kubectl rollout status`.
@Suite struct WaitTests {
    /// Plays the agent for one change: once `version` of `key` is stored, records `state` for it
    /// and, when applied, patches the Deployment's content hash (the restart).
    func playAgent(
        _ workstation: Workstation, key: String, version: Int, state: String, reason: String = "",
        restarts: Bool = true
    ) -> Task<Void, any Error> {
        Task {
            try await eventually("version \(version) of \(key) is stored") {
                (try? await workstation.sealedVersions())?[path: key, "version"]?.intValue == version
            }
            let value = try await workstation.openStored(key)
            let binding = try SecretBinding(namespace: "default", secret: "beluga-ai-secrets", key: key)
            let fingerprint = Fingerprint(of: SecureBytes(Array(value.utf8)), binding: binding).text
            try await workstation.recordSyncStatus([
                key: [
                    "state": .string(state), "version": .int(version),
                    "fingerprint": .string(state == "applied" ? fingerprint : ""),
                    "at": "2026-01-01T00:00:00Z",
                    "reason": .string(reason),
                ]
            ])
            guard state == "applied", restarts else { return }
            let patch: JSON = [
                "spec": [
                    "template": [
                        "metadata": [
                            "annotations": ["beluga-ai.io/content-hash": .string("agent-\(version)")]
                        ]
                    ]
                ]
            ]
            _ = try await workstation.client().patch(
                Deployment.self, name: "beluga-ai", namespace: "default", patch: .merge(patch))
        }
    }

    @Test func sealedSetWaitsForTheAgentAndTheRollout() async throws {
        try await withStarted(try await Workstation.start()) { workstation in
            let agent = playAgent(workstation, key: "openai-api-key", version: 1, state: "applied")
            let result = try await workstation.run(
                ["set", "openai-api-key", "--wait", "--timeout", "120s"], stdin: "sk-wait")
            try await agent.value
            expectSuccess(result)
            #expect(result.stdout.contains("waiting for the agent"))
            #expect(result.stdout.contains("openai-api-key: the agent applied version 1"))
            #expect(result.stdout.hasSuffix("deployment \"beluga-ai\" successfully rolled out\n"))
            // Not a terminal: progress comes as plain lines on standard error.
            #expect(result.stderr.contains("waiting for the agent to apply version 1 of openai-api-key...\n"))
            #expect(await workstation.rollouts() == 1)
        }
    }

    /// `--wait-for applied` ends at the agent's verdict: with an agent that applies the value but
    /// never restarts the Deployment, it succeeds, where a wait through the rollout times out.
    @Test func waitForAppliedEndsAtTheAgentsVerdict() async throws {
        try await withStarted(try await Workstation.start()) { workstation in
            let first = playAgent(
                workstation, key: "openai-api-key", version: 1, state: "applied", restarts: false)
            let applied = try await workstation.run(
                ["set", "openai-api-key", "--wait-for", "applied", "--timeout", "120s"], stdin: "sk-applied")
            try await first.value
            expectSuccess(applied)
            #expect(applied.stdout.contains("openai-api-key: the agent applied version 1"))
            #expect(!applied.stdout.contains("rolled out"))
            #expect(!applied.stderr.contains("restart"))

            let second = playAgent(
                workstation, key: "openai-api-key", version: 2, state: "applied", restarts: false)
            let through = try await workstation.run(
                ["rotate", "openai-api-key", "--wait", "--timeout", "3s"], stdin: "sk-rollout")
            try await second.value
            expectFailure(through, status: 5, mentioning: ["gave up waiting", "after --timeout 3s"])
            #expect(await workstation.rollouts() == 0)
        }
    }

    @Test func directWaitForAppliedDoesNotFollowTheRollout() async throws {
        try await withStarted(try await Workstation.start(KubeEmulator.Options(rolloutDelay: .seconds(3600))))
        {
            workstation in
            let applied = try await workstation.run(
                ["set", "openai-api-key", "--direct", "--wait-for", "applied", "--timeout", "2s"],
                stdin: "sk-a")
            expectSuccess(applied)
            #expect(applied.stdout.contains("deployment \"beluga-ai\": restarting"))
            #expect(!applied.stdout.contains("rolled out"))
            let through = try await workstation.run(
                ["set", "openai-api-key", "--direct", "--wait", "--timeout", "2s"], stdin: "sk-b")
            expectFailure(through, status: 5, mentioning: ["gave up waiting", "after --timeout 2s"])
        }
    }

    @Test func aRejectionByTheAgentEndsTheWaitWithItsReason() async throws {
        try await withStarted(try await Workstation.start()) { workstation in
            let agent = playAgent(
                workstation, key: "openai-api-key", version: 1, state: "rejected",
                reason: "envelope signed by unknown signer 0011223344556677")
            let result = try await workstation.run(
                ["set", "openai-api-key", "--wait", "--timeout", "120s"], stdin: "sk-no")
            try await agent.value
            expectFailure(
                result, status: 6, mentioning: ["rejected version 1", "unknown signer 0011223344556677"])
        }
    }

    @Test func aVersionReplacedBeforeTheAgentGotToItIsReportedAsSuch() async throws {
        try await withStarted(try await Workstation.start()) { workstation in
            // Another operator stores version 2 before the agent looks; the agent rejects that one.
            let other = Task {
                try await eventually("version 1 is stored") {
                    (try? await workstation.sealedVersions())?[path: "openai-api-key", "version"] == 1
                }
                let second = try await workstation.run(["set", "openai-api-key"], stdin: "sk-other")
                try #require(second.status == 0, "\(second.stderr)")
                try await workstation.recordSyncStatus([
                    "openai-api-key": [
                        "state": "rejected", "version": 2, "fingerprint": "", "at": "2026-01-01T00:00:00Z",
                        "reason": "the value is empty",
                    ]
                ])
            }
            let result = try await workstation.run(
                ["set", "openai-api-key", "--wait", "--timeout", "120s"], stdin: "sk-mine")
            try await other.value
            expectSuccess(result)
            #expect(result.stdout.contains("version 1 was replaced by version 2"))
            #expect(result.stdout.contains("rejected that one (the value is empty)"))
        }
    }

    @Test func directSetWaitsForItsRollout() async throws {
        try await withStarted(try await Workstation.start()) { workstation in
            let result = try await workstation.run(
                ["set", "openai-api-key", "--direct", "--wait"], stdin: "sk-direct")
            expectSuccess(result)
            #expect(result.stdout.hasSuffix("deployment \"beluga-ai\" successfully rolled out\n"))
            let deployment = try await workstation.client().get(
                Deployment.self, name: "beluga-ai", namespace: "default")
            #expect(deployment.isRolledOut)
        }
    }

    @Test func configSetWaitsForTheAgentsRestart() async throws {
        try await withStarted(try await Workstation.start()) { workstation in
            let agent = Task {
                try await eventually("the setting is written") {
                    let settings = try await workstation.client().get(
                        ConfigMap.self, name: "beluga-ai-config", namespace: "default")
                    return settings["llmProvider"] == "anthropic"
                }
                let patch: JSON = [
                    "spec": [
                        "template": ["metadata": ["annotations": ["beluga-ai.io/content-hash": "agent-cfg"]]]
                    ]
                ]
                _ = try await workstation.client().patch(
                    Deployment.self, name: "beluga-ai", namespace: "default", patch: .merge(patch))
            }
            let result = try await workstation.run([
                "config", "set", "llmProvider", "anthropic", "--wait", "--timeout", "120s",
            ])
            try await agent.value
            expectSuccess(result)
            #expect(result.stdout.hasSuffix("successfully rolled out\n"))
        }
    }

    /// Back-offs and the 600 s progress deadline on a clock 100 times faster: a rollout that
    /// cannot progress fails after 6 real seconds.
    static let scaledClock = KubeEmulator.Options(rolloutDelay: .milliseconds(20), timeScale: 100)

    @Test func aMissingKeyEndsTheWaitAtTheProgressDeadlineNamingIt() async throws {
        try await withStarted(try await Workstation.start(Self.scaledClock)) { workstation in
            try await eventually("the server's first pods run") {
                try await workstation.client().get(Deployment.self, name: "beluga-ai", namespace: "default")
                    .isRolledOut
            }
            try await workstation.requireKey("openai-api-key")
            // Another key set and the Deployment restarted: its new pods still lack openai-api-key.
            let failed = try await workstation.run(
                ["set", "anthropic-api-key", "--direct", "--wait", "--timeout", "120s"], stdin: "sk-other")
            expectFailure(
                failed, status: 6,
                mentioning: [
                    "the rollout of deployment \"beluga-ai\" failed: deployment \"beluga-ai\" exceeded its progress deadline",
                    "CreateContainerConfigError: couldn't find key openai-api-key in Secret default/beluga-ai-secrets",
                ])
            #expect(!failed.allOutput.contains("sk-other"))
            let deployment = try await workstation.client().get(
                Deployment.self, name: "beluga-ai", namespace: "default")
            #expect(deployment.status.conditions.contains { $0["reason"] == "ProgressDeadlineExceeded" })
            // The old pods kept serving through the failed rollout.
            #expect(deployment.status.availableReplicas == 2)

            // The missing key set: the next rollout completes and the wait succeeds.
            let fixed = try await workstation.run(
                ["set", "openai-api-key", "--direct", "--wait", "--timeout", "120s"], stdin: "sk-fixed")
            expectSuccess(fixed)
            #expect(fixed.stdout.hasSuffix("deployment \"beluga-ai\" successfully rolled out\n"))
        }
    }

    @Test func aCrashingImageEndsRestartWaitAtTheProgressDeadline() async throws {
        try await withStarted(try await Workstation.start(Self.scaledClock)) { workstation in
            try await eventually("the server's first pods run") {
                try await workstation.client().get(Deployment.self, name: "beluga-ai", namespace: "default")
                    .isRolledOut
            }
            _ = try await workstation.kubectl([
                "create", "secret", "generic", "beluga-ai-secrets", "--from-literal=k=v",
            ])
            // The server's image now crashes at start, as a bad build pushed under the same tag does.
            workstation.fixture.emulator.images.set(
                "beluga-ai:1.0.0", .crashes(exitCode: 1, log: ["panic: no provider configured"]))
            let failed = try await workstation.run(["restart", "--wait", "--timeout", "120s"])
            expectFailure(
                failed, status: 6,
                mentioning: [
                    "exceeded its progress deadline",
                    "container server: CrashLoopBackOff: the container exits with code 1",
                ])
            #expect(failed.stdout.contains("deployment \"beluga-ai\": restarting"))

            // A fixed image: the crashing pods start at their next restart, and a later change's
            // wait succeeds.
            workstation.fixture.emulator.images.set("beluga-ai:1.0.0", .runs)
            let fixed = try await workstation.run(
                ["set", "openai-api-key", "--direct", "--wait", "--timeout", "120s"], stdin: "sk-after-fix")
            expectSuccess(fixed)
            #expect(fixed.stdout.hasSuffix("deployment \"beluga-ai\" successfully rolled out\n"))
        }
    }

    @Test func aRolloutSlowerThanTheTimeoutEndsWithExitFive() async throws {
        try await withStarted(try await Workstation.start(KubeEmulator.Options(rolloutDelay: .seconds(3600))))
        {
            workstation in
            _ = try await workstation.kubectl([
                "create", "secret", "generic", "beluga-ai-secrets", "--from-literal=k=v",
            ])
            let started = Date()
            // Long enough that the progress line comes before the time-out even when the tests running
            // beside it slow the CLI's own requests down.
            let result = try await workstation.run(["restart", "--wait", "--timeout", "10s"])
            expectFailure(result, status: 5, mentioning: ["gave up waiting", "after --timeout 10s"])
            // Loose: it only tells the --timeout from the rollout (an hour); the tests share two cores.
            #expect(Date().timeIntervalSince(started) < 60)
            #expect(result.stderr.contains("Waiting for deployment"))
        }
    }
}

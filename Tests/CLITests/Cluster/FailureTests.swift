import Foundation
import JSONValue
import KubeAPI
import KubeEmulator
import Testing
import TestSupport

/// Denied, unreachable and hanging clusters: the documented exit codes, one line saying what to
/// do, and nothing changed.
@Suite struct FailureTests {
    static let policy = """
        users:
          - name: ops
            token: ops-token
            rules:
              - verbs: [get, list, watch]
                resources: [configmaps]
              - verbs: [get, list, watch]
                apiGroups: [apps]
                resources: [deployments]
        """

    @Test func aForbiddenWriteOfTheSealedStoreNamesTheMissingPermission() async throws {
        let policy = try AccessPolicy(yaml: Self.policy)
        try await withStarted(
            try await Workstation.start(
                KubeEmulator.Options(policy: policy, tls: true, rolloutDelay: .milliseconds(20)))
        ) { workstation in
            expectSuccess(try await workstation.run(["set", "openai-api-key"], stdin: "sk-admin"))
            let ops = try workstation.fixture.kubeconfig(user: "ops", token: "ops-token")

            let set = try await workstation.run(
                ["set", "openai-api-key", "--kubeconfig", ops], stdin: "sk-ops")
            expectFailure(
                set, status: 4,
                mentioning: [
                    "user \"ops\" cannot update configmaps \"beluga-ai-secrets-sealed\"",
                    "kubectl auth can-i update configmaps beluga-ai-secrets-sealed -n default",
                ])
            #expect(try await workstation.sealedVersions()[path: "openai-api-key", "version"] == 1)

            // Reading the store is allowed: list works, and says what it cannot show.
            let list = try await workstation.run(["list", "--kubeconfig", ops])
            expectSuccess(list)
            #expect(list.stdout.contains("openai-api-key"))
            #expect(list.stderr.contains("kubectl auth can-i get secrets beluga-ai-secrets -n default"))

            // --reveal needs to read the Secret.
            let reveal = try await workstation.run(["get", "openai-api-key", "--reveal", "--kubeconfig", ops])
            expectFailure(
                reveal, status: 4, mentioning: ["get on secrets \"beluga-ai-secrets\"", "user \"ops\""])
            #expect(reveal.stdout.isEmpty)
        }
    }

    @Test func anUnreachableClusterEndsWithExitFiveQuickly() async throws {
        let folder = try TemporaryDirectory(prefix: "beluga-unreachable")
        // A port nothing listens on: connections are refused at once.
        let kubeconfig = folder.file("kubeconfig")
        try """
        apiVersion: v1
        kind: Config
        clusters: [{name: gone, cluster: {server: "http://127.0.0.1:9"}}]
        users: [{name: u, user: {token: t}}]
        contexts: [{name: c, context: {cluster: gone, user: u}}]
        current-context: c
        """.write(toFile: kubeconfig, atomically: true, encoding: .utf8)
        let started = Date()
        let result = try await ProcessRunner.runDetached(
            Binaries.path("beluga-secrets"), ["set", "openai-api-key", "--kubeconfig", kubeconfig],
            stdin: "sk-x", environment: ["XDG_CONFIG_HOME": folder.file("config")], timeout: 60)
        expectFailure(result, status: 5, mentioning: ["cannot connect to http://127.0.0.1:9"])
        // Refused connections are retried a few times with a backoff of about 3 s in all; the
        // message above already tells that from waiting out request timeouts, so the bound is
        // only a backstop, far from any time a loaded machine takes (three timeouts are 90 s).
        let elapsed = Date().timeIntervalSince(started)
        #expect(elapsed < 85, "took \(elapsed) s")
    }

    @Test func aServerThatNeverAnswersEndsWithExitFiveWithinTheRequestTimeout() async throws {
        try await withStarted(try await Workstation.start()) { workstation in
            workstation.fixture.emulator.faults.update {
                $0.hang = .init(verbs: ["get"], resources: ["configmaps"])
            }
            workstation.fixture.emulator.resetRequestCounts()
            let started = Date()
            let result = try await workstation.run(["list", "--request-timeout", "1s"])
            let elapsed = Date().timeIntervalSince(started)
            // One request, given up after the second asked for (the default would wait 30 s, then
            // retry); the wall-clock bound is loose because tests share two cores.
            expectFailure(result, status: 5, mentioning: ["did not answer in time"])
            // The single request above shows the flag was obeyed (the default retries after
            // 30 s); the bound is a backstop only, since a process started among the parallel
            // suites has once taken 30 s to end.
            #expect(elapsed < 85, "took \(elapsed) s")
            #expect(
                workstation.fixture.emulator.requestCounts().count(verb: "get", resource: "configmaps") == 1)
            workstation.fixture.emulator.faults.update { $0.hang = nil }
        }
    }

    @Test func dryRunsReadButNeverWrite() async throws {
        try await withStarted(try await Workstation.start()) { workstation in
            var markers = LeakMarkers()
            expectSuccess(try await workstation.run(["set", "openai-api-key"], stdin: markers.make("v1")))
            expectSuccess(try await workstation.run(["rotate", "openai-api-key"], stdin: markers.make("v2")))
            expectSuccess(
                try await workstation.run(["set", "direct-key", "--direct"], stdin: markers.make("d1")))
            // Let the rollout the direct write started finish, so that only a write can change
            // the cluster's resourceVersion from here.
            try await eventually("the rollout is over") {
                try await workstation.client().get(Deployment.self, name: "beluga-ai", namespace: "default")
                    .isRolledOut
            }
            try await Task.sleep(for: .milliseconds(100))
            let version = await workstation.fixture.emulator.currentResourceVersion()
            workstation.fixture.emulator.resetRequestCounts()
            let value = markers.make("dry")
            let commands: [([String], String?)] = [
                (["set", "openai-api-key", "--dry-run"], value),
                (["set", "new-key", "--dry-run"], value),
                (["rotate", "openai-api-key", "--dry-run"], value),
                (["rollback", "openai-api-key", "--dry-run"], nil),
                (["delete", "openai-api-key", "--dry-run"], nil),
                (["set", "direct-key", "--direct", "--dry-run"], value),
                (["rotate", "direct-key", "--direct", "--dry-run"], value),
                (["delete", "direct-key", "--direct", "--dry-run"], nil),
                (["config", "set", "llmProvider", "anthropic", "--dry-run"], nil),
                (["config", "unset", "llmProvider", "--dry-run"], nil),
                (["config", "set", "llmProvider", "anthropic", "--direct", "--dry-run"], nil),
                (["restart", "--dry-run"], nil),
            ]
            for (arguments, stdin) in commands {
                let result = try await workstation.run(arguments, stdin: stdin)
                expectSuccess(result)
                #expect(
                    result.stdout.contains("dry run") || result.stdout.contains("nothing restarts"),
                    "\(arguments): \(result.stdout)")
                #expect(markers.leaks(in: result.allOutput).isEmpty, "a value leaked: \(result.allOutput)")
            }
            let counts = workstation.fixture.emulator.requestCounts()
            #expect(counts.writes == 0, "\(counts.json.jsonText)")
            #expect(counts.total >= commands.count)
            #expect(await workstation.fixture.emulator.currentResourceVersion() == version)
            // A first-use pin is not written by a dry run either.
            let otherConfig = workstation.home.file("other-config")
            let other = try await workstation.run(
                ["set", "k", "--dry-run"], stdin: value, environment: ["XDG_CONFIG_HOME": otherConfig])
            expectSuccess(other)
            #expect(other.stderr.contains("would pin"))
            #expect(
                !FileManager.default.fileExists(atPath: otherConfig + "/beluga-secrets/known-agents.json"))
        }
    }

    @Test func aValueFromTheEnvironmentNeverReachesACredentialPlugin() async throws {
        // TLS: a credential plugin runs for an https server only.
        try await withStarted(
            try await Workstation.start(KubeEmulator.Options(tls: true, rolloutDelay: .milliseconds(20)))
        ) { workstation in
            var markers = LeakMarkers()
            let value = markers.make("env")
            // A credential plugin that records the environment it was started with.
            let dump = workstation.home.file("plugin-environment")
            let plugin = workstation.home.file("plugin.sh")
            try """
            #!/bin/sh
            env > '\(dump)'
            printf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"%s"}}' '\(workstation.fixture.emulator.adminToken)'
            """.write(toFile: plugin, atomically: true, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: plugin)
            let kubeconfig = workstation.home.file("kubeconfig-exec")
            let authority =
                try #require(workstation.fixture.emulator.certificateAuthority).certificatePEM
                .data(using: .utf8)?.base64EncodedString() ?? ""
            try """
            apiVersion: v1
            kind: Config
            clusters: [{name: e, cluster: {server: "\(workstation.fixture.emulator.url)", certificate-authority-data: "\(authority)"}}]
            users: [{name: u, user: {exec: {apiVersion: client.authentication.k8s.io/v1, command: "\(plugin)", interactiveMode: Never}}}]
            contexts: [{name: c, context: {cluster: e, user: u, namespace: default}}]
            current-context: c
            """.write(toFile: kubeconfig, atomically: true, encoding: .utf8)
            for arguments in [["set", "openai-api-key"], ["set", "direct-key", "--direct"]] {
                let result = try await workstation.run(
                    arguments + ["--from-env", "OPENAI_KEY", "--kubeconfig", kubeconfig],
                    environment: ["OPENAI_KEY": value])
                expectSuccess(result)
                let environment = try String(contentsOfFile: dump, encoding: .utf8)
                #expect(environment.contains("PATH="), "the plugin ran")
                #expect(markers.leaks(in: environment).isEmpty, "the value reached the plugin's environment")
                #expect(!environment.contains("OPENAI_KEY"))
                try FileManager.default.removeItem(atPath: dump)
            }
            #expect(try await workstation.openStored("openai-api-key") == value)
            #expect(try await workstation.secretValue("direct-key") == value)
        }
    }
}

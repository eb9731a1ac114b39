import Foundation
import JSONValue
import KubeEmulator
import Testing
import TestSupport

/// `beluga-secrets agent`, `audit` and `keys rotate` as real processes against an emulator,
/// with `kubectl` as the independent client.
@Suite(.serialized) struct AgentProcessTests {
    let binary = Binaries.path("beluga-secrets")

    /// An emulator with the chart's Deployment and settings, and helpers around it.
    final class Cluster: TestScoped {
        let fixture: EmulatorFixture
        init(fixture: EmulatorFixture) { self.fixture = fixture }

        func stop() async { await fixture.stop() }

        static func start() async throws -> Cluster {
            let fixture = try await EmulatorFixture.start(
                KubeEmulator.Options(rolloutDelay: .milliseconds(20)))
            try await BelugaLaunch.putChartObjects(into: fixture.emulator)
            // The sealed store, empty, as the chart renders it: the pipeline below patches it.
            try await fixture.emulator.put([
                "apiVersion": "v1", "kind": "ConfigMap",
                "metadata": ["name": "beluga-ai-secrets-sealed", "namespace": "default"],
            ])
            return Cluster(fixture: fixture)
        }

        func agent(_ identity: String, extra: [String] = []) throws -> RunningProcess {
            try RunningProcess(
                Binaries.path("beluga-secrets"),
                BelugaLaunch.agentArguments(
                    kubeconfig: fixture.kubeconfigPath, identity: identity, leaseDuration: "6s",
                    renewDeadline: "4s", extra: extra))
        }

        func kubectl(_ arguments: [String]) async throws -> ProcessResult {
            try await fixture.kubectl(arguments)
        }

        /// The published sealing public key, once there is one, written to a file.
        func publicKeyFile() async throws -> String {
            let path = fixture.directory.file("sealing.pub")
            try await eventually("the agent publishes its public key") {
                let object = try await self.fixture.emulator.object(
                    "configmaps", namespace: "default", name: "beluga-secrets-public-key")
                return object?[path: "data", "sealing.pub"] != nil
            }
            // kubectl, an independent client, reads it as an operator would.
            let result = try await kubectl([
                "get", "configmap", "beluga-secrets-public-key", "-o", "jsonpath={.data.sealing\\.pub}",
            ])
            try #require(result.status == 0 && !result.stdout.isEmpty, "\(result.stderr)")
            try result.stdout.write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }

        /// Seals `value` with `beluga-secrets seal` (value on standard input) and stores the
        /// envelope with `kubectl patch`, as a GitOps pipeline could.
        func set(_ key: String, _ value: String, publicKey: String) async throws {
            let sealed = try await ProcessRunner.runDetached(
                Binaries.path("beluga-secrets"), ["seal", key, "--public-key", publicKey, "-n", "default"],
                stdin: value)
            try #require(sealed.status == 0, "\(sealed.stderr)")
            let envelope = sealed.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            let patch = JSON.object(["data": .object([key: .string(envelope)])]).jsonText
            let result = try await kubectl([
                "patch", "configmap", "beluga-ai-secrets-sealed", "--type", "merge", "-p", patch,
            ])
            try #require(result.status == 0, "\(result.stderr)")
        }

        /// The value in the Secret, read in process (tests poll it; kubectl is too heavy for that).
        func secretValue(_ key: String) async throws -> String? {
            let secret = try await fixture.emulator.object(
                "secrets", namespace: "default", name: "beluga-ai-secrets")
            guard let text = secret?[path: "data", key]?.stringValue, let data = Data(base64Encoded: text)
            else {
                return nil
            }
            return String(decoding: data, as: UTF8.self)
        }

        /// The value in the Secret as kubectl reads it.
        func secretValueWithKubectl(_ key: String) async throws -> String? {
            let result = try await kubectl([
                "get", "secret", "beluga-ai-secrets", "-o", "jsonpath={.data.\(key)}",
            ])
            guard result.status == 0, let data = Data(base64Encoded: result.stdout) else { return nil }
            return String(decoding: data, as: UTF8.self)
        }

        func leaseHolder() async throws -> String {
            let result = try await kubectl([
                "get", "lease", "beluga-secrets-agent", "-o", "jsonpath={.spec.holderIdentity}",
            ])
            return result.stdout
        }
    }

    @Test func theAgentAppliesRestartsServesHealthAndLeavesAVerifiableAuditTrail() async throws {
        try await withStarted(try await Cluster.start()) { cluster in
            var markers = LeakMarkers()
            let value = markers.make("openai")
            let agent = try cluster.agent("agent-a")
            let publicKey = try await cluster.publicKeyFile()

            try await cluster.set("openai-api-key", value, publicKey: publicKey)
            try await eventually("the Secret holds the value") {
                try await cluster.secretValue("openai-api-key") == value
            }
            #expect(try await cluster.secretValueWithKubectl("openai-api-key") == value)
            try await eventually("the rollout is recorded") {
                agent.stdout.contains("rollout.triggered") && agent.stdout.contains("openai-api-key")
            }

            // Health, readiness and metrics.
            let port = try #require(healthPort(agent.stderr))
            let health = try await get("http://127.0.0.1:\(port)/healthz")
            #expect(health.status == 200)
            try await eventually("ready") { try await get("http://127.0.0.1:\(port)/readyz").status == 200 }
            let metrics = try await get("http://127.0.0.1:\(port)/metrics")
            #expect(metrics.text.contains("beluga_secrets_rotations_total{"))
            #expect(metrics.text.contains("beluga_secrets_rollouts_total{"))
            #expect(metrics.text.contains("beluga_secrets_leader 1"))

            // SIGTERM: exit 0, lease released.
            agent.signal(SIGTERM)
            #expect(await agent.waitForExit(timeout: 30))
            #expect(agent.exitStatus == 0)
            #expect(try await cluster.leaseHolder() == "")

            // The audit trail verifies as printed, and fails with a line removed or edited.
            let log = cluster.fixture.directory.file("audit.log")
            try agent.stdout.write(toFile: log, atomically: true, encoding: .utf8)
            let lines = agent.stdout.split(separator: "\n").map(String.init)
            // The sealing key, the key and its rollout (the agent's first start restarts nothing).
            #expect(lines.count >= 3)
            let kubeconfig = cluster.fixture.kubeconfigPath
            let verified = try await ProcessRunner.runDetached(
                binary, ["audit", "--verify", "--file", log, "--kubeconfig", kubeconfig])
            #expect(verified.status == 0, "\(verified.allOutput)")
            #expect(verified.stdout.contains("verified: \(lines.count) records"))
            #expect(verified.stdout.contains("key openai-api-key"))

            let removed = cluster.fixture.directory.file("removed.log")
            try (lines.enumerated().filter { $0.offset != 1 }.map(\.element).joined(separator: "\n") + "\n")
                .write(toFile: removed, atomically: true, encoding: .utf8)
            let afterRemoval = try await ProcessRunner.runDetached(
                binary, ["audit", "--verify", "--file", removed, "--kubeconfig", kubeconfig])
            #expect(afterRemoval.status == 6, "\(afterRemoval.allOutput)")
            #expect(afterRemoval.stdout.contains("TAMPERED"))

            var editedLines = lines
            let created = try #require(lines.firstIndex { $0.contains("secret.created") })
            editedLines[created] = lines[created].replacingOccurrences(
                of: "secret.created", with: "secret.rotated")
            let edited = cluster.fixture.directory.file("edited.log")
            try (editedLines.joined(separator: "\n") + "\n").write(
                toFile: edited, atomically: true, encoding: .utf8)
            let afterEdit = try await ProcessRunner.runDetached(
                binary, ["audit", "--verify", "--file", edited, "--kubeconfig", kubeconfig])
            #expect(afterEdit.status == 6, "\(afterEdit.allOutput)")

            // Standard input and JSON output work too.
            let json = try await ProcessRunner.runDetached(
                binary, ["audit", "-o", "json", "--key", "openai-api-key"], stdin: agent.stdout)
            #expect(json.status == 0, "\(json.stderr)")
            let document = try JSON(parsing: json.stdout)
            #expect(document["records"]?.arrayValue?.first?["event"] == "secret.created")

            let everything =
                agent.stdout + agent.stderr + verified.allOutput + afterRemoval.allOutput + json.allOutput
            #expect(markers.leaks(in: everything).isEmpty)
            let events = try await cluster.kubectl(["get", "events", "-o", "json"])
            #expect(markers.leaks(in: events.stdout).isEmpty)
            #expect(events.stdout.contains("KeyCreated"))
        }
    }

    @Test func aStandbyTakesOverFromAKilledLeaderWithoutLosingAChange() async throws {
        try await withStarted(try await Cluster.start()) { cluster in
            let first = try cluster.agent("agent-a")
            let publicKey = try await cluster.publicKeyFile()
            let second = try cluster.agent("agent-b")
            try await cluster.set("k", "v1", publicKey: publicKey)
            try await eventually("v1 is applied") { try await cluster.secretValue("k") == "v1" }
            #expect(try await cluster.leaseHolder() == "agent-a")

            // The leader dies without releasing the lease; a change arrives while no one leads.
            first.signal(SIGKILL)
            #expect(await first.waitForExit(timeout: 30))
            try await cluster.set("k", "v2", publicKey: publicKey)
            try await eventually("the standby takes over and applies v2") {
                try await cluster.secretValue("k") == "v2"
            }
            #expect(try await cluster.leaseHolder() == "agent-b")
            await second.stop()
            #expect(second.exitStatus == 0)

            let log = cluster.fixture.directory.file("both.log")
            try (first.stdout + second.stdout).write(toFile: log, atomically: true, encoding: .utf8)
            let verified = try await ProcessRunner.runDetached(
                binary,
                [
                    "audit", "--verify", "-o", "json", "--file", log, "--kubeconfig",
                    cluster.fixture.kubeconfigPath,
                ])
            #expect(verified.status == 0, "\(verified.allOutput)")
            let document = try JSON(parsing: verified.stdout)
            #expect(document[path: "verification", "intact"] == true)
            let records = document["records"]?.arrayValue ?? []
            #expect(
                records.contains {
                    $0["event"] == "secret.rotated" && $0["agent"] == "agent-b" && $0["key"] == "k"
                })
        }
    }

    @Test func auditReadsTheAgentPodLogsAndKeysRotateAsksTheAgent() async throws {
        try await withStarted(try await Cluster.start()) { cluster in
            let agent = try cluster.agent("beluga-ai-agent-0")
            let publicKey = try await cluster.publicKeyFile()
            try await cluster.set("k", "v1", publicKey: publicKey)
            try await eventually("v1 is applied") { try await cluster.secretValue("k") == "v1" }

            let rotated = try await ProcessRunner.runDetached(
                binary,
                ["keys", "rotate", "--kubeconfig", cluster.fixture.kubeconfigPath, "--timeout", "60s"])
            #expect(rotated.status == 0, "\(rotated.allOutput)")
            #expect(rotated.stdout.contains("sealing key rotated"))
            let resealed = await agent.waitForOutput(timeout: 40) {
                $0.contains("re-sealed 1 stored envelope")
            }
            #expect(resealed, "\(agent.stderr)")
            await agent.stop()

            // The agent's output served as the log of an agent pod, as the kubelet would.
            let log = cluster.fixture.directory.file("pod.log")
            try (agent.stderr + agent.stdout).write(toFile: log, atomically: true, encoding: .utf8)
            try await cluster.fixture.emulator.put([
                "apiVersion": "v1", "kind": "Pod",
                "metadata": [
                    "name": "beluga-ai-agent-0", "namespace": "default",
                    "labels": ["app.kubernetes.io/component": "secrets-agent"],
                ],
                "spec": ["containers": [["name": "beluga-secrets-agent", "image": "beluga-secrets"]]],
            ])
            cluster.fixture.emulator.attachPodLog(
                namespace: "default", pod: "beluga-ai-agent-0", container: "beluga-secrets-agent", path: log)
            let audit = try await ProcessRunner.runDetached(
                binary,
                ["audit", "--from-cluster", "--verify", "--kubeconfig", cluster.fixture.kubeconfigPath])
            #expect(audit.status == 0, "\(audit.allOutput)")
            #expect(audit.stdout.contains("sealing-key.rotated"))
            #expect(audit.stdout.contains("verified:"))
            #expect(audit.stdout.contains("up to the audit head"), "\(audit.stdout)")

            // Every record cut from the logs (the agent's other lines left): the head the cluster
            // holds still says where the chain reached, so the chain read stops before it.
            let cutLog = (agent.stderr + agent.stdout).split(separator: "\n").filter {
                !$0.contains(#""seq":"#)
            }
            #expect(cutLog.count > 1)
            let cutPath = cluster.fixture.directory.file("cut.log")
            try cutLog.joined(separator: "\n").write(toFile: cutPath, atomically: true, encoding: .utf8)
            cluster.fixture.emulator.attachPodLog(
                namespace: "default", pod: "beluga-ai-agent-0", container: "beluga-secrets-agent",
                path: cutPath)
            let cutResult = try await ProcessRunner.runDetached(
                binary,
                ["audit", "--from-cluster", "--verify", "--kubeconfig", cluster.fixture.kubeconfigPath])
            #expect(cutResult.status == 6, "\(cutResult.allOutput)")
            #expect(
                cutResult.stderr.contains("no audit record of namespace default in the logs read"),
                "\(cutResult.stderr)")
            #expect(cutResult.stderr.contains("--allow-partial"))
            #expect(cutResult.stdout.contains("PARTIAL: namespace default: no record in the logs read"))
            let accepted = try await ProcessRunner.runDetached(
                binary,
                [
                    "audit", "--from-cluster", "--verify", "--allow-partial", "--kubeconfig",
                    cluster.fixture.kubeconfigPath,
                ])
            #expect(accepted.status == 0, "\(accepted.allOutput)")
            #expect(accepted.stdout.contains("PARTIAL: no audit record in the logs read"))
        }
    }

    @Test func badFlagsAreUsageErrors() async throws {
        let result = try ProcessRunner.run(binary, ["agent", "--debounce", "soon"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("--debounce"))
        let lease = try ProcessRunner.run(
            binary, ["agent", "--lease-duration", "5s", "--renew-deadline", "10s"])
        #expect(lease.status == 1)
        #expect(lease.stderr.contains("renew deadline"))
        let audit = try ProcessRunner.run(binary, ["audit", "--file", "/nonexistent/audit.log"])
        #expect(audit.status == 1)
        #expect(audit.stderr.contains("cannot read /nonexistent/audit.log"))
    }
}

/// The port in the agent's "serving health and metrics address=HOST:PORT" log line.
private func healthPort(_ log: String) -> Int? {
    guard let line = log.split(separator: "\n").first(where: { $0.contains("serving health and metrics") }),
        let address = line.split(separator: " ").first(where: { $0.hasPrefix("address=") }),
        let port = address.split(separator: ":").last
    else { return nil }
    return Int(port)
}

private struct Answer {
    var status: Int
    var text: String
}

/// One GET with curl (an independent HTTP client).
private func get(_ url: String) async throws -> Answer {
    let curl = try ProcessRunner.which("curl")
    let result = try await ProcessRunner.runDetached(curl, ["-s", "-o", "-", "-w", "\n%{http_code}", url])
    var lines = result.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    let status = Int(lines.popLast() ?? "") ?? 0
    return Answer(status: status, text: lines.joined(separator: "\n"))
}

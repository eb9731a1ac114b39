import Foundation
import JSONValue
import KubeEmulator
import Testing
import TestSupport

/// Fault injection (library API and admin endpoint) and request accounting.
@Suite("faults and accounting")
struct FaultsAndAccountingTests {
    @Test("429 with Retry-After: kubectl retries and succeeds; the counts show every attempt")
    func tooManyRequestsRetried() async throws {
        try await withEmulator { fixture in
            _ = try await fixture.kubectl(["create", "configmap", "c", "--from-literal=a=1"])
            fixture.emulator.resetRequestCounts()
            fixture.emulator.faults.update {
                $0.errors = [
                    .init(
                        code: 429, count: 2, retryAfterSeconds: 1,
                        match: .init(verbs: ["get"], resources: ["configmaps"]))
                ]
            }
            let direct = try await fixture.request("GET", "/api/v1/namespaces/default/configmaps/c")
            #expect(direct.status == 429)
            #expect(direct.headers["retry-after"] == "1")
            #expect(direct.json["reason"] == "TooManyRequests")
            let read = try await fixture.kubectl(["get", "configmap", "c", "-o", "jsonpath={.data.a}"])
            #expect(read.stdout == "1", "\(read.stderr)")
            let counts = fixture.emulator.requestCounts()
            #expect(counts.count(verb: "get", resource: "configmaps", name: "c") == 3)
            #expect(counts.writes == 0)
            #expect(fixture.emulator.faults.plan.errors.first?.count == 0)
        }
    }

    @Test("500 and 503 by verb and resource; the admin endpoint sets and clears faults")
    func serverErrorsThroughAdminEndpoint() async throws {
        try await withEmulator { fixture in
            let plan: JSON = [
                "errors": [
                    ["code": 500, "share": 1, "match": ["verbs": ["create"], "resources": ["secrets"]]],
                    ["code": 503, "share": 1, "retryAfterSeconds": 2, "match": ["verbs": ["list"]]],
                ]
            ]
            let denied = try await fixture.request("PUT", "/_emulator/faults", body: plan, token: "not-admin")
            #expect(denied.status == 401)
            #expect(try await fixture.request("PUT", "/_emulator/faults", body: plan).status == 200)
            let secret: JSON = ["apiVersion": "v1", "kind": "Secret", "metadata": ["name": "s"]]
            let failed = try await fixture.request("POST", "/api/v1/namespaces/default/secrets", body: secret)
            #expect(failed.status == 500)
            #expect(failed.json["reason"] == "InternalError")
            let unavailable = try await fixture.request("GET", "/api/v1/namespaces/default/configmaps")
            #expect(unavailable.status == 503)
            #expect(unavailable.headers["retry-after"] == "2")
            #expect(try await fixture.request("GET", "/api/v1/namespaces/default/configmaps/x").status == 404)
            #expect(try await fixture.request("DELETE", "/_emulator/faults").status == 200)
            #expect(
                try await fixture.request("POST", "/api/v1/namespaces/default/secrets", body: secret).status
                    == 201)
            let counts = try await fixture.request("GET", "/_emulator/requests").json
            let creates = (counts.arrayValue ?? []).filter {
                $0["verb"] == "create" && $0["resource"] == "secrets"
            }
            #expect(creates.first?["count"] == 2)
        }
    }

    @Test("counts record who sent each request and the code of its answer")
    func countsByUserAndCode() async throws {
        let policy = try AccessPolicy(
            yaml: """
                users:
                  - serviceAccount: beluga/agent
                    token: agent-token
                    rules:
                      - verbs: [get]
                        resources: [configmaps]
                        resourceNames: [settings]
                """)
        try await withEmulator(.init(policy: policy, rolloutDelay: .milliseconds(50))) { fixture in
            let agent = "system:serviceaccount:beluga:agent"
            let path = "/api/v1/namespaces/beluga/configmaps/settings"
            #expect(try await fixture.request("GET", path, token: "agent-token").status == 404)
            #expect(try await fixture.request("GET", path + "-other", token: "agent-token").status == 403)
            #expect(try await fixture.request("GET", path, token: "unknown-token").status == 401)
            #expect(try await fixture.request("GET", path).status == 404)
            let counts = fixture.emulator.requestCounts()
            #expect(counts.count(resource: "configmaps", user: agent) == 2)
            #expect(counts.count(name: "settings-other", user: agent, code: 403) == 1)
            #expect(counts.count(name: "settings", user: agent, code: 404) == 1)
            #expect(counts.count(user: "", code: 401) == 1)
            #expect(counts.count(user: "kubernetes-admin", code: 404) >= 1)

            let rows = try await fixture.request("GET", "/_emulator/requests").json.arrayValue ?? []
            let denied = rows.filter { $0["user"] == .string(agent) && $0["name"] == "settings-other" }
            #expect(denied.count == 1)
            #expect(denied.first?["count"] == 1)
            #expect(denied.first?["codes"] == ["403": 1])
        }
    }

    @Test("a hanging server makes kubectl time out; latency is added")
    func hangAndLatency() async throws {
        try await withEmulator { fixture in
            fixture.emulator.faults.update { $0.hang = .init(verbs: ["get"], resources: ["configmaps"]) }
            let started = Date()
            let result = try await fixture.kubectl(["get", "configmap", "x", "--request-timeout=1s"])
            #expect(result.status == 1)
            // (On a loaded machine kubectl's discovery may time out first: either way it gave up.)
            let timedOut =
                result.stderr.contains("context deadline exceeded")
                || result.stderr.contains("Client.Timeout exceeded")
            #expect(timedOut, "\(result.stderr)")
            // Generous: a loaded CI machine may be slow to start kubectl, never slow to answer 1 s.
            #expect(Date().timeIntervalSince(started) < 50)
            fixture.emulator.faults.reset()
            fixture.emulator.faults.update { $0.latencyMilliseconds = 300 }
            let slow = Date()
            _ = try await fixture.request("GET", "/api/v1/namespaces/default/configmaps")
            #expect(Date().timeIntervalSince(slow) >= 0.3)
        }
    }

    @Test("watch streams are dropped after N events")
    func droppedWatch() async throws {
        try await withEmulator { fixture in
            fixture.emulator.faults.update { $0.dropWatchAfterEvents = 2 }
            let stream = try RunningProcess(
                try ProcessRunner.which("curl"),
                [
                    "-sN", "-H", "Authorization: Bearer \(fixture.emulator.adminToken)",
                    fixture.emulator.url + "/api/v1/namespaces/default/configmaps?watch=1",
                ])
            for index in 0..<3 {
                _ = try await fixture.request(
                    "POST", "/api/v1/namespaces/default/configmaps",
                    body: [
                        "apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": .string("c\(index)")],
                    ])
            }
            #expect(await stream.waitForExit())
            #expect(stream.stdout.split(separator: "\n").count == 2)
        }
    }

    @Test("a drop planned while watches are open ends those watches too")
    func dropPlannedLater() async throws {
        try await withEmulator { fixture in
            /// A watch of ConfigMaps, once the emulator counts it open.
            func openWatch() async throws -> RunningProcess {
                let before = await fixture.emulator.openWatchCount()
                let process = try RunningProcess(
                    try ProcessRunner.which("curl"),
                    [
                        "-sN", "-H", "Authorization: Bearer \(fixture.emulator.adminToken)",
                        fixture.emulator.url + "/api/v1/namespaces/default/configmaps?watch=1",
                    ])
                let deadline = ContinuousClock.now + .seconds(30)
                while await fixture.emulator.openWatchCount() <= before, ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(50))
                }
                try #require(await fixture.emulator.openWatchCount() > before, "the watch is open")
                return process
            }
            // Without a plan these watches would last half an hour or more.
            let byEvents = try await openWatch()
            fixture.emulator.faults.update { $0.dropWatchAfterEvents = 1 }
            _ = try await fixture.request(
                "POST", "/api/v1/namespaces/default/configmaps",
                body: ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "c"]])
            #expect(await byEvents.waitForExit(timeout: 30))
            #expect(byEvents.stdout.split(separator: "\n").count == 1)

            fixture.emulator.faults.reset()
            let deadline = ContinuousClock.now + .seconds(30)
            while await fixture.emulator.openWatchCount() > 0, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(50))
            }
            let byTime = try await openWatch()
            fixture.emulator.faults.update { $0.dropWatchAfterSeconds = 1 }
            #expect(await byTime.waitForExit(timeout: 30))
        }
    }
}

/// `pods/log` from files attached through the library API.
@Suite("pod logs")
struct PodLogTests {
    @Test("kubectl logs: whole log, --tail, --since, -f sees new lines, container errors")
    func logs() async throws {
        try await withEmulator { fixture in
            let pod: JSON = [
                "apiVersion": "v1", "kind": "Pod", "metadata": ["name": "agent", "namespace": "default"],
                "spec": [
                    "containers": [
                        ["name": "agent", "image": "beluga:1"], ["name": "sidecar", "image": "busybox:1.36"],
                    ]
                ],
            ]
            try await fixture.emulator.put(pod)
            let file = fixture.directory.file("agent.log")
            try "one\ntwo\nthree\n".write(toFile: file, atomically: true, encoding: .utf8)
            fixture.emulator.attachPodLog(namespace: "default", pod: "agent", container: "agent", path: file)
            // kubectl picks the first container itself; the API asks for one.
            let ambiguous = try await fixture.request("GET", "/api/v1/namespaces/default/pods/agent/log")
            #expect(ambiguous.status == 400)
            #expect(
                ambiguous.json["message"]
                    == "a container name must be specified for pod agent, choose one of: [agent sidecar]")
            let all = try await fixture.kubectl(["logs", "agent", "-c", "agent"])
            #expect(all.stdout == "one\ntwo\nthree\n", "\(all.stderr)")
            let tail = try await fixture.kubectl(["logs", "agent", "-c", "agent", "--tail=1"])
            #expect(tail.stdout == "three\n")
            let timestamps = try await fixture.kubectl([
                "logs", "agent", "-c", "agent", "--timestamps", "--tail=1",
            ])
            #expect(timestamps.stdout.hasSuffix("Z three\n"))
            let wrong = try await fixture.kubectl(["logs", "agent", "-c", "nope"])
            #expect(wrong.stderr.contains("container nope is not valid for pod agent"))

            let followRequests = fixture.emulator.requestCounts().count(verb: "get", resource: "pods/log")
            let follower = try RunningProcess(
                try EmulatorFixture.kubectlPath(), ["logs", "-f", "agent", "-c", "agent", "--tail=0"],
                environment: ["HOME": fixture.directory.path, "KUBECONFIG": fixture.kubeconfigPath])
            // Write once kubectl's follow request has reached the server.
            for _ in 0..<200
            where fixture.emulator.requestCounts().count(verb: "get", resource: "pods/log") == followRequests
            {
                try await Task.sleep(for: .milliseconds(25))
            }
            try await Task.sleep(for: .milliseconds(100))
            let handle = try #require(FileHandle(forWritingAtPath: file))
            handle.seekToEndOfFile()
            handle.write(Data("four\n".utf8))
            try handle.close()
            #expect(await follower.waitForOutput { $0.contains("four\n") }, "\(follower.stderr)")
            #expect(!follower.stdout.contains("three"))
            let since = try await fixture.kubectl(["logs", "agent", "-c", "agent", "--since=1h"])
            #expect(since.stdout == "one\ntwo\nthree\nfour\n")
            // The followed stream ends when the pod is deleted.
            try await fixture.emulator.delete("pods", namespace: "default", name: "agent")
            #expect(await follower.waitForExit())
        }
    }
}

extension PodLogTests {
    @Test("logs attached by label selector serve a Deployment's pods: kubectl logs deploy/NAME")
    func logsBySelector() async throws {
        try await withEmulator { fixture in
            let file = fixture.directory.file("web.log")
            try "started\nserving\n".write(toFile: file, atomically: true, encoding: .utf8)
            try fixture.emulator.attachPodLog(namespace: "default", selector: "app=web", path: file)
            _ = try await fixture.kubectl(["create", "deployment", "web", "--image=nginx:1.25"])
            #expect(
                try await fixture.kubectl(["rollout", "status", "deployment/web", "--timeout=20s"]).status
                    == 0)
            let logs = try await fixture.kubectl(["logs", "deploy/web"])
            #expect(logs.stdout == "started\nserving\n", "\(logs.stderr)")
            #expect(throws: KubeEmulatorError.self) {
                try fixture.emulator.attachPodLog(namespace: "default", selector: "app in", path: file)
            }
        }
    }
}

/// The `kube-emulator` executable, as the demo and other processes use it.
@Suite("kube-emulator executable")
struct ExecutableTests {
    @Test("prints listening on URL first, writes a kubeconfig kubectl uses, stops on SIGTERM")
    func runAsProcess() async throws {
        let directory = try TemporaryDirectory()
        let kubeconfig = directory.file("kubeconfig")
        let server = try RunningProcess(
            Binaries.path("kube-emulator"),
            ["--port", "0", "--kubeconfig-out", kubeconfig, "--rollout-delay", "50ms"])
        #expect(await server.waitForOutput { $0.contains("kubeconfig written") }, "\(server.stderr)")
        let firstLine = server.stdout.split(separator: "\n").first.map(String.init) ?? ""
        #expect(firstLine.hasPrefix("listening on http://127.0.0.1:"))
        // Exactly the acceptance check: the written file passed with --kubeconfig.
        let environment = ["HOME": directory.path]
        let kubectl = try EmulatorFixture.kubectlPath()
        let created = try await ProcessRunner.runDetached(
            kubectl, ["--kubeconfig", kubeconfig, "create", "secret", "generic", "s", "--from-literal=a=b"],
            environment: environment)
        #expect(created.status == 0, "\(created.stderr)")
        let read = try await ProcessRunner.runDetached(
            kubectl, ["--kubeconfig", kubeconfig, "get", "secret", "s", "-o", "jsonpath={.data.a}"],
            environment: environment)
        #expect(read.stdout == "Yg==")
        let attributes = try FileManager.default.attributesOfItem(atPath: kubeconfig)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        server.signal(SIGTERM)
        #expect(await server.waitForExit(timeout: 30))
        #expect(server.exitStatus == 0)
    }

    @Test("--token-file sets the admin token without putting it in argv")
    func tokenFile() async throws {
        let directory = try TemporaryDirectory()
        let tokenPath = directory.file("token")
        try "file-token-123\n".write(toFile: tokenPath, atomically: true, encoding: .utf8)
        let kubeconfig = directory.file("kubeconfig")
        let server = try RunningProcess(
            Binaries.path("kube-emulator"), ["--token-file", tokenPath, "--kubeconfig-out", kubeconfig])
        defer { server.signal(SIGKILL) }
        #expect(await server.waitForOutput { $0.contains("kubeconfig written") }, "\(server.stderr)")
        let url = String(server.stdout.split(separator: "\n").first?.dropFirst("listening on ".count) ?? "")
        let written = try String(contentsOfFile: kubeconfig, encoding: .utf8)
        #expect(written.contains("token: file-token-123\n"))
        let curl = try ProcessRunner.which("curl")
        let admin = try await ProcessRunner.runDetached(
            curl,
            [
                "-s", "-o", "/dev/null", "-w", "%{http_code}", "-H", "Authorization: Bearer file-token-123",
                url + "/_emulator/requests",
            ])
        #expect(admin.stdout == "200")
        let wrong = try await ProcessRunner.runDetached(
            curl,
            [
                "-s", "-o", "/dev/null", "-w", "%{http_code}", "-H", "Authorization: Bearer other",
                url + "/_emulator/requests",
            ])
        #expect(wrong.stdout == "401")
        server.signal(SIGTERM)
        #expect(await server.waitForExit(timeout: 30))
    }

    @Test("a bad policy file is refused with a one-line reason and exit code 64")
    func badPolicy() async throws {
        let directory = try TemporaryDirectory()
        let policy = directory.file("policy.yaml")
        try "users:\n  - token: t\n".write(toFile: policy, atomically: true, encoding: .utf8)
        let result = try await ProcessRunner.runDetached(
            Binaries.path("kube-emulator"), ["--policy", policy])
        #expect(result.status == 64)
        #expect(result.stderr.contains("users[0] needs `name` or `serviceAccount`"), "\(result.stderr)")
    }
}

import Foundation
import JSONValue
import KubeEmulator
import Testing
import TestSupport

/// Deployments' pods fail and recover as a kubelet would report it, checked with the installed
/// kubectl (`get pods`, `describe`, `logs`, `rollout status`, `get events`): the reasons,
/// messages and events of docs/kube-emulator.md, "Workloads". The emulator's clock runs 100 times
/// faster for back-offs and deadlines, so a 10 s retry takes 0.1 s and no test sleeps.
@Suite("pods that fail like real ones")
struct PodLifecycleTests {
    static let fast = KubeEmulator.Options(rolloutDelay: .milliseconds(20), timeScale: 100)

    /// A Deployment `web` of `replicas` pods running `image`, with `env`, `volumes` and
    /// `extra` pod-spec fields.
    static func deployment(
        image: String = "nginx:1.25", replicas: Int = 1, env: String = "[]", envFrom: String = "[]",
        volumes: String = "[]", podExtra: String = "", deadline: Int = 600
    ) -> String {
        """
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: web, namespace: default}
        spec:
          replicas: \(replicas)
          progressDeadlineSeconds: \(deadline)
          selector: {matchLabels: {app: web}}
          template:
            metadata: {labels: {app: web}}
            spec:
              \(podExtra.isEmpty ? "" : podExtra + "\n      ")volumes: \(volumes)
              containers:
                - name: web
                  image: "\(image)"
                  env: \(env)
                  envFrom: \(envFrom)
        """
    }

    static func apply(_ fixture: EmulatorFixture, _ yaml: String) async throws {
        let applied = try await fixture.kubectl(["apply", "-f", "-"], stdin: yaml)
        try #require(applied.status == 0, "\(applied.stderr)")
    }

    /// The pods of `web`, as `kubectl get pods -o json` prints them.
    static func pods(_ fixture: EmulatorFixture) async throws -> [JSON] {
        let listed = try await fixture.kubectl(["get", "pods", "-l", "app=web", "-o", "json"])
        return try JSON(parsing: listed.stdout)["items"]?.arrayValue ?? []
    }

    /// Waits until some pod's `web` container waits with `reason`, and returns that pod.
    static func podWaiting(_ fixture: EmulatorFixture, reason: String, message: String? = nil) async throws
        -> JSON
    {
        var found: JSON?
        try await eventually("a pod waits in \(reason) \(message ?? "")") {
            found = try await pods(fixture).first { pod in
                let waiting = pod[path: "status", "containerStatuses"]?[0]?[path: "state", "waiting"]
                return waiting?["reason"]?.stringValue == reason
                    && (message == nil || waiting?["message"]?.stringValue == message)
            }
            return found != nil
        }
        return try #require(found)
    }

    static func rolloutStatus(_ fixture: EmulatorFixture) async throws -> ProcessResult {
        try await fixture.kubectl(["rollout", "status", "deployment/web", "--timeout=60s"], timeout: 90)
    }

    /// Waits until the Deployment's rollout is complete again (`kubectl rollout status` would
    /// end at once on a deadline passed before the cause went away, as on a real cluster).
    static func awaitRecovery(_ fixture: EmulatorFixture) async throws {
        try await eventually("the rollout completes") {
            let status = try await deploymentStatus(fixture)
            return condition(status, "Progressing")?["reason"] == "NewReplicaSetAvailable"
                && condition(status, "Available")?["status"] == "True"
        }
        let done = try await rolloutStatus(fixture)
        #expect(done.status == 0, "\(done.stderr)")
    }

    static func deploymentStatus(_ fixture: EmulatorFixture) async throws -> JSON {
        try JSON(parsing: try await fixture.kubectl(["get", "deployment", "web", "-o", "json"]).stdout)[
            "status"]
            ?? [:]
    }

    static func condition(_ status: JSON, _ type: String) -> JSON? {
        status["conditions"]?.arrayValue?.first { $0["type"]?.stringValue == type }
    }

    @Test("a missing Secret, then a missing key: CreateContainerConfigError until the key is set")
    func missingKeyThenSet() async throws {
        try await withEmulator(Self.fast) { fixture in
            try await Self.apply(
                fixture,
                Self.deployment(
                    env: """
                        [{name: API_KEY, valueFrom: {secretKeyRef: {name: app-secrets, key: api-key}}},
                         {name: OTHER, valueFrom: {secretKeyRef: {name: app-secrets, key: other, optional: true}}},
                         {name: MODE, valueFrom: {configMapKeyRef: {name: absent, key: mode, optional: true}}}]
                        """))
            let pod = try await Self.podWaiting(
                fixture, reason: "CreateContainerConfigError", message: "secret \"app-secrets\" not found")
            let name = try #require(pod[path: "metadata", "name"]?.stringValue)
            #expect(pod[path: "status", "phase"] == "Pending")
            #expect(pod[path: "spec", "nodeName"] == "emulator-node")
            let ready = Self.condition(pod["status"] ?? [:], "Ready")
            #expect(ready?["status"] == "False")
            #expect(ready?["reason"] == "ContainersNotReady")
            #expect(ready?["message"] == "containers with unready status: [web]")
            #expect(pod[path: "status", "containerStatuses"]?[0]?["ready"] == false)
            #expect(pod[path: "status", "containerStatuses"]?[0]?["restartCount"] == 0)

            let table = try await fixture.kubectl(["get", "pods", "-l", "app=web", "--no-headers"])
            #expect(table.stdout.contains("0/1   CreateContainerConfigError   0"), "\(table.stdout)")
            let logs = try await fixture.kubectl(["logs", name])
            #expect(
                logs.stderr.contains(
                    "container \"web\" in pod \"\(name)\" is waiting to start: CreateContainerConfigError"),
                "\(logs.stderr)")

            // The Secret without the key: the kubelet's next retry says which key.
            _ = try await fixture.kubectl([
                "create", "secret", "generic", "app-secrets", "--from-literal=x=y",
            ])
            _ = try await Self.podWaiting(
                fixture, reason: "CreateContainerConfigError",
                message: "couldn't find key api-key in Secret default/app-secrets")
            let described = try await fixture.kubectl(["describe", "pod", name])
            #expect(
                described.stdout.contains("Error: couldn't find key api-key in Secret default/app-secrets"))
            #expect(described.stdout.contains("Error: secret \"app-secrets\" not found"))
            #expect(described.stdout.contains("CreateContainerConfigError"))

            // The key set: the same pod starts (the kubelet retries), and the rollout completes.
            _ = try await fixture.kubectl([
                "patch", "secret", "app-secrets", "--type=merge", "-p", #"{"stringData":{"api-key":"k"}}"#,
            ])
            try await Self.awaitRecovery(fixture)
            let running = try await Self.pods(fixture)
            #expect(running.map { $0[path: "metadata", "name"]?.stringValue } == [name])
            #expect(running.first?[path: "status", "phase"] == "Running")
            #expect(running.first?[path: "status", "containerStatuses"]?[0]?["ready"] == true)
            #expect(running.first?[path: "status", "containerStatuses"]?[0]?[path: "state", "running"] != nil)
            let status = try await Self.deploymentStatus(fixture)
            #expect(status["readyReplicas"] == 1 && status["availableReplicas"] == 1)
            #expect(Self.condition(status, "Available")?["status"] == "True")
        }
    }

    @Test("envFrom and volumes: a missing ConfigMap or Secret, with the kubelet's messages")
    func envFromAndVolumes() async throws {
        try await withEmulator(Self.fast) { fixture in
            try await Self.apply(
                fixture,
                Self.deployment(
                    envFrom: "[{configMapRef: {name: settings}}, {secretRef: {name: maybe, optional: true}}]",
                    volumes: """
                        [{name: creds, secret: {secretName: creds}},
                         {name: ca, projected: {sources: [{configMap: {name: ca-bundle, items: [{key: ca.crt, path: ca.crt}]}}]}}]
                        """))
            // Volumes come first: the pod cannot get its sandbox.
            let pod = try await Self.podWaiting(fixture, reason: "ContainerCreating")
            let name = try #require(pod[path: "metadata", "name"]?.stringValue)
            try await eventually("the kubelet reports both volumes") {
                let events = try await fixture.kubectl([
                    "get", "events", "--field-selector", "involvedObject.name=\(name),reason=FailedMount",
                    "-o",
                    "jsonpath={range .items[*]}{.message}{\"\\n\"}{end}",
                ])
                return events.stdout.contains(
                    #"MountVolume.SetUp failed for volume "creds" : secret "creds" not found"#)
                    && events.stdout.contains(
                        #"MountVolume.SetUp failed for volume "ca" : configmap "ca-bundle" not found"#)
            }
            #expect(Self.condition(pod["status"] ?? [:], "PodReadyToStartContainers")?["status"] == "False")
            #expect(pod[path: "status", "podIP"] == nil)

            _ = try await fixture.kubectl(["create", "secret", "generic", "creds", "--from-literal=a=b"])
            _ = try await fixture.kubectl(["create", "configmap", "ca-bundle", "--from-literal=other=x"])
            try await eventually("the missing key of the projected ConfigMap is named") {
                let events = try await fixture.kubectl([
                    "get", "events", "-o", "jsonpath={.items[*].message}",
                ])
                return events.stdout.contains(
                    #"MountVolume.SetUp failed for volume "ca" : configmap references non-existent config key: ca.crt"#
                )
            }
            _ = try await fixture.kubectl([
                "patch", "configmap", "ca-bundle", "--type=merge", "-p", #"{"data":{"ca.crt":"pem"}}"#,
            ])
            // Mounted; now the environment: the ConfigMap of envFrom is missing (the optional
            // Secret is not).
            _ = try await Self.podWaiting(
                fixture, reason: "CreateContainerConfigError", message: "configmap \"settings\" not found")
            _ = try await fixture.kubectl(["create", "configmap", "settings", "--from-literal=mode=x"])
            try await Self.awaitRecovery(fixture)
            let running = try await Self.pods(fixture)
            #expect(running.first?[path: "status", "podIP"]?.stringValue?.hasPrefix("10.244.0.") == true)
        }
    }

    @Test("a missing image: ErrImagePull, ImagePullBackOff and the kubelet's events, then the pull works")
    func missingImage() async throws {
        try await withEmulator(Self.fast) { fixture in
            fixture.emulator.images.set("registry.example.com/app:2.0", .missing)
            try await Self.apply(
                fixture,
                Self.deployment(
                    image: "registry.example.com/app:2.0", podExtra: "imagePullSecrets: [{name: regcred}]"))
            let reference = "registry.example.com/app:2.0"
            let error =
                "rpc error: code = NotFound desc = failed to pull and unpack image \"\(reference)\": "
                + "failed to resolve reference \"\(reference)\": \(reference): not found"
            let pod = try await Self.podWaiting(
                fixture, reason: "ImagePullBackOff",
                message: "Back-off pulling image \"\(reference)\": ErrImagePull: \(error)")
            let name = try #require(pod[path: "metadata", "name"]?.stringValue)
            #expect(pod[path: "status", "phase"] == "Pending")
            #expect(pod[path: "status", "containerStatuses"]?[0]?["imageID"] == "")
            try await eventually("the kubelet's events describe the failed pull") {
                let described = try await fixture.kubectl(["describe", "pod", name]).stdout
                return [
                    "Pulling image \"\(reference)\"", "Failed to pull image \"\(reference)\": \(error)",
                    "Error: ErrImagePull", "Back-off pulling image \"\(reference)\"",
                    "Error: ImagePullBackOff",
                    "Unable to retrieve some image pull secrets (regcred); attempting to pull the image may not succeed.",
                ].allSatisfy(described.contains)
            }
            let logs = try await fixture.kubectl(["logs", name])
            #expect(logs.stderr.contains("is waiting to start"), "\(logs.stderr)")
            // Every retry fails the same way: one Event counts them.
            try await eventually("the failed pulls are counted on one Event") {
                let events = try JSON(
                    parsing: try await fixture.kubectl([
                        "get", "events", "--field-selector", "reason=Pulling", "-o", "json",
                    ]).stdout)
                let items = events["items"]?.arrayValue ?? []
                return items.count == 1 && (items[0]["count"]?.intValue ?? 0) >= 2
            }

            // The image pushed (through the admin endpoint): the next pull after the back-off works.
            let pushed = try await fixture.request(
                "POST", "/_emulator/images",
                body: ["image": "registry.example.com/app:2.0", "behaviour": "runs"])
            #expect(pushed.status == 200, "\(pushed.text)")
            try await Self.awaitRecovery(fixture)
            let running = try await Self.pods(fixture)
            #expect(running.map { $0[path: "metadata", "name"]?.stringValue } == [name])
            let imageID =
                running.first?[path: "status", "containerStatuses"]?[0]?["imageID"]?.stringValue ?? ""
            #expect(imageID.hasPrefix("registry.example.com/app@sha256:"), "\(imageID)")
            let described = try await fixture.kubectl(["describe", "pod", name])
            #expect(described.stdout.contains("Successfully pulled image \"\(reference)\""))
            #expect(described.stdout.contains("Started container web"))
        }
    }

    @Test("a crashing image: CrashLoopBackOff with restarts, lastState and logs, then it runs")
    func crashingImage() async throws {
        try await withEmulator(Self.fast) { fixture in
            let planted = try await fixture.request(
                "POST", "/_emulator/images",
                body: [
                    "image": "app:bad", "behaviour": "crashes", "exitCode": 3,
                    "log": "starting\nfatal: OPENAI_API_KEY is empty\n",
                ])
            #expect(planted.status == 200, "\(planted.text)")
            try await Self.apply(fixture, Self.deployment(image: "app:bad"))
            var crashing: JSON = [:]
            try await eventually("the container has restarted twice in a crash loop") {
                guard let pod = try await Self.pods(fixture).first,
                    let status = pod[path: "status", "containerStatuses"]?[0],
                    status[path: "state", "waiting", "reason"] == "CrashLoopBackOff",
                    (status["restartCount"]?.intValue ?? 0) >= 2
                else { return false }
                crashing = pod
                return true
            }
            let name = try #require(crashing[path: "metadata", "name"]?.stringValue)
            let uid = try #require(crashing[path: "metadata", "uid"]?.stringValue)
            let container = try #require(crashing[path: "status", "containerStatuses"]?[0])
            #expect(crashing[path: "status", "phase"] == "Running")
            #expect(container[path: "lastState", "terminated", "exitCode"] == 3)
            #expect(container[path: "lastState", "terminated", "reason"] == "Error")
            #expect(container["ready"] == false && container["started"] == false)
            let message = container[path: "state", "waiting", "message"]?.stringValue ?? ""
            #expect(message.hasPrefix("back-off "), "\(message)")
            #expect(
                message.hasSuffix(" restarting failed container=web pod=\(name)_default(\(uid))"),
                "\(message)")

            let table = try await fixture.kubectl(["get", "pod", name, "--no-headers"])
            #expect(table.stdout.contains("CrashLoopBackOff"), "\(table.stdout)")
            #expect(table.stdout.contains(" ago)"), "\(table.stdout)")
            for flags in [[], ["--previous"]] {
                let logs = try await fixture.kubectl(["logs", name] + flags)
                #expect(
                    logs.stdout == "starting\nfatal: OPENAI_API_KEY is empty\n", "\(flags) \(logs.stderr)")
            }
            let described = try await fixture.kubectl(["describe", "pod", name])
            #expect(
                described.stdout.contains(
                    "Back-off restarting failed container web in pod \(name)_default(\(uid))"))
            #expect(described.stdout.contains("Exit Code:    3"), "\(described.stdout)")
            #expect(
                Self.condition(try await Self.deploymentStatus(fixture), "Available")?["status"] == "False")

            // Fixed: the next restart after the back-off runs; the crash stays in lastState.
            fixture.emulator.images.set("app:bad", .runs)
            try await Self.awaitRecovery(fixture)
            let recovered = try #require(try await Self.pods(fixture).first)
            let status = try #require(recovered[path: "status", "containerStatuses"]?[0])
            #expect(status[path: "state", "running"] != nil)
            #expect((status["restartCount"]?.intValue ?? 0) >= 3)
            #expect(status[path: "lastState", "terminated", "exitCode"] == 3)
            let previous = try await fixture.kubectl(["logs", name, "--previous"])
            #expect(previous.stdout.contains("fatal: OPENAI_API_KEY is empty"))
        }
    }

    @Test("a rollout that cannot progress keeps the old pods and ends in ProgressDeadlineExceeded")
    func progressDeadline() async throws {
        try await withEmulator(Self.fast) { fixture in
            // The first rollout under the default deadline, however slow the machine; the short
            // deadline comes with the change that cannot progress.
            try await Self.apply(fixture, Self.deployment(replicas: 2))
            try await Self.awaitRecovery(fixture)
            let before = Set(
                try await Self.pods(fixture).compactMap { $0[path: "metadata", "name"]?.stringValue })
            #expect(before.count == 2)

            // A new template whose pods cannot start: one surge pod, the old two keep serving.
            fixture.emulator.images.set("nginx:2-missing", .missing)
            let patched = try await fixture.kubectl([
                "patch", "deployment", "web", "-p",
                #"{"spec":{"progressDeadlineSeconds":60,"template":{"spec":{"containers":[{"name":"web","image":"nginx:2-missing"}]}}}}"#,
            ])
            try #require(patched.status == 0, "\(patched.stderr)")
            let failed = try await Self.rolloutStatus(fixture)
            #expect(failed.status != 0)
            #expect(
                failed.stderr.contains("error: deployment \"web\" exceeded its progress deadline"),
                "\(failed.stderr)")
            let status = try await Self.deploymentStatus(fixture)
            let progressing = try #require(Self.condition(status, "Progressing"))
            #expect(progressing["status"] == "False")
            #expect(progressing["reason"] == "ProgressDeadlineExceeded")
            let sets = try await fixture.emulator.objects("replicasets", namespace: "default")
            let newSet = try #require(
                sets.first {
                    $0[path: "spec", "template", "spec", "containers"]?[0]?["image"] == "nginx:2-missing"
                })
            let newName = newSet[path: "metadata", "name"]?.stringValue ?? ""
            #expect(progressing["message"] == .string("ReplicaSet \"\(newName)\" has timed out progressing."))
            #expect(
                status["updatedReplicas"] == 1 && status["availableReplicas"] == 2 && status["replicas"] == 3)
            #expect(Self.condition(status, "Available")?["status"] == "True")
            let now = Set(
                try await Self.pods(fixture).compactMap { $0[path: "metadata", "name"]?.stringValue })
            #expect(before.isSubset(of: now) && now.count == 3)

            // The image pushed: the surge pod pulls after its back-off, the rollout completes (a
            // deadline passed does not stop a rollout that makes progress), the old pods go.
            fixture.emulator.images.set("nginx:2-missing", .runs)
            try await Self.awaitRecovery(fixture)
            let done = try await Self.deploymentStatus(fixture)
            #expect(Self.condition(done, "Progressing")?["reason"] == "NewReplicaSetAvailable")
            #expect(done["updatedReplicas"] == 2 && done["replicas"] == 2 && done["availableReplicas"] == 2)
            let after = Set(
                try await Self.pods(fixture).compactMap { $0[path: "metadata", "name"]?.stringValue })
            #expect(after.isDisjoint(with: before))
        }
    }

    @Test("the images admin endpoint lists, refuses bad entries and resets")
    func imagesEndpoint() async throws {
        try await withEmulator(Self.fast) { fixture in
            let bad = try await fixture.request(
                "POST", "/_emulator/images", body: ["image": "x", "behaviour": "sometimes"])
            #expect(bad.status == 400)
            #expect(bad.json["message"] == "image x: \"behaviour\" must be runs, missing or crashes")
            let unauthorized = try await fixture.request("GET", "/_emulator/images", token: "")
            #expect(unauthorized.status == 401)
            let replaced = try await fixture.request(
                "PUT", "/_emulator/images",
                body: [
                    "images": [
                        ["image": "nginx", "behaviour": "missing"],
                        ["image": "a/b:1", "behaviour": "crashes"],
                    ]
                ])
            #expect(replaced.status == 200)
            let listed = try await fixture.request("GET", "/_emulator/images").json
            #expect(
                listed["images"]?.arrayValue?.map { $0["image"]?.stringValue ?? "" } == [
                    "docker.io/a/b:1", "docker.io/library/nginx:latest",
                ])
            #expect(listed["images"]?[0]?["exitCode"] == 1)
            #expect(fixture.emulator.images.behaviour(of: "docker.io/library/nginx") == .missing)
            #expect(try await fixture.request("DELETE", "/_emulator/images").status == 200)
            #expect(fixture.emulator.images.entries.isEmpty)
        }
    }

    @Test("the kube-emulator command takes missing and crashing images and a time scale")
    func commandFlags() async throws {
        let refused = try await ProcessRunner.runDetached(
            Binaries.path("kube-emulator"), ["--time-scale", "0"], environment: [:], timeout: 60)
        #expect(refused.status == 64)
        #expect(refused.stderr.contains("--time-scale must be a positive number"), "\(refused.stderr)")

        let directory = try TemporaryDirectory()
        let kubeconfig = directory.file("kubeconfig")
        let server = try RunningProcess(
            Binaries.path("kube-emulator"),
            [
                "--kubeconfig-out", kubeconfig, "--token", "flag-test-token", "--rollout-delay", "20ms",
                "--time-scale", "100", "--missing-image", "nginx:9", "--crashing-image", "app:crash",
            ])
        defer { server.signal(SIGKILL) }
        #expect(await server.waitForOutput { $0.contains("kubeconfig written") }, "\(server.stderr)")
        let url = String(server.stdout.split(separator: "\n").first?.dropFirst("listening on ".count) ?? "")
        let listed = try await ProcessRunner.runDetached(
            try ProcessRunner.which("curl"),
            ["-s", "-H", "Authorization: Bearer flag-test-token", url + "/_emulator/images"])
        let images = try JSON(parsing: listed.stdout)["images"]?.arrayValue ?? []
        #expect(
            images.map { $0["image"]?.stringValue ?? "" } == [
                "docker.io/library/app:crash", "docker.io/library/nginx:9",
            ])
        #expect(images.map { $0["behaviour"]?.stringValue ?? "" } == ["crashes", "missing"])
        let kubectl = try EmulatorFixture.kubectlPath()
        let environment = ["HOME": directory.path, "KUBECONFIG": kubeconfig]
        for (name, image) in [("pulls", "nginx:9"), ("crashes", "app:crash")] {
            let created = try await ProcessRunner.runDetached(
                kubectl, ["create", "deployment", name, "--image=\(image)"], environment: environment)
            #expect(created.status == 0, "\(created.stderr)")
        }
        try await eventually("the pods pull in vain and crash in a loop") {
            let table = try await ProcessRunner.runDetached(
                kubectl, ["get", "pods", "--no-headers"], environment: environment)
            return table.stdout.contains("ImagePullBackOff") && table.stdout.contains("CrashLoopBackOff")
        }
        server.signal(SIGTERM)
        #expect(await server.waitForExit(timeout: 30))
    }
}

import Foundation
import JSONValue
import KubeAPI
import KubeEmulator
import Sealing
import Testing
import TestSupport

/// `doctor`: each verdict reproduced on the emulator by creating its cause, with the evidence
/// and the fix the operator would act on; a healthy release passes; no value is ever shown.
@Suite struct DoctorTests {
    /// Back-offs and progress deadlines 100 times faster.
    static let scaledClock = KubeEmulator.Options(rolloutDelay: .milliseconds(20), timeScale: 100)

    /// One run of `doctor -o json`: its exit status, its checks by name, and both streams.
    struct Run {
        var result: ProcessResult
        var checks: [String: JSON]

        var status: Int32 { result.status }
        func verdict(_ name: String) -> String? { checks[name]?["verdict"]?.stringValue }
        func evidence(_ name: String) -> [String] {
            (checks[name]?["evidence"]?.arrayValue ?? []).compactMap(\.stringValue)
        }
        func fix(_ name: String) -> [String] {
            (checks[name]?["fix"]?.arrayValue ?? []).compactMap(\.stringValue)
        }
        func evidence(_ name: String, contains text: String) -> Bool {
            evidence(name).contains { $0.contains(text) }
        }
        var failing: [String] { checks.filter { $0.value["verdict"] != "ok" }.keys.sorted() }
    }

    func doctor(_ workstation: Workstation, _ arguments: [String] = []) async throws -> Run {
        let result = try await workstation.run(["doctor", "-o", "json"] + arguments)
        let json = try JSON(parsing: result.stdout)
        var checks: [String: JSON] = [:]
        for check in json["checks"]?.arrayValue ?? [] {
            if let name = check["name"]?.stringValue { checks[name] = check }
        }
        #expect(
            json["verdict"]?.stringValue
                == (result.status == 0 ? "ok" : result.status == 1 ? "warning" : "failure"))
        return Run(result: result, checks: checks)
    }

    /// Polls `doctor` until `condition` holds of its run (the kubelet and the controllers act on
    /// their own time), and returns that run.
    func doctorUntil(
        _ what: String, _ workstation: Workstation, _ arguments: [String] = [],
        sourceLocation: SourceLocation = #_sourceLocation, _ condition: (Run) -> Bool
    ) async throws -> Run {
        var last: Run?
        try await eventually(
            what, timeout: .seconds(120), every: .milliseconds(300), sourceLocation: sourceLocation
        ) {
            let run = try await doctor(workstation, arguments)
            last = run
            return condition(run)
        }
        return try #require(last)
    }

    /// The chart's agent Deployment (the emulator's kubelet runs its pods), the server reading
    /// `openai-api-key` from the Secret as the chart's apiKeys do.
    func installAgentDeployment(_ workstation: Workstation, replicas: Int = 1) async throws {
        try await workstation.fixture.emulator.put([
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": ["name": "beluga-ai-agent", "namespace": "default"],
            "spec": [
                "replicas": .int(replicas), "selector": ["matchLabels": ["app": "beluga-ai-agent"]],
                "template": [
                    "metadata": ["labels": ["app": "beluga-ai-agent"]],
                    "spec": ["containers": [["name": "agent", "image": "beluga-secrets:0.1.0"]]],
                ],
            ],
        ])
    }

    func rolledOut(_ workstation: Workstation) async throws -> Bool {
        try await workstation.client().get(Deployment.self, name: "beluga-ai", namespace: "default")
            .isRolledOut
    }

    @Test func aHealthyReleasePassesThenStalePodsWarnAndAStoppedAgentFails() async throws {
        try await withStarted(try await Workstation.start(publish: false)) { workstation in
            var markers = LeakMarkers()
            var outputs: [ProcessResult] = []
            try await installAgentDeployment(workstation)
            try await workstation.requireKey("openai-api-key")
            try await withStarted(try workstation.startAgent()) { agent in
                try await eventually("the agent publishes its keys") {
                    try await workstation.kubectl(["get", "configmap", "beluga-secrets-public-key"]).status
                        == 0
                }
                let set = try await workstation.run(
                    ["set", "openai-api-key", "--wait", "--timeout", "120s"], stdin: markers.make("first"))
                expectSuccess(set)

                // Healthy: every check ok, exit 0, in both formats.
                let healthy = try await doctorUntil("every check passes", workstation) { $0.status == 0 }
                outputs.append(healthy.result)
                #expect(healthy.failing == [])
                #expect(
                    Set(healthy.checks.keys) == [
                        "objects", "agent", "agent-identity", "image-pull", "missing-config", "crash-loop",
                        "rollout", "stale-pods", "sealed-keys", "autoscaling", "service-monitor", "key-age",
                    ])
                #expect(healthy.evidence("agent", contains: "Lease beluga-secrets-agent: held by agent-a"))
                #expect(
                    healthy.evidence(
                        "agent-identity", contains: "identity pinned on this workstation: matches"))
                #expect(healthy.checks["key-age"]?["summary"] == "no key has a maximum age")
                let table = try await workstation.run(["doctor"])
                outputs.append(table)
                expectSuccess(table)
                #expect(table.stdout.contains("CHECK"))
                #expect(table.stdout.contains("All 12 checks passed."))

                // A paused rollout and a new value: the agent moves the Deployment's hash, the pods
                // keep the old one. Warnings only: exit 1.
                let paused = try await workstation.kubectl(["rollout", "pause", "deployment/beluga-ai"])
                try #require(paused.status == 0, "\(paused.stderr)")
                let hashBefore = try await workstation.contentHash()
                expectSuccess(
                    try await workstation.run(
                        ["set", "openai-api-key", "--wait-for", "applied", "--timeout", "120s"],
                        stdin: markers.make("second")))
                let stale = try await doctorUntil("the pods run an older hash", workstation) {
                    $0.verdict("stale-pods") == "warning"
                }
                outputs.append(stale.result)
                #expect(try await workstation.contentHash() != hashBefore)
                #expect(stale.status == 1, "\(stale.result.stdout)")
                #expect(stale.failing == ["rollout", "stale-pods"])
                #expect(stale.checks["stale-pods"]?["summary"] == "2 pods run an older content hash")
                #expect(stale.evidence("stale-pods", contains: "the Deployment's: "))
                #expect(stale.fix("stale-pods") == ["kubectl rollout resume deployment/beluga-ai -n default"])
                #expect(stale.checks["rollout"]?["summary"] == "the Deployment's rollout is paused")

                // Resumed: healthy again.
                let resumed = try await workstation.kubectl(["rollout", "resume", "deployment/beluga-ai"])
                try #require(resumed.status == 0, "\(resumed.stderr)")
                _ = try await doctorUntil("every check passes again", workstation) { $0.status == 0 }
                _ = agent
            }

            // The agent stopped (it released its Lease): a failure, and where to look.
            let down = try await doctorUntil("the agent is seen down", workstation) {
                $0.verdict("agent") == "failure"
            }
            outputs.append(down.result)
            #expect(down.status == 6)
            #expect(down.checks["agent"]?["summary"] == "no agent holds the Lease beluga-secrets-agent")
            #expect(down.fix("agent").first == "kubectl logs -n default deploy/beluga-ai-agent")
            let table = try await workstation.run(["doctor"])
            outputs.append(table)
            #expect(table.status == 6)
            #expect(table.stdout.contains("agent (failure): no agent holds the Lease beluga-secrets-agent"))
            #expect(table.stdout.contains("  fix: kubectl logs -n default deploy/beluga-ai-agent"))

            // The agent's Deployment scaled to nothing: the fix scales it back.
            _ = try await workstation.kubectl(["scale", "deployment/beluga-ai-agent", "--replicas=0"])
            let scaled = try await doctorUntil("the agent is seen scaled down", workstation) {
                $0.fix("agent").contains("kubectl scale deployment/beluga-ai-agent -n default --replicas=1")
            }
            #expect(scaled.verdict("agent") == "failure")
            for output in outputs { #expect(markers.leaks(in: output.allOutput) == []) }
        }
    }

    /// A key older than its maximum age: doctor warns with the command that stores a new value;
    /// list and status mark it; with its maximum age cleared, nothing is overdue.
    @Test func aKeyPastItsMaximumAgeWarnsWithTheCommandThatReplacesIt() async throws {
        try await withStarted(try await Workstation.start()) { workstation in
            var markers = LeakMarkers()
            var outputs: [ProcessResult] = []
            expectSuccess(try await workstation.run(["set", "openai-api-key"], stdin: markers.make("old")))
            expectSuccess(
                try await workstation.run(["set", "anthropic-api-key"], stdin: markers.make("new")))
            // The openai key was sealed long ago; both keys get a maximum age of 90 days.
            var versions = try await workstation.sealedVersions()
            versions[path: "openai-api-key", "sealedAt"] = "2020-01-01T00:00:00Z"
            _ = try await workstation.client().patch(
                ConfigMap.self, name: "beluga-ai-secrets-sealed", namespace: "default",
                patch: .merge([
                    "metadata": ["annotations": ["beluga-ai.io/sealed-versions": .string(versions.jsonText)]]
                ]))
            let policy = try await workstation.run(["max-age", "openai-api-key", "90d"])
            expectSuccess(policy)
            #expect(policy.stdout.contains("openai-api-key: maximum age 90d (had none)"))
            expectSuccess(try await workstation.run(["max-age", "anthropic-api-key", "2160h"]))
            let store = try await workstation.sealedStoreWithKubectl()
            #expect(
                store[path: "metadata", "annotations", "beluga-ai.io/key-max-age"]
                    == #"{"anthropic-api-key":"2160h","openai-api-key":"90d"}"#)

            let overdue = try await doctor(workstation)
            outputs.append(overdue.result)
            #expect(overdue.verdict("key-age") == "warning")
            #expect(overdue.checks["key-age"]?["summary"] == "overdue: openai-api-key")
            #expect(overdue.evidence("key-age", contains: "openai-api-key: version 1 is "))
            #expect(overdue.evidence("key-age", contains: "over its maximum age 90d"))
            #expect(overdue.fix("key-age") == ["beluga-secrets set openai-api-key -n default"])
            #expect(overdue.status != 0)

            let list = try await workstation.run(["list", "-o", "json"])
            outputs.append(list)
            let keys = try JSON(parsing: list.stdout)["keys"]?.arrayValue ?? []
            let openai = try #require(keys.first { $0["key"] == "openai-api-key" })
            let anthropic = try #require(keys.first { $0["key"] == "anthropic-api-key" })
            #expect(openai["maxAge"] == "90d")
            #expect(openai["overdue"] == true)
            #expect(anthropic["maxAge"] == "2160h")
            #expect(anthropic["overdue"] == false)
            let table = try await workstation.run(["list"])
            outputs.append(table)
            #expect(table.stdout.contains("overdue (max 90d)"))
            #expect(!table.stdout.contains("overdue (max 2160h)"))
            let status = try await workstation.run(["status"])
            outputs.append(status)
            #expect(status.stdout.contains("overdue (max 90d)"))
            #expect(status.stdout.contains("max 2160h"))
            #expect(
                status.stderr.contains(
                    "warning: 1 key is past the maximum age set for it: openai-api-key; rotate with beluga-secrets set KEY"
                ))

            // A maximum age the agent could not read is refused before anything is written.
            let bad = try await workstation.run(["max-age", "openai-api-key", "soon"])
            #expect(bad.status != 0)
            #expect(bad.stderr.contains("is not a maximum age"))

            // Cleared: the key has no maximum age, doctor has nothing to say.
            expectSuccess(try await workstation.run(["max-age", "openai-api-key", "none"]))
            expectSuccess(try await workstation.run(["max-age", "anthropic-api-key", "0"]))
            #expect(
                try await workstation.sealedStoreWithKubectl()[
                    path: "metadata", "annotations", "beluga-ai.io/key-max-age"] == nil)
            let cleared = try await doctor(workstation)
            #expect(cleared.verdict("key-age") == "ok")
            #expect(cleared.checks["key-age"]?["summary"] == "no key has a maximum age")
            for output in outputs { #expect(markers.leaks(in: output.allOutput) == []) }
        }
    }

    @Test func aMissingKeyNamesTheSetCommandAndTheStuckRolloutItsDeadline() async throws {
        try await withStarted(try await Workstation.start(Self.scaledClock)) { workstation in
            try await eventually("the server's first pods run") { try await rolledOut(workstation) }
            // No Secret at all yet.
            try await workstation.requireKey("openai-api-key")
            let noSecret = try await doctorUntil("the pods wait for the Secret", workstation) {
                $0.verdict("missing-config") == "failure"
            }
            #expect(noSecret.status == 6)
            #expect(noSecret.verdict("objects") == "failure")
            #expect(noSecret.evidence("objects", contains: "Secret default/beluga-ai-secrets: missing"))
            // The sealed store and the agent are missing too here (no chart installed them): each named.
            #expect(
                noSecret.fix("objects") == [
                    "beluga-secrets set openai-api-key -n default",
                    "helm upgrade beluga-ai ./deploy/helm/beluga-ai -n default --reuse-values",
                    "helm upgrade beluga-ai ./deploy/helm/beluga-ai -n default --reuse-values --set agent.enabled=true",
                ])
            #expect(
                noSecret.checks["objects"]?["summary"]
                    == "missing: Secret beluga-ai-secrets, ConfigMap beluga-ai-secrets-sealed, Deployment beluga-ai-agent"
            )
            #expect(
                noSecret.evidence(
                    "missing-config",
                    contains: "CreateContainerConfigError: secret \"beluga-ai-secrets\" not found"))
            #expect(noSecret.fix("missing-config") == ["beluga-secrets set openai-api-key -n default"])

            // The Secret, without the key.
            let created = try await workstation.kubectl([
                "create", "secret", "generic", "beluga-ai-secrets", "--from-literal=other=v",
            ])
            try #require(created.status == 0, "\(created.stderr)")
            let noKey = try await doctorUntil("the pods wait for the key", workstation) {
                $0.evidence(
                    "missing-config",
                    contains: "couldn't find key openai-api-key in Secret default/beluga-ai-secrets")
            }
            #expect(
                noKey.verdict("objects") != "failure"
                    || !noKey.evidence("objects", contains: "Secret default/beluga-ai-secrets: missing"))
            #expect(noKey.checks["missing-config"]?["summary"] == "pods wait for openai-api-key")
            #expect(noKey.fix("missing-config") == ["beluga-secrets set openai-api-key -n default"])

            // The rollout runs out of its progress deadline (600 s, 6 s on this clock).
            let stuck = try await doctorUntil("the rollout exceeds its deadline", workstation) {
                $0.checks["rollout"]?["summary"] == "the rollout exceeded its progress deadline"
            }
            #expect(stuck.verdict("rollout") == "failure")
            #expect(stuck.evidence("rollout", contains: "Progressing: ProgressDeadlineExceeded: ReplicaSet"))
            #expect(stuck.evidence("rollout", contains: "CreateContainerConfigError"))
            #expect(
                stuck.fix("rollout").first?.hasPrefix("kubectl rollout undo deployment/beluga-ai -n default")
                    == true)

            // The key set: everything about the pods is fine again.
            expectSuccess(
                try await workstation.run(["set", "openai-api-key", "--direct"], stdin: "sk-fixed-value"))
            let fixed = try await doctorUntil("the pods run again", workstation) {
                $0.verdict("missing-config") == "ok" && $0.verdict("rollout") == "ok"
            }
            #expect(!fixed.result.allOutput.contains("sk-fixed-value"))
        }
    }

    @Test func aMissingImageAndAMissingPullSecretAreNamed() async throws {
        try await withStarted(try await Workstation.start(Self.scaledClock)) { workstation in
            try await eventually("the server's first pods run") { try await rolledOut(workstation) }
            workstation.fixture.emulator.images.set("beluga-ai:2.0.0", .missing)
            let patch: JSON = [
                "spec": [
                    "template": [
                        "spec": [
                            "imagePullSecrets": [["name": "regcred"]],
                            "containers": [["name": "server", "image": "beluga-ai:2.0.0"]],
                        ]
                    ]
                ]
            ]
            let patched = try await workstation.kubectl([
                "patch", "deployment", "beluga-ai", "-p", patch.jsonText,
            ])
            try #require(patched.status == 0, "\(patched.stderr)")
            let run = try await doctorUntil("the pulls fail and the pull secret is missing", workstation) {
                $0.verdict("image-pull") == "failure"
                    && $0.evidence(
                        "image-pull", contains: "Unable to retrieve some image pull secrets (regcred)")
            }
            #expect(run.status == 6)
            #expect(run.checks["image-pull"]?["summary"] == "cannot pull beluga-ai:2.0.0")
            #expect(
                run.evidence("image-pull").contains {
                    $0.contains("container server: ErrImagePull")
                        || $0.contains("container server: ImagePullBackOff")
                })
            #expect(run.evidence("image-pull", contains: "imagePullSecrets: regcred"))
            #expect(
                run.fix("image-pull").first
                    == "kubectl create secret docker-registry regcred -n default --from-file=.dockerconfigjson=$HOME/.docker/config.json"
            )
            #expect(
                run.fix("image-pull").contains {
                    $0.hasPrefix(
                        "helm upgrade beluga-ai ./deploy/helm/beluga-ai -n default --reuse-values --set image.tag=TAG"
                    )
                })

            // The image pushed: the pods start and the check passes (the pull secret's warning stays
            // until it exists).
            workstation.fixture.emulator.images.set("beluga-ai:2.0.0", .runs)
            let pulled = try await doctorUntil("the image pulls", workstation) {
                $0.verdict("image-pull") != "failure"
            }
            #expect(pulled.verdict("image-pull") == "warning")
        }
    }

    @Test func aCrashLoopShowsItsLastLogLinesWithoutValues() async throws {
        try await withStarted(try await Workstation.start(Self.scaledClock)) { workstation in
            try await eventually("the server's first pods run") { try await rolledOut(workstation) }
            var markers = LeakMarkers()
            let value = markers.make("crash")
            let token = markers.make("token")
            expectSuccess(try await workstation.run(["set", "openai-api-key", "--direct"], stdin: value))
            // The server now crashes at start and prints the key it was given, as a bad build might.
            workstation.fixture.emulator.images.set(
                "beluga-ai:1.0.0",
                .crashes(
                    exitCode: 3,
                    log: [
                        "starting beluga-ai", "provider rejected the key \(value)",
                        "Authorization: Bearer \(token)",
                        "fatal: no provider configured",
                    ]))
            let restarted = try await workstation.kubectl(["rollout", "restart", "deployment/beluga-ai"])
            try #require(restarted.status == 0, "\(restarted.stderr)")
            let run = try await doctorUntil("the pods crash", workstation) {
                $0.verdict("crash-loop") == "failure"
                    && $0.evidence("crash-loop", contains: "fatal: no provider configured")
            }
            #expect(run.status == 6)
            #expect(run.evidence("crash-loop", contains: "container server: "))
            #expect(run.evidence("crash-loop", contains: "exits with code 3"))
            #expect(run.evidence("crash-loop", contains: "| provider rejected the key [redacted]"))
            #expect(run.evidence("crash-loop", contains: "| Authorization: Bearer [redacted]"))
            #expect(run.fix("crash-loop").first?.hasPrefix("kubectl logs -n default beluga-ai-") == true)
            #expect(run.fix("crash-loop").first?.hasSuffix(" -c server --previous") == true)
            let table = try await workstation.run(["doctor"])
            #expect(table.stdout.contains("crash-loop (failure): crashing: beluga-ai-"))
            #expect(markers.leaks(in: run.result.allOutput + table.allOutput) == [])
        }
    }

    @Test func rejectedKeysAChangedIdentityAnAutoscalerWithoutMetricsAndNoServiceMonitorCRD() async throws {
        try await withStarted(try await Workstation.start()) { workstation in
            let first = try await doctor(workstation)
            #expect(first.evidence("agent-identity", contains: "not pinned on this workstation yet"))
            #expect(first.verdict("agent-identity") == "ok")
            // No agent installed here: named, with the fix.
            #expect(first.verdict("agent") == "failure")
            #expect(
                first.fix("agent") == [
                    "helm upgrade beluga-ai ./deploy/helm/beluga-ai -n default --reuse-values --set agent.enabled=true"
                ])

            expectSuccess(try await workstation.run(["set", "openai-api-key"], stdin: "sk-sealed-1"))
            let pending = try await doctor(workstation)
            #expect(pending.verdict("sealed-keys") == "warning")
            #expect(pending.evidence("sealed-keys", contains: "openai-api-key version 1: pending"))
            try await workstation.recordSyncStatus([
                "openai-api-key": [
                    "state": "rejected", "version": 1, "fingerprint": "", "at": "2026-02-03T04:05:06Z",
                    "reason": "the envelope cannot be opened with the agent's keys",
                ]
            ])
            let rejected = try await doctor(workstation)
            #expect(rejected.verdict("sealed-keys") == "failure")
            #expect(
                rejected.evidence(
                    "sealed-keys",
                    contains: "openai-api-key version 1: rejected: the envelope cannot be opened"))
            #expect(rejected.fix("sealed-keys") == ["beluga-secrets set openai-api-key -n default"])

            // An autoscaler for the server, and no metrics API answering for it.
            try await workstation.fixture.emulator.put([
                "apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
                "metadata": ["name": "beluga-ai", "namespace": "default"],
                "spec": [
                    "scaleTargetRef": ["apiVersion": "apps/v1", "kind": "Deployment", "name": "beluga-ai"],
                    "minReplicas": 1, "maxReplicas": 3,
                    "metrics": [
                        [
                            "type": "Resource",
                            "resource": [
                                "name": "cpu", "target": ["type": "Utilization", "averageUtilization": 80],
                            ],
                        ]
                    ],
                ],
            ])
            let monitored = try await doctor(workstation, ["--service-monitor"])
            #expect(monitored.verdict("autoscaling") == "warning")
            #expect(
                monitored.evidence(
                    "autoscaling", contains: "HorizontalPodAutoscaler beluga-ai: no current metrics"))
            #expect(monitored.fix("autoscaling").first == "kubectl get apiservice v1beta1.metrics.k8s.io")
            #expect(monitored.verdict("service-monitor") == "warning")
            #expect(
                monitored.fix("service-monitor").first
                    == "kubectl get crd servicemonitors.monitoring.coreos.com")
            #expect(try await doctor(workstation).verdict("service-monitor") == "ok")

            // The published keys now come from another identity: set would refuse them.
            try await workstation.publishKeys(identity: SigningKeyPair.generate())
            let changed = try await doctor(workstation)
            #expect(changed.verdict("agent-identity") == "failure")
            #expect(
                changed.checks["agent-identity"]?["summary"]?.stringValue?.contains("identity changed")
                    == true)
            #expect(changed.fix("agent-identity").first == "beluga-secrets keys show -n default")
            // Signed by a key that is not the identity's: not validly signed.
            try await workstation.publishKeys(signer: SigningKeyPair.generate())
            let forged = try await doctor(workstation)
            #expect(forged.verdict("agent-identity") == "failure")
            #expect(
                forged.checks["agent-identity"]?["summary"]
                    == "the published sealing key is not validly signed by the agent's identity")
            #expect(!(rejected.result.allOutput + forged.result.allOutput).contains("sk-sealed-1"))
        }
    }

    @Test func severalClustersAreCheckedEachInItsSection() async throws {
        try await withStarted(try await Fleet.start(count: 2)) { fleet in
            try await eventually("cluster b's first pods run") { try await rolledOut(fleet.b) }
            // Cluster b's server needs a key nobody set.
            try await fleet.b.requireKey("openai-api-key")
            var last: ProcessResult?
            try await eventually(
                "b's pods are seen waiting for the key", timeout: .seconds(120), every: .milliseconds(300)
            ) {
                let run = try await fleet.run(["doctor", "--context", "a", "--context", "b"])
                last = run
                return run.stdout.contains("missing-config (failure)")
            }
            let run = try #require(last)
            // Neither cluster has an agent installed here: both fail; the worst code wins.
            expectFailure(run, status: 6, mentioning: ["2 of 2 clusters failed", "a: exit 6", "b: exit 6"])
            let sections = run.stdout.components(separatedBy: "==> b <==")
            try #require(sections.count == 2, "\(run.stdout)")
            #expect(sections[0].hasPrefix("==> a <==\nNamespace: default"))
            #expect(!sections[0].contains("missing-config (failure)"))
            #expect(sections[1].contains("missing-config (failure): pods wait for Secret beluga-ai-secrets"))
            #expect(sections[1].contains("  fix: beluga-secrets set openai-api-key -n default"))
            #expect(sections[1].contains("error: doctor: "))
        }
    }

    @Test func severalClustersInJSONEachCarryTheirChecksOrTheirError() async throws {
        try await withStarted(try await Fleet.start(count: 2)) { fleet in
            // Cluster b answers every request with 500, however often it is retried; gone is unreachable.
            fleet.b.fixture.emulator.faults.update { $0.errors = [.init(code: 500, match: .init())] }
            let run = try await fleet.run(
                ["doctor", "-o", "json", "--context", "a", "--context", "b", "--context", "gone"])
            let document = try JSON(parsing: run.stdout)
            let clusters = try #require(document["clusters"]?.arrayValue, "\(run.stdout)")
            #expect(clusters.compactMap { $0["context"]?.stringValue } == ["a", "b", "gone"])
            // Cluster a has no agent installed here: its doctor fails, and its checks say why.
            let a = clusters[0]
            #expect(a["exitCode"] == 6)
            #expect(a["error"]?.stringValue?.hasPrefix("doctor: ") == true)
            #expect(a["data"]?["verdict"] == "failure")
            let checks = a["data"]?["checks"]?.arrayValue ?? []
            #expect(checks.contains { $0["name"] == "agent" && $0["verdict"] == "failure" }, "\(a)")
            #expect(checks.contains { $0["verdict"] == "ok" })
            // The clusters that could not be asked carry their error and code, and no checks.
            for (cluster, code) in [(clusters[1], 5), (clusters[2], 5)] {
                #expect(cluster["exitCode"] == .int(code), "\(cluster)")
                #expect(cluster["error"]?.stringValue?.isEmpty == false)
                #expect(cluster["data"] == nil)
            }
            // The most severe code, in the document and as the exit status.
            #expect(document["exitCode"] == 6)
            expectFailure(
                run, status: 6, mentioning: ["3 of 3 clusters failed", "a: exit 6", "gone: exit 5"])
        }
    }
}

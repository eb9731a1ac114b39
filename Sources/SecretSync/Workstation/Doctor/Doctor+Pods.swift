import JSONValue
import KubeAPI
import Sealing

/// What the pods and the rollout say, as the kubelet and the deployment controller report it.
extension Doctor {
    static let imagePullReasons: Set<String> = [
        "ErrImagePull", "ImagePullBackOff", "ErrImageNeverPull", "InvalidImageName",
    ]

    /// Each container status of `pods` that has not started running, with its pod.
    func waitingContainers(_ pods: [Pod]) -> [(pod: Pod, container: String, reason: String, message: String)]
    {
        var found: [(pod: Pod, container: String, reason: String, message: String)] = []
        for pod in pods {
            for status in pod.json[path: "status", "containerStatuses"]?.arrayValue ?? [] {
                guard let waiting = status[path: "state", "waiting"],
                    let reason = waiting["reason"]?.stringValue
                else { continue }
                found.append(
                    (
                        pod, status["name"]?.stringValue ?? "?", reason,
                        RolloutStall.clean(waiting["message"]?.stringValue ?? "")
                    ))
            }
        }
        return found
    }

    /// Warning Events about `pods` with `reason`, newest first, their messages cleaned.
    func podEvents(_ events: Reading<[Event]>, pods: [Pod], reason: String) -> [(
        pod: String, message: String
    )] {
        let names = Set(pods.map(\.name))
        return (events.value ?? [])
            .filter {
                $0.involvedObjectKind == "Pod" && names.contains($0.involvedObjectName ?? "")
                    && $0.reason == reason
            }
            .map { ($0.involvedObjectName ?? "", RolloutStall.clean($0.message ?? "")) }
    }

    func imagePullCheck(pods: [Pod], events: Reading<[Event]>, agentPods: Set<String>) -> DoctorCheck {
        let failing = waitingContainers(pods).filter { Self.imagePullReasons.contains($0.reason) }
        let missingPullSecrets = podEvents(events, pods: pods, reason: "FailedToRetrieveImagePullSecret")
        var evidence: [String] = []
        var fix: [String] = []
        var images: [String] = []
        for entry in failing {
            let image =
                (entry.pod.json[path: "spec", "containers"]?.arrayValue ?? []).first {
                    $0["name"]?.stringValue == entry.container
                }?["image"]?.stringValue ?? "?"
            if !images.contains(image) { images.append(image) }
            evidence.append(
                "pod \(entry.pod.name): container \(entry.container): \(entry.reason): \(entry.message)")
            let isAgent = agentPods.contains(entry.pod.name) || entry.container == Self.sidecarContainer
            let value = isAgent ? "agent.image.tag" : "image.tag"
            let command = "\(helmUpgrade) --set \(value)=TAG   # a tag the registry has"
            if !fix.contains(command) { fix.append(command) }
        }
        // Which pull secrets the pods name, and whether the kubelet found them.
        let named = Set(
            pods.flatMap { pod in
                (pod.json[path: "spec", "imagePullSecrets"]?.arrayValue ?? []).compactMap {
                    $0["name"]?.stringValue
                }
            }
        ).sorted()
        if !failing.isEmpty || !missingPullSecrets.isEmpty {
            evidence.append(
                named.isEmpty
                    ? "imagePullSecrets: none set (a private registry needs one)"
                    : "imagePullSecrets: \(named.joined(separator: ", "))")
        }
        if let latest = missingPullSecrets.first {
            evidence.append("pod \(latest.pod): \(latest.message)")
            let missing = named.filter { latest.message.contains($0) }
            for name in missing.isEmpty ? named : missing {
                fix.insert(
                    "kubectl create secret docker-registry \(name) \(ns) --from-file=.dockerconfigjson=$HOME/.docker/config.json",
                    at: 0)
            }
        } else if !failing.isEmpty && named.isEmpty {
            fix.append(
                "kubectl create secret docker-registry regcred \(ns) --from-file=.dockerconfigjson=$HOME/.docker/config.json "
                    + "&& \(helmUpgrade) --set 'imagePullSecrets[0].name=regcred'   # for a private registry")
        }
        let verdict: DoctorCheck.Verdict =
            !failing.isEmpty ? .failure : (!missingPullSecrets.isEmpty ? .warning : .ok)
        let summary: String
        switch verdict {
        case .failure: summary = "cannot pull \(images.joined(separator: ", "))"
        case .warning: summary = "an image pull secret the pods name is missing"
        case .ok: summary = "no pod is waiting for its image"
        }
        return DoctorCheck(
            name: "image-pull", verdict: verdict, summary: summary, evidence: evidence, fix: fix)
    }

    /// What a kubelet message says is missing: a key of a Secret or ConfigMap, or the object.
    enum MissingReference: Equatable {
        case secretKey(secret: String, key: String)
        case secret(String)
        case configMapKey(configMap: String, key: String)
        case configMap(String)

        /// Reads `couldn't find key K in Secret ns/x`, `secret "x" not found`, `configmap "x" not
        /// found`, `couldn't find key K in ConfigMap ns/x`, and the FailedMount wordings.
        static func parse(_ message: String) -> [MissingReference] {
            var found: [MissingReference] = []
            if let rest = message.after("couldn't find key ") {
                let words = rest.split(separator: " ").map(String.init)
                if words.count >= 4, words[1] == "in" {
                    let object = String(words[3].split(separator: "/").last ?? "")
                    found.append(
                        words[2] == "Secret"
                            ? .secretKey(secret: object, key: words[0])
                            : .configMapKey(configMap: object, key: words[0]))
                }
            }
            for (prefix, isSecret) in [("secret \"", true), ("configmap \"", false)] {
                var text = Substring(message)
                while let range = text.firstRange(of: prefix) {
                    let rest = text[range.upperBound...]
                    guard let end = rest.firstIndex(of: "\"") else { break }
                    let name = String(rest[..<end])
                    if rest[end...].hasPrefix("\" not found") {
                        found.append(isSecret ? .secret(name) : .configMap(name))
                    }
                    text = rest[end...]
                }
            }
            return found
        }
    }

    func missingConfigCheck(pods: [Pod], events: Reading<[Event]>, deployment: Reading<Deployment>)
        -> DoctorCheck
    {
        let waiting = waitingContainers(pods).filter {
            $0.reason == "CreateContainerConfigError" || $0.reason == "CreateContainerError"
        }
        let mounts = podEvents(events, pods: pods, reason: "FailedMount")
        var evidence: [String] = []
        var references: [MissingReference] = []
        for entry in waiting {
            evidence.append(
                "pod \(entry.pod.name): container \(entry.container): \(entry.reason): \(entry.message)")
            references += MissingReference.parse(entry.message)
        }
        var mountPods = Set<String>()
        for mount in mounts where mountPods.insert(mount.pod).inserted {
            evidence.append("pod \(mount.pod): FailedMount: \(mount.message)")
            references += MissingReference.parse(mount.message)
            if let key = mount.message.after("references non-existent secret key: ") {
                references.append(
                    .secretKey(secret: workspace.names.secret, key: String(key.prefix { $0 != " " })))
            }
        }
        var fix: [String] = []
        func add(_ command: String) { if !fix.contains(command) { fix.append(command) } }
        for reference in references {
            switch reference {
            case .secretKey(let secret, let key) where secret == workspace.names.secret:
                add("beluga-secrets set \(key) \(target)")
            case .secret(let secret) where secret == workspace.names.secret:
                let keys = requiredKeys(of: deployment.value)
                for key in keys.isEmpty ? ["KEY"] : keys { add("beluga-secrets set \(key) \(target)") }
            case .configMapKey(let configMap, let key) where configMap == workspace.names.configMap:
                add("beluga-secrets config set \(key) VALUE \(target)")
            case .configMap(let configMap) where configMap == workspace.names.configMap:
                add(helmUpgrade)
            case .secretKey(let secret, let key):
                add(
                    "kubectl create secret generic \(secret) \(ns) --from-file=\(key)=PATH   # or add the key"
                )
            case .secret(let secret):
                add("kubectl create secret generic \(secret) \(ns) --from-file=KEY=PATH")
            case .configMapKey(let configMap, let key):
                add(
                    "kubectl patch configmap \(configMap) \(ns) --type=merge -p '{\"data\":{\"\(key)\":\"VALUE\"}}'"
                )
            case .configMap(let configMap):
                add("kubectl create configmap \(configMap) \(ns) --from-literal=KEY=VALUE")
            }
        }
        let failing = !waiting.isEmpty || !mounts.isEmpty
        let keys = references.compactMap { reference -> String? in
            switch reference {
            case .secretKey(_, let key), .configMapKey(_, let key): return key
            case .secret(let name): return "Secret \(name)"
            case .configMap(let name): return "ConfigMap \(name)"
            }
        }
        var unique: [String] = []
        for key in keys where !unique.contains(key) { unique.append(key) }
        return DoctorCheck(
            name: "missing-config", verdict: failing ? .failure : .ok,
            summary: failing
                ? "pods wait for "
                    + (unique.isEmpty ? "a Secret or ConfigMap" : unique.joined(separator: ", "))
                : "no pod is waiting for a Secret, ConfigMap or key",
            evidence: evidence, fix: fix)
    }

    func crashLoopCheck(pods: [Pod]) async throws(KubeError) -> DoctorCheck {
        var evidence: [String] = []
        var fix: [String] = []
        var crashing: [String] = []
        var values: [SecureBytes] = []
        if case .present(let secret) = inputs.secret { values = Array(secret.values.values) }
        for pod in pods {
            for status in pod.json[path: "status", "containerStatuses"]?.arrayValue ?? [] {
                let restarts = status["restartCount"]?.intValue ?? 0
                let waitingReason = status[path: "state", "waiting", "reason"]?.stringValue
                let exited = status[path: "lastState", "terminated"] ?? status[path: "state", "terminated"]
                let loops = waitingReason == "CrashLoopBackOff"
                let flapping = restarts > 0 && status["ready"]?.boolValue != true && exited != nil
                guard loops || flapping, let container = status["name"]?.stringValue else { continue }
                crashing.append("\(pod.name)/\(container)")
                let code = exited?["exitCode"]?.intValue.map(String.init) ?? "?"
                let reason = exited?["reason"]?.stringValue ?? "Error"
                evidence.append(
                    "pod \(pod.name): container \(container): \(loops ? "CrashLoopBackOff: " : "")exits with code "
                        + "\(code) (\(reason)), restarted \(restarts) time\(restarts == 1 ? "" : "s")")
                if options.logLines > 0 {
                    let log = try await read { () async throws(KubeError) in
                        try await workspace.client.podLogs(
                            name: pod.name, namespace: workspace.namespace,
                            options: PodLogOptions(
                                container: container, tailLines: options.logLines * 4, previous: true))
                    }
                    switch log {
                    case .found(let text):
                        let lines = LogRedaction.lastLines(of: text, count: options.logLines, values: values)
                        if lines.isEmpty {
                            evidence.append("  (its last run logged nothing)")
                        } else {
                            evidence.append("  last log lines (credentials redacted):")
                            evidence += lines.map { "  | " + $0 }
                        }
                    case .missing: evidence.append("  (its previous log is gone)")
                    case .denied: evidence.append("  (log not read: this user may not get pods/log)")
                    }
                }
                fix.append("kubectl logs \(ns) \(pod.name) -c \(container) --previous")
            }
        }
        if !crashing.isEmpty {
            fix.append(
                "kubectl rollout undo deployment/\(workspace.names.deployment) \(ns)   # back to the pods that ran"
            )
        }
        return DoctorCheck(
            name: "crash-loop", verdict: crashing.isEmpty ? .ok : .failure,
            summary: crashing.isEmpty
                ? "no container is crashing" : "crashing: " + crashing.joined(separator: ", "),
            evidence: evidence, fix: fix)
    }

    func rolloutCheck(deployment: Reading<Deployment>, pods: [Pod]) -> DoctorCheck {
        guard let deployment = deployment.value else {
            return DoctorCheck(name: "rollout", verdict: .ok, summary: "not checked (no Deployment read)")
        }
        let name = deployment.name
        let status = deployment.status
        let wanted = deployment.replicas ?? 1
        var evidence = [
            "Deployment \(name): \(status.readyReplicas) of \(wanted) ready, \(status.updatedReplicas) up to date"
        ]
        func condition(_ type: String) -> JSON? {
            status.conditions.first { $0["type"]?.stringValue == type }
        }
        let progressing = condition("Progressing")
        let cause = RolloutStall.cause(of: pods)
        if progressing?["reason"]?.stringValue == "ProgressDeadlineExceeded" {
            evidence.append(
                "Progressing: ProgressDeadlineExceeded: \(RolloutStall.clean(progressing?["message"]?.stringValue ?? ""))"
            )
            if let cause { evidence.append(cause) }
            return DoctorCheck(
                name: "rollout", verdict: .failure,
                summary: "the rollout exceeded its progress deadline",
                evidence: evidence,
                fix: [
                    "kubectl rollout undo deployment/\(name) \(ns)   # or fix the cause the other checks name",
                    "kubectl rollout status deployment/\(name) \(ns)",
                ])
        }
        if deployment.json[path: "spec", "paused"]?.boolValue == true {
            return DoctorCheck(
                name: "rollout", verdict: .warning, summary: "the Deployment's rollout is paused",
                evidence: evidence, fix: ["kubectl rollout resume deployment/\(name) \(ns)"])
        }
        if wanted > 0 && status.availableReplicas == 0 {
            if let cause { evidence.append(cause) }
            return DoctorCheck(
                name: "rollout", verdict: .failure, summary: "no server pod is available",
                evidence: evidence, fix: ["kubectl describe pods \(ns) -l \(selector(deployment))"])
        }
        if !deployment.isRolledOut {
            if let cause { evidence.append(cause) }
            return DoctorCheck(
                name: "rollout", verdict: .warning, summary: "a rollout is in progress",
                evidence: evidence, fix: ["kubectl rollout status deployment/\(name) \(ns)"])
        }
        return DoctorCheck(name: "rollout", verdict: .ok, summary: "rolled out", evidence: evidence)
    }

    func selector(_ deployment: Deployment) -> String {
        deployment.selectorLabels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(
            separator: ",")
    }

    /// Pods whose content hash is not the one the Deployment carries, and a Deployment whose hash
    /// is not that of the Secret and ConfigMap it reloads on (when this user may read the Secret).
    func stalePodsCheck(deployment: Reading<Deployment>, settings: Reading<ConfigMap>, pods: [Pod])
        -> DoctorCheck
    {
        guard let deployment = deployment.value else {
            return DoctorCheck(name: "stale-pods", verdict: .ok, summary: "not checked (no Deployment read)")
        }
        var evidence: [String] = []
        var fix: [String] = []
        var verdict = DoctorCheck.Verdict.ok
        var summary = "every pod runs the current content hash"
        let current = deployment.templateAnnotations[ContentHash.annotation]
        if case .present(let secret) = inputs.secret,
            let reload = deployment.metadata.annotations[ReloadAnnotation.name]
        {
            var contents = RestartStep.contents(
                guarded: secret, settings: settings.value, names: workspace.names)
            defer { RestartStep.wipe(&contents) }
            let decision = RestartDecision.decide(
                namespace: workspace.namespace, deployment: deployment.name, reloadAnnotation: reload,
                currentHash: RestartDecision.recordedHash(of: deployment), contents: contents)
            if decision.action == .restart {
                verdict = .warning
                summary = "the Deployment does not run the Secret's and ConfigMap's current content"
                evidence.append(
                    "Deployment \(deployment.name): content hash \(short(decision.currentHash)), "
                        + "the Secret's and ConfigMap's: \(short(decision.hash))")
                fix.append("beluga-secrets restart \(target) --wait")
            }
        }
        if let current, !current.isEmpty {
            let stale = pods.filter { $0.metadata.annotations[ContentHash.annotation] != current }
            if !stale.isEmpty {
                verdict = .warning
                summary = "\(stale.count) pod\(stale.count == 1 ? " runs" : "s run") an older content hash"
                for pod in stale {
                    evidence.append(
                        "pod \(pod.name): content hash \(short(pod.metadata.annotations[ContentHash.annotation])), "
                            + "the Deployment's: \(short(current))")
                }
                fix.append(
                    deployment.json[path: "spec", "paused"]?.boolValue == true
                        ? "kubectl rollout resume deployment/\(deployment.name) \(ns)"
                        : "kubectl rollout status deployment/\(deployment.name) \(ns)")
            }
        }
        return DoctorCheck(
            name: "stale-pods", verdict: verdict, summary: summary, evidence: evidence, fix: fix)
    }

    func short(_ hash: String?) -> String {
        guard let hash, !hash.isEmpty else { return "none" }
        return String(hash.prefix(12))
    }
}

extension String {
    /// The text after the first occurrence of `marker`, or nil.
    fileprivate func after(_ marker: String) -> Substring? {
        guard let range = firstRange(of: marker) else { return nil }
        return self[range.upperBound...]
    }
}

import Crypto
import JSONValue
import TimeFormat

/// The kubelet and container runtime of the emulator's one node, simulated for the pods of
/// ReplicaSets. Each pod's containers start `startDelay` after its creation, unless something a
/// real kubelet would trip on is in the way, and the pod's status says so with the kubelet's own
/// reasons, messages and events:
///
/// - a Secret or ConfigMap a volume needs is missing (`FailedMount`; containers wait in
///   `ContainerCreating`);
/// - the image is missing from its registry (`ErrImagePull`, then `ImagePullBackOff` with the
///   pull back-off of 10 s doubling to 5 min);
/// - a Secret, ConfigMap or key the environment needs is missing, unless marked optional
///   (`CreateContainerConfigError`, retried every 10 s);
/// - the image crashes (`CrashLoopBackOff`, with restart counts, `lastState.terminated`, the
///   crash-loop back-off and the container's log).
///
/// Running containers are ready at once (probes are not run). Waiting periods run on the
/// emulator's scaled clock; each failure is retried as the kubelet would, so pods recover when
/// the cause goes away.
extension ClusterStore {
    /// The kubelet's retry period for a pod whose sync failed (`backOffPeriod` of the pod workers).
    static let kubeletRetry: Duration = .seconds(10)
    /// How soon the kubelet looks at a pod again after a failed pull or a first crash.
    static let kubeletNextLook: Duration = .seconds(1)

    /// A new pod of a ReplicaSet: its containers start after the start delay.
    func kubeletAdmit(namespace: String, name: String, uid: String) {
        guard workloads.pods[uid] == nil,
            let pod = object(Self.pods, ObjectName(namespace: namespace, name: name)),
            pod[path: "metadata", "uid"]?.stringValue == uid
        else { return }
        let record = KubeletPod(
            uid: uid, key: ObjectName(namespace: namespace, name: name),
            startAt: .now + simulation.startDelay, podIP: "10.244.0.\(Int.random(in: 2...254))")
        workloads.pods[uid] = record
        scheduleKubelet(uid, at: record.startAt)
    }

    func kubeletForget(uid: String) {
        workloads.pods[uid] = nil
    }

    private func scheduleKubelet(_ uid: String, at instant: ContinuousClock.Instant) {
        guard var record = workloads.pods[uid] else { return }
        if let pending = record.wakeup, pending <= instant { return }
        record.wakeup = instant
        workloads.pods[uid] = record
        emulatorTask { [weak self] in
            try? await Task.sleep(until: instant, clock: .continuous)
            await self?.kubeletWake(uid, scheduled: instant)
        }
    }

    private func kubeletWake(_ uid: String, scheduled: ContinuousClock.Instant) {
        guard var record = workloads.pods[uid] else { return }
        if record.wakeup == scheduled {
            record.wakeup = nil
            workloads.pods[uid] = record
        }
        kubeletSync(uid)
    }

    /// One pass of the kubelet's `SyncPod` for a pod: mount, pull, configure and start what can
    /// be started now, write the status, and schedule the next pass.
    func kubeletSync(_ uid: String) {
        guard var record = workloads.pods[uid] else { return }
        guard let pod = object(Self.pods, record.key), pod[path: "metadata", "uid"]?.stringValue == uid,
            pod[path: "metadata", "deletionTimestamp"] == nil
        else {
            workloads.pods[uid] = nil
            return
        }
        let now = ContinuousClock.now
        guard now >= record.startAt else {
            scheduleKubelet(uid, at: record.startAt)
            return
        }
        var wakeups: [ContinuousClock.Instant] = []
        let spec = pod["spec"] ?? [:]
        let namespace = record.key.namespace
        if !record.sandboxReady {
            let problems = volumeProblems(spec, namespace: namespace)
            if problems.isEmpty {
                record.sandboxReady = true
            } else {
                if record.nextMountAttempt.map({ now >= $0 }) ?? true {
                    for (volume, problem) in problems {
                        recordEvent(
                            about: pod, type: "Warning", reason: "FailedMount",
                            message: "MountVolume.SetUp failed for volume \"\(volume)\" : \(problem)",
                            component: "kubelet", host: WorkloadSimulation.nodeName)
                    }
                    record.mountFailures += 1
                    // The volume manager's retry: 500 ms, doubling, at most 2m2s.
                    let milliseconds = min(500 << min(record.mountFailures - 1, 10), 122_000)
                    record.nextMountAttempt = now + simulation.real(.milliseconds(milliseconds))
                }
                if let next = record.nextMountAttempt { wakeups.append(next) }
            }
        }
        if record.sandboxReady {
            var pullSecretsChecked = false
            for container in spec["containers"]?.arrayValue ?? [] {
                let name = container["name"]?.stringValue ?? ""
                var run = record.containers[name] ?? KubeletContainer()
                defer { record.containers[name] = run }
                if run.isRunning { continue }
                if let next = run.nextAttempt, now < next {
                    if let shown = run.backOffShownAt, now >= shown {
                        showPullBackOff(&run, container: container, pod: pod)
                    }
                    if let shown = run.backOffShownAt { wakeups.append(shown) }
                    wakeups.append(next)
                    continue
                }
                if !pullSecretsChecked {
                    checkPullSecrets(pod)
                    pullSecretsChecked = true
                }
                attemptStart(&run, container: container, pod: pod, now: now)
                if let shown = run.backOffShownAt { wakeups.append(shown) }
                if let next = run.nextAttempt { wakeups.append(next) }
            }
        }
        workloads.pods[uid] = record
        var updated = pod
        updated["status"] = Self.kubeletStatus(
            pod: pod, containers: record.containers, sandboxReady: record.sandboxReady,
            podIP: record.sandboxReady ? record.podIP : nil, previous: pod["status"], now: Clock.timestamp())
        if updated != pod { commit(.modified, Self.pods, updated, previous: pod) }
        if let soonest = wakeups.min() { scheduleKubelet(uid, at: soonest) }
    }

    // MARK: - Starting a container

    /// `startContainer`: the image, then the configuration, then create and start.
    private func attemptStart(
        _ run: inout KubeletContainer, container: JSON, pod: JSON, now: ContinuousClock.Instant
    ) {
        let name = container["name"]?.stringValue ?? ""
        let image = container["image"]?.stringValue ?? ""
        let policy = container["imagePullPolicy"]?.stringValue ?? "IfNotPresent"
        let fieldPath = "spec.containers{\(name)}"
        func event(_ type: String, _ reason: String, _ message: String) {
            recordEvent(
                about: pod, type: type, reason: reason, message: message, component: "kubelet",
                fieldPath: fieldPath,
                host: WorkloadSimulation.nodeName)
        }
        let behaviour = simulation.images.behaviour(of: image)
        run.backOffShownAt = nil
        if behaviour == .missing {
            run.troubled = true
            run.imagePresent = false
            if policy == "Never" {
                let message = "Container image \"\(image)\" is not present with pull policy of Never"
                event("Warning", "ErrImageNeverPull", message)
                event("Warning", "Failed", "Error: ErrImageNeverPull")
                run.state = ["waiting": ["reason": "ErrImageNeverPull", "message": .string(message)]]
                run.nextAttempt = now + simulation.real(Self.kubeletRetry)
                return
            }
            let reference = ImageCatalog.normalized(image)
            let error =
                "rpc error: code = NotFound desc = failed to pull and unpack image \"\(reference)\": "
                + "failed to resolve reference \"\(reference)\": \(reference): not found"
            event("Normal", "Pulling", "Pulling image \"\(image)\"")
            event("Warning", "Failed", "Failed to pull image \"\(image)\": \(error)")
            event("Warning", "Failed", "Error: ErrImagePull")
            run.failedPulls += 1
            // The image back-off: 10 s, doubling, at most 5 min.
            let backOff = min(10 << min(run.failedPulls - 1, 5), 300)
            run.state = ["waiting": ["reason": "ErrImagePull", "message": .string(error)]]
            run.lastPullError = "ErrImagePull: \(error)"
            run.backOffShownAt = now + simulation.real(Self.kubeletNextLook)
            run.nextAttempt = now + simulation.real(.seconds(backOff))
            return
        }
        if run.troubled {
            if policy == "Always" || !run.imagePresent {
                event("Normal", "Pulling", "Pulling image \"\(image)\"")
                event(
                    "Normal", "Pulled",
                    "Successfully pulled image \"\(image)\" in 1.042s (1.042s including waiting). Image size: 48693216 bytes."
                )
            } else {
                event("Normal", "Pulled", "Container image \"\(image)\" already present on machine")
            }
        }
        run.imagePresent = true
        if let problem = configProblem(
            container, namespace: pod[path: "metadata", "namespace"]?.stringValue ?? "")
        {
            run.troubled = true
            event("Warning", "Failed", "Error: \(problem)")
            run.state = ["waiting": ["reason": "CreateContainerConfigError", "message": .string(problem)]]
            run.nextAttempt = now + simulation.real(Self.kubeletRetry)
            return
        }
        // Create and start: a new instance, counted as a restart when one ran before.
        if run.containerID != nil { run.restartCount += 1 }
        if run.state["terminated"] != nil { run.lastState = run.state }
        let id = "containerd://" + Self.hexDigest(ObjectMetaRules.newUID())
        let started = Clock.timestamp()
        run.containerID = id
        run.imageID = Self.imageID(image)
        run.nextAttempt = nil
        if case .crashes = behaviour { run.troubled = true }
        guard run.troubled else {
            run.state = ["running": ["startedAt": .string(started)]]
            return
        }
        event("Normal", "Created", "Created container: \(name)")
        event("Normal", "Started", "Started container \(name)")
        guard case .crashes(let exitCode, let log) = behaviour else {
            run.state = ["running": ["startedAt": .string(started)]]
            return
        }
        run.exits += 1
        let terminated: JSON = [
            "terminated": [
                "exitCode": .int(exitCode), "reason": exitCode == 0 ? "Completed" : "Error",
                "startedAt": .string(started), "finishedAt": .string(started), "containerID": .string(id),
            ]
        ]
        let time = UnixTime.now()
        run.lastExitLog = log.map { LogLine(time: time, text: $0) }
        if run.exits == 1 {
            // Seen terminated until the kubelet's next look, which restarts it at once: the
            // crash-loop back-off starts with the second exit.
            run.state = terminated
            run.nextAttempt = now + simulation.real(Self.kubeletNextLook)
            return
        }
        let backOff = min(10 << min(run.exits - 2, 5), 300)
        let podName = pod[path: "metadata", "name"]?.stringValue ?? ""
        let namespace = pod[path: "metadata", "namespace"]?.stringValue ?? ""
        let podUID = pod[path: "metadata", "uid"]?.stringValue ?? ""
        let formatted = "\(podName)_\(namespace)(\(podUID))"
        run.lastState = terminated
        run.state = [
            "waiting": [
                "reason": "CrashLoopBackOff",
                "message": .string(
                    "back-off \(GoDuration.text(seconds: backOff)) restarting failed container=\(name) pod=\(formatted)"
                ),
            ]
        ]
        event("Warning", "BackOff", "Back-off restarting failed container \(name) in pod \(formatted)")
        run.nextAttempt = now + simulation.real(.seconds(backOff))
    }

    /// The kubelet's next look after a failed pull finds the image in back-off.
    private func showPullBackOff(_ run: inout KubeletContainer, container: JSON, pod: JSON) {
        run.backOffShownAt = nil
        guard run.waitingReason == "ErrImagePull" else { return }
        let image = container["image"]?.stringValue ?? ""
        let fieldPath = "spec.containers{\(container["name"]?.stringValue ?? "")}"
        recordEvent(
            about: pod, type: "Normal", reason: "BackOff", message: "Back-off pulling image \"\(image)\"",
            component: "kubelet", fieldPath: fieldPath, host: WorkloadSimulation.nodeName)
        recordEvent(
            about: pod, type: "Warning", reason: "Failed", message: "Error: ImagePullBackOff",
            component: "kubelet",
            fieldPath: fieldPath, host: WorkloadSimulation.nodeName)
        run.state = [
            "waiting": [
                "reason": "ImagePullBackOff",
                "message": .string("Back-off pulling image \"\(image)\": \(run.lastPullError)"),
            ]
        ]
    }

    /// `getPullSecretsForPod`: a missing pull secret is reported, and the pull tried anyway.
    private func checkPullSecrets(_ pod: JSON) {
        let namespace = pod[path: "metadata", "namespace"]?.stringValue ?? ""
        let missing = (pod[path: "spec", "imagePullSecrets"]?.arrayValue ?? []).compactMap {
            reference -> String? in
            guard let name = reference["name"]?.stringValue, !name.isEmpty else { return nil }
            return object(Self.secrets, ObjectName(namespace: namespace, name: name)) == nil ? name : nil
        }
        guard !missing.isEmpty else { return }
        recordEvent(
            about: pod, type: "Warning", reason: "FailedToRetrieveImagePullSecret",
            message:
                "Unable to retrieve some image pull secrets (\(missing.joined(separator: ", "))); attempting to pull the image may not succeed.",
            component: "kubelet", host: WorkloadSimulation.nodeName)
    }

    // MARK: - What a container needs

    static let secrets = GroupResource(group: "", resource: "secrets")
    static let configMaps = GroupResource(group: "", resource: "configmaps")

    /// `makeEnvironmentVariables`: the first Secret, ConfigMap or key the environment needs and
    /// that is missing (envFrom first, then env), in the kubelet's words.
    func configProblem(_ container: JSON, namespace: String) -> String? {
        func lookup(_ resource: GroupResource, _ name: String) -> JSON? {
            object(resource, ObjectName(namespace: namespace, name: name))
        }
        for source in container["envFrom"]?.arrayValue ?? [] {
            for (field, resource, noun) in [
                ("configMapRef", Self.configMaps, "configmap"), ("secretRef", Self.secrets, "secret"),
            ] {
                guard let reference = source[field] else { continue }
                let name = reference["name"]?.stringValue ?? ""
                if lookup(resource, name) == nil && reference["optional"]?.boolValue != true {
                    return "\(noun) \"\(name)\" not found"
                }
            }
        }
        for variable in container["env"]?.arrayValue ?? [] {
            guard (variable["value"]?.stringValue ?? "").isEmpty, let from = variable["valueFrom"] else {
                continue
            }
            for (field, resource, noun, kind) in [
                ("configMapKeyRef", Self.configMaps, "configmap", "ConfigMap"),
                ("secretKeyRef", Self.secrets, "secret", "Secret"),
            ] {
                guard let reference = from[field] else { continue }
                let name = reference["name"]?.stringValue ?? ""
                let key = reference["key"]?.stringValue ?? ""
                let optional = reference["optional"]?.boolValue == true
                guard let object = lookup(resource, name) else {
                    if optional { continue }
                    return "\(noun) \"\(name)\" not found"
                }
                let present =
                    object[path: "data", key] != nil
                    || (kind == "ConfigMap" && object[path: "binaryData", key] != nil)
                if !present && !optional {
                    return "couldn't find key \(key) in \(kind) \(namespace)/\(name)"
                }
            }
        }
        return nil
    }

    /// The volumes that cannot be set up, with the volume plugins' errors.
    func volumeProblems(_ spec: JSON, namespace: String) -> [(volume: String, problem: String)] {
        var problems: [(String, String)] = []
        for volume in spec["volumes"]?.arrayValue ?? [] {
            let name = volume["name"]?.stringValue ?? ""
            var errors: [String] = []
            if let source = volume["secret"] {
                errors += sourceProblems(
                    source, nameField: "secretName", resource: Self.secrets, namespace: namespace)
            }
            if let source = volume["configMap"] {
                errors += sourceProblems(
                    source, nameField: "name", resource: Self.configMaps, namespace: namespace)
            }
            for projection in volume[path: "projected", "sources"]?.arrayValue ?? [] {
                if let source = projection["secret"] {
                    errors += sourceProblems(
                        source, nameField: "name", resource: Self.secrets, namespace: namespace)
                }
                if let source = projection["configMap"] {
                    errors += sourceProblems(
                        source, nameField: "name", resource: Self.configMaps, namespace: namespace)
                }
            }
            if errors.count == 1 {
                problems.append((name, errors[0]))
            } else if errors.count > 1 {
                // utilerrors.NewAggregate
                problems.append((name, "[" + errors.joined(separator: ", ") + "]"))
            }
        }
        return problems
    }

    private func sourceProblems(_ source: JSON, nameField: String, resource: GroupResource, namespace: String)
        -> [String]
    {
        let name = source[nameField]?.stringValue ?? ""
        let optional = source["optional"]?.boolValue == true
        let isSecret = resource == Self.secrets
        guard let object = object(resource, ObjectName(namespace: namespace, name: name)) else {
            return optional ? [] : ["\(isSecret ? "secret" : "configmap") \"\(name)\" not found"]
        }
        for item in source["items"]?.arrayValue ?? [] {
            let key = item["key"]?.stringValue ?? ""
            let present = object[path: "data", key] != nil || object[path: "binaryData", key] != nil
            if !present && !optional {
                return [
                    isSecret
                        ? "references non-existent secret key: \(key)"
                        : "configmap references non-existent config key: \(key)"
                ]
            }
        }
        return []
    }

    // MARK: - The pod's status

    /// The status the kubelet reports for a pod whose containers are as `containers` say (a
    /// container without an entry waits in `ContainerCreating`).
    static func kubeletStatus(
        pod: JSON, containers: [String: KubeletContainer], sandboxReady: Bool, podIP: String?,
        previous: JSON?,
        now: String
    ) -> JSON {
        let specContainers = pod[path: "spec", "containers"]?.arrayValue ?? []
        var statuses: [JSON] = []
        var waiting = 0
        var running = 0
        var stopped = 0
        var unready: [String] = []
        for container in specContainers {
            let name = container["name"]?.stringValue ?? ""
            let run = containers[name] ?? KubeletContainer()
            let ready = run.isRunning
            if !ready { unready.append(name) }
            if run.isRunning {
                running += 1
            } else if run.state["terminated"] != nil || run.lastState["terminated"] != nil {
                stopped += 1
            } else {
                waiting += 1
            }
            var status: JSON = [
                "name": .string(name), "image": container["image"] ?? "", "imageID": .string(run.imageID),
                "ready": .bool(ready), "started": .bool(run.isRunning),
                "restartCount": .int(run.restartCount),
                "state": run.state, "lastState": run.lastState,
            ]
            if let id = run.containerID { status["containerID"] = .string(id) }
            statuses.append(status)
        }
        statuses.sort { ($0["name"]?.stringValue ?? "") < ($1["name"]?.stringValue ?? "") }
        // `getPhase` for restartPolicy Always.
        let phase = waiting > 0 ? "Pending" : (running > 0 || stopped > 0) ? "Running" : "Pending"
        let allReady = unready.isEmpty
        let unreadyMessage = "containers with unready status: [\(unready.sorted().joined(separator: " "))]"
        let oldConditions = previous?["conditions"]?.arrayValue ?? []
        func condition(_ type: String, _ value: Bool, reason: String? = nil, message: String? = nil) -> JSON {
            let text = value ? "True" : "False"
            let old = oldConditions.first { $0["type"]?.stringValue == type }
            var condition: JSON = [
                "type": .string(type), "status": .string(text),
                "lastTransitionTime": old?["status"]?.stringValue == text
                    ? (old?["lastTransitionTime"] ?? .string(now)) : .string(now),
            ]
            if let reason { condition["reason"] = .string(reason) }
            if let message { condition["message"] = .string(message) }
            return condition
        }
        var status: JSON = [
            "phase": .string(phase), "qosClass": .string(qosClass(specContainers)),
            "hostIP": .string(WorkloadSimulation.hostIP),
            "hostIPs": [["ip": .string(WorkloadSimulation.hostIP)]],
            "startTime": pod[path: "metadata", "creationTimestamp"] ?? .string(now),
            "conditions": [
                condition("PodReadyToStartContainers", sandboxReady),
                condition("Initialized", true),
                allReady
                    ? condition("Ready", true)
                    : condition("Ready", false, reason: "ContainersNotReady", message: unreadyMessage),
                allReady
                    ? condition("ContainersReady", true)
                    : condition(
                        "ContainersReady", false, reason: "ContainersNotReady", message: unreadyMessage),
                condition("PodScheduled", true),
            ],
            "containerStatuses": .array(statuses),
        ]
        if let podIP {
            status["podIP"] = .string(podIP)
            status["podIPs"] = [["ip": .string(podIP)]]
        }
        return status
    }

    /// `GetPodQOS`: Guaranteed when every container's CPU and memory limits equal its requests,
    /// Burstable when any is set, else BestEffort.
    static func qosClass(_ containers: [JSON]) -> String {
        var any = false
        var guaranteed = !containers.isEmpty
        for container in containers {
            let requests = container[path: "resources", "requests"]?.objectValue ?? [:]
            let limits = container[path: "resources", "limits"]?.objectValue ?? [:]
            for resource in ["cpu", "memory"] {
                let request = requests[resource]
                let limit = limits[resource]
                if request != nil || limit != nil { any = true }
                if limit == nil || (request != nil && request != limit) { guaranteed = false }
            }
        }
        return !any ? "BestEffort" : guaranteed ? "Guaranteed" : "Burstable"
    }

    static func imageID(_ image: String) -> String {
        let reference = ImageCatalog.normalized(image)
        let repository = reference.split(separator: "@").first.map(String.init) ?? reference
        let name = repository.lastIndex(of: ":").map { String(repository[..<$0]) } ?? repository
        return "\(name)@sha256:\(hexDigest(reference))"
    }

    static func hexDigest(_ text: String) -> String {
        SHA256.hash(data: Array(text.utf8)).map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }

    // MARK: - Logs

    /// What `pods/log` serves for a simulated pod's container.
    enum ContainerLog {
        /// Not a simulated pod (or container): the attached log file, as before.
        case notSimulated
        /// The running instance: its attached log file.
        case running
        /// An instance that exited: its log.
        case exited([LogLine])
        /// Nothing to serve: the kubelet's error, answered 400.
        case unavailable(String)
    }

    func containerLog(namespace: String, pod name: String, container: String, previous: Bool) -> ContainerLog
    {
        guard let pod = object(Self.pods, ObjectName(namespace: namespace, name: name)),
            let uid = pod[path: "metadata", "uid"]?.stringValue, let record = workloads.pods[uid]
        else {
            return .notSimulated
        }
        let run = record.containers[container] ?? KubeletContainer()
        if previous {
            guard run.lastState["terminated"] != nil else {
                return .unavailable(
                    "previous terminated container \"\(container)\" in pod \"\(name)\" not found")
            }
            return .exited(run.lastExitLog)
        }
        if run.isRunning { return .running }
        if run.state["terminated"] != nil || run.lastState["terminated"] != nil {
            return .exited(run.lastExitLog)
        }
        switch run.waitingReason ?? "ContainerCreating" {
        case "ErrImagePull":
            return .unavailable(
                "container \"\(container)\" in pod \"\(name)\" is waiting to start: image can't be pulled")
        case "ImagePullBackOff":
            return .unavailable(
                "container \"\(container)\" in pod \"\(name)\" is waiting to start: trying and failing to pull image"
            )
        case let reason:
            return .unavailable(
                "container \"\(container)\" in pod \"\(name)\" is waiting to start: \(reason)")
        }
    }
}

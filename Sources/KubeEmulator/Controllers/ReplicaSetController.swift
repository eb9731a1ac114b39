import JSONValue
import TimeFormat

/// The ReplicaSet controller (`pkg/controller/replicaset`), simulated: it creates pods (already
/// scheduled on the emulator's node, for the simulated kubelet to run) or deletes the least
/// useful ones until the set has `spec.replicas`, and reports in its status how many exist, are
/// ready and are available (ready for `minReadySeconds`).
extension ClusterStore {
    func syncReplicaSet(namespace: String, name: String) {
        guard let set = object(Self.replicaSets, ObjectName(namespace: namespace, name: name)),
            set[path: "metadata", "deletionTimestamp"] == nil
        else { return }
        let wanted = Self.specReplicas(set)
        var pods = ownedPods(of: set)
        if pods.count > wanted {
            // `getPodsToDelete`: not ready before ready, pending before running, more restarts
            // first, newer first.
            let ranked = pods.sorted(by: Self.deletedFirst)
            for pod in ranked.prefix(pods.count - wanted) {
                commit(.deleted, Self.pods, pod, previous: pod)
            }
            let gone = Set(ranked.prefix(pods.count - wanted).compactMap { $0[path: "metadata", "uid"] })
            pods.removeAll { gone.contains($0[path: "metadata", "uid"] ?? "") }
        } else if pods.count < wanted {
            for _ in pods.count..<wanted { pods.append(createPod(for: set)) }
        }
        writeReplicaSetStatus(set, pods: pods)
    }

    func ownedPods(of set: JSON) -> [JSON] {
        let namespace = set[path: "metadata", "namespace"]?.stringValue ?? ""
        let uid = set[path: "metadata", "uid"]?.stringValue ?? ""
        return objects(of: Self.pods, namespace: namespace).map(\.1).filter { pod in
            pod[path: "metadata", "deletionTimestamp"] == nil
                && (pod[path: "metadata", "ownerReferences"]?.arrayValue ?? []).contains {
                    $0["uid"]?.stringValue == uid
                }
        }
    }

    static func deletedFirst(_ a: JSON, _ b: JSON) -> Bool {
        let readyA = isReady(a)
        let readyB = isReady(b)
        if readyA != readyB { return !readyA }
        let runningA = a[path: "status", "phase"]?.stringValue == "Running"
        let runningB = b[path: "status", "phase"]?.stringValue == "Running"
        if runningA != runningB { return !runningA }
        let restartsA = restarts(a)
        let restartsB = restarts(b)
        if restartsA != restartsB { return restartsA > restartsB }
        return (a[path: "metadata", "creationTimestamp"]?.stringValue ?? "")
            > (b[path: "metadata", "creationTimestamp"]?.stringValue ?? "")
    }

    static func isReady(_ pod: JSON) -> Bool {
        (pod[path: "status", "conditions"]?.arrayValue ?? []).contains {
            $0["type"]?.stringValue == "Ready" && $0["status"]?.stringValue == "True"
        }
    }

    static func restarts(_ pod: JSON) -> Int {
        (pod[path: "status", "containerStatuses"]?.arrayValue ?? []).reduce(0) {
            $0 + ($1["restartCount"]?.intValue ?? 0)
        }
    }

    /// A pod of `set`, scheduled on the emulator's node and waiting for its containers, as the
    /// kubelet first reports a new pod.
    private func createPod(for set: JSON) -> JSON {
        let namespace = set[path: "metadata", "namespace"]?.stringValue ?? ""
        let setName = set[path: "metadata", "name"]?.stringValue ?? ""
        let template = set[path: "spec", "template"] ?? [:]
        var spec = template["spec"] ?? [:]
        spec["nodeName"] = .string(WorkloadSimulation.nodeName)
        var labels = template[path: "metadata", "labels"] ?? [:]
        if labels.objectValue == nil { labels = [:] }
        let now = Clock.timestamp()
        var pod: JSON = [
            "kind": "Pod", "apiVersion": "v1",
            "metadata": [
                "name": .string(ObjectMetaRules.generateName("\(setName)-")),
                "generateName": .string("\(setName)-"),
                "namespace": .string(namespace),
                "uid": .string(ObjectMetaRules.newUID()), "creationTimestamp": .string(now),
                "labels": labels,
                "annotations": template[path: "metadata", "annotations"] ?? .null,
                "ownerReferences": [Self.controllerReference(to: set)],
            ] as JSON,
            "spec": spec,
        ]
        pod = pod.droppingNulls()
        PodRules().applyDefaults(&pod)
        pod["status"] = Self.kubeletStatus(
            pod: pod, containers: [:], sandboxReady: false, podIP: nil, previous: nil, now: now)
        return commit(.added, Self.pods, pod, previous: nil)
    }

    private func writeReplicaSetStatus(_ set: JSON, pods: [JSON]) {
        let ready = pods.filter(Self.isReady)
        let minReady = set[path: "spec", "minReadySeconds"]?.intValue ?? 0
        var available = ready.count
        if minReady > 0 {
            // Available once ready for minReadySeconds (emulated time); look again when the next
            // pod gets there.
            let wait = simulation.real(.seconds(minReady))
            let waitSeconds = Double(wait.components.seconds) + Double(wait.components.attoseconds) / 1e18
            let now = UnixTime.now()
            var soonest: Double?
            available = 0
            for pod in ready {
                let since =
                    (pod[path: "status", "conditions"]?.arrayValue ?? []).first { $0["type"] == "Ready" }?[
                        "lastTransitionTime"]?.stringValue.flatMap(Clock.parse) ?? now
                let left = waitSeconds - (now - since).inSeconds
                if left <= 0 {
                    available += 1
                } else {
                    soonest = min(soonest ?? left, left)
                }
            }
            if let soonest {
                let namespace = set[path: "metadata", "namespace"]?.stringValue ?? ""
                let name = set[path: "metadata", "name"]?.stringValue ?? ""
                emulatorTask { [weak self] in
                    try? await Task.sleep(for: .milliseconds(Int(soonest * 1000) + 10))
                    await self?.syncReplicaSet(namespace: namespace, name: name)
                }
            }
        }
        var status: JSON = [
            "replicas": .int(pods.count),
            "observedGeneration": set[path: "metadata", "generation"] ?? 1,
        ]
        if !pods.isEmpty { status["fullyLabeledReplicas"] = .int(pods.count) }
        if !ready.isEmpty { status["readyReplicas"] = .int(ready.count) }
        if available > 0 { status["availableReplicas"] = .int(available) }
        if let conditions = set[path: "status", "conditions"] { status["conditions"] = conditions }
        guard status != set["status"] else { return }
        var updated = set
        updated["status"] = status
        commit(.modified, Self.replicaSets, updated, previous: set)
    }
}

import Foundation
import JSONValue
import TimeFormat

/// The deployment controller, simulated: one ReplicaSet per pod-template revision
/// (`pod-template-hash`, `deployment.kubernetes.io/revision`), old ReplicaSets scaled to zero,
/// pods created for the new one, and the Deployment's status moving to the new revision after
/// the rollout delay, so that `kubectl rollout status|history|undo|restart` behave.
extension ClusterStore {
    static let deployments = GroupResource(group: "apps", resource: "deployments")
    static let replicaSets = GroupResource(group: "apps", resource: "replicasets")
    static let pods = GroupResource(group: "", resource: "pods")
    static let revisionAnnotation = "deployment.kubernetes.io/revision"

    /// Pod-template changes of a Deployment since it was created.
    func rolloutCount(namespace: String, deployment: String) -> Int {
        rolloutCounts[ObjectName(namespace: namespace, name: deployment)] ?? 0
    }

    /// Brings a Deployment's ReplicaSets and status in line with its spec; schedules the end of
    /// the rollout when it is still in progress.
    func syncDeployment(namespace: String, name: String, rolloutDelay: Duration) {
        let key = ObjectName(namespace: namespace, name: name)
        guard let deployment = object(Self.deployments, key),
            deployment[path: "metadata", "deletionTimestamp"] == nil
        else { return }
        let uid = deployment[path: "metadata", "uid"]?.stringValue ?? ""
        let desired = deployment[path: "spec", "replicas"]?.intValue ?? 1
        let paused = deployment[path: "spec", "paused"]?.boolValue == true
        let template = deployment[path: "spec", "template"] ?? [:]
        var owned = ownedReplicaSets(namespace: namespace, ownerUID: uid)
        let maxRevision = owned.map(Self.revision).max() ?? 0

        var current = owned.first { Self.templatesEqualIgnoringHash($0[path: "spec", "template"], template) }
        if current == nil && !paused {
            let created = createReplicaSet(for: deployment, revision: maxRevision + 1, desired: desired)
            if !owned.isEmpty { rolloutCounts[key, default: 0] += 1 }
            owned.append(created)
            current = created
        } else if let existing = current, Self.revision(existing) < maxRevision, !paused {
            // Rolled back to an older template: that ReplicaSet becomes the newest revision.
            var revived = existing
            revived[path: "metadata", "annotations", Self.revisionAnnotation] = .string(
                String(maxRevision + 1))
            current = commit(.modified, Self.replicaSets, revived, previous: existing)
            rolloutCounts[key, default: 0] += 1
            owned = owned.map {
                $0[path: "metadata", "uid"] == revived[path: "metadata", "uid"] ? current ?? $0 : $0
            }
        }
        guard let newSet = current else {
            writeDeploymentStatus(deployment, newSet: nil, owned: owned)
            return
        }
        let newName = newSet[path: "metadata", "name"]?.stringValue ?? ""
        // Scale: the new ReplicaSet to the desired count, every other one to zero.
        var scaled: [JSON] = []
        for set in owned {
            let target = set[path: "metadata", "name"]?.stringValue == newName ? desired : 0
            if paused && set[path: "metadata", "name"]?.stringValue != newName {
                scaled.append(set)
                continue
            }
            var updated = set
            updated[path: "spec", "replicas"] = .int(target)
            updated[path: "metadata", "annotations", "deployment.kubernetes.io/desired-replicas"] = .string(
                String(desired))
            if updated != set {
                updated[path: "metadata", "generation"] = .int(
                    (set[path: "metadata", "generation"]?.intValue ?? 1) + 1)
                scaled.append(commit(.modified, Self.replicaSets, updated, previous: set))
                let before = set[path: "spec", "replicas"]?.intValue ?? 0
                if before != target {
                    recordScaling(of: deployment, set: updated, from: before, to: target)
                }
            } else {
                scaled.append(set)
            }
        }
        let refreshed = writeDeploymentStatus(
            deployment, newSet: scaled.first { $0[path: "metadata", "name"]?.stringValue == newName },
            owned: scaled)
        if !Self.isComplete(refreshed), !pendingRollouts.contains(key) {
            pendingRollouts.insert(key)
            emulatorTask { [weak self] in
                try? await Task.sleep(for: rolloutDelay)
                await self?.completeRollout(namespace: namespace, name: name, rolloutDelay: rolloutDelay)
            }
        }
    }

    /// The rollout delay has passed: the ReplicaSets' pods are all running, old ones gone.
    func completeRollout(namespace: String, name: String, rolloutDelay: Duration) {
        let key = ObjectName(namespace: namespace, name: name)
        pendingRollouts.remove(key)
        guard let deployment = object(Self.deployments, key) else { return }
        let uid = deployment[path: "metadata", "uid"]?.stringValue ?? ""
        for set in ownedReplicaSets(namespace: namespace, ownerUID: uid) {
            reconcilePods(of: set)
            let replicas = set[path: "spec", "replicas"]?.intValue ?? 0
            var updated = set
            var status: JSON = [
                "observedGeneration": set[path: "metadata", "generation"] ?? 1, "replicas": .int(replicas),
            ]
            if replicas > 0 {
                status["fullyLabeledReplicas"] = .int(replicas)
                status["readyReplicas"] = .int(replicas)
                status["availableReplicas"] = .int(replicas)
            }
            updated["status"] = status
            if updated != set { commit(.modified, Self.replicaSets, updated, previous: set) }
        }
        syncDeployment(namespace: namespace, name: name, rolloutDelay: rolloutDelay)
    }

    func ownedReplicaSets(namespace: String, ownerUID: String) -> [JSON] {
        objects(of: Self.replicaSets, namespace: namespace).map(\.1).filter { set in
            (set[path: "metadata", "ownerReferences"]?.arrayValue ?? []).contains {
                $0["uid"]?.stringValue == ownerUID
            }
        }
    }

    static func revision(_ set: JSON) -> Int {
        Int(set[path: "metadata", "annotations", revisionAnnotation]?.stringValue ?? "") ?? 0
    }

    static func templatesEqualIgnoringHash(_ a: JSON?, _ b: JSON) -> Bool {
        var a = a ?? [:]
        var b = b
        a[path: "metadata", "labels", "pod-template-hash"] = nil
        b[path: "metadata", "labels", "pod-template-hash"] = nil
        if a[path: "metadata", "labels"]?.objectValue?.isEmpty == true { a[path: "metadata", "labels"] = nil }
        if b[path: "metadata", "labels"]?.objectValue?.isEmpty == true { b[path: "metadata", "labels"] = nil }
        return a == b
    }

    /// `controller.ComputeHash`: FNV-32a of the template, written with the safe alphabet.
    static func podTemplateHash(_ template: JSON, collisionCount: Int) -> String {
        var hash: UInt32 = 2_166_136_261
        var bytes = template.serialized()
        if collisionCount > 0 { bytes += Array(String(collisionCount).utf8) }
        for byte in bytes {
            hash ^= UInt32(byte)
            hash = hash &* 16_777_619
        }
        let alphabet = Array("bcdfghjklmnpqrstvwxz2456789")
        return String(String(hash).utf8.map { alphabet[Int($0) % alphabet.count] })
    }

    private func createReplicaSet(for deployment: JSON, revision: Int, desired: Int) -> JSON {
        let namespace = deployment[path: "metadata", "namespace"]?.stringValue ?? ""
        let name = deployment[path: "metadata", "name"]?.stringValue ?? ""
        var template = deployment[path: "spec", "template"] ?? [:]
        let hash = Self.podTemplateHash(
            template, collisionCount: deployment[path: "status", "collisionCount"]?.intValue ?? 0)
        template[path: "metadata", "labels", "pod-template-hash"] = .string(hash)
        var selector = deployment[path: "spec", "selector"] ?? [:]
        selector[path: "matchLabels", "pod-template-hash"] = .string(hash)
        var annotations: [String: JSON] = [:]
        for (key, value) in deployment[path: "metadata", "annotations"]?.objectValue ?? [:]
        where key != "kubectl.kubernetes.io/last-applied-configuration" && key != Self.revisionAnnotation {
            annotations[key] = value
        }
        annotations[Self.revisionAnnotation] = .string(String(revision))
        annotations["deployment.kubernetes.io/desired-replicas"] = .string(String(desired))
        annotations["deployment.kubernetes.io/max-replicas"] = .string(
            String(desired + Self.maxSurge(deployment, desired)))
        var spec: JSON = ["replicas": .int(desired), "selector": selector, "template": template]
        if let minReady = deployment[path: "spec", "minReadySeconds"] { spec["minReadySeconds"] = minReady }
        let set: JSON = [
            "kind": "ReplicaSet", "apiVersion": "apps/v1",
            "metadata": [
                "name": .string("\(name)-\(hash)"), "namespace": .string(namespace),
                "uid": .string(ObjectMetaRules.newUID()), "creationTimestamp": .string(Clock.timestamp()),
                "generation": 1, "labels": template[path: "metadata", "labels"] ?? [:],
                "annotations": .object(annotations),
                "ownerReferences": [Self.controllerReference(to: deployment)],
            ],
            "spec": spec,
            "status": ["replicas": 0],
        ]
        let created = commit(.added, Self.replicaSets, set, previous: nil)
        recordScaling(of: deployment, set: created, from: 0, to: desired)
        return created
    }

    /// The deployment controller's `ScalingReplicaSet` event.
    private func recordScaling(of deployment: JSON, set: JSON, from: Int, to: Int) {
        let direction = to > from ? "up" : "down"
        let setName = set[path: "metadata", "name"]?.stringValue ?? ""
        recordEvent(
            about: deployment, type: "Normal", reason: "ScalingReplicaSet",
            message: "Scaled \(direction) replica set \(setName) from \(from) to \(to)",
            component: "deployment-controller")
    }

    /// Writes a core/v1 Event about `object`, as a controller's event recorder does.
    func recordEvent(about object: JSON, type: String, reason: String, message: String, component: String) {
        let namespace = object[path: "metadata", "namespace"]?.stringValue ?? "default"
        let name = object[path: "metadata", "name"]?.stringValue ?? ""
        let now = UnixTime.now()
        let nanos = UInt64(max(0, now.nanosecondsSince1970))
        let event: JSON = [
            "apiVersion": "v1", "kind": "Event",
            "metadata": [
                "name": .string("\(name).\(String(nanos, radix: 16))"), "namespace": .string(namespace),
                "uid": .string(ObjectMetaRules.newUID()), "creationTimestamp": .string(Clock.timestamp(now)),
            ],
            "involvedObject": [
                "apiVersion": object["apiVersion"] ?? "", "kind": object["kind"] ?? "", "name": .string(name),
                "namespace": .string(namespace), "uid": object[path: "metadata", "uid"] ?? "",
                "resourceVersion": object[path: "metadata", "resourceVersion"] ?? "",
            ],
            "reason": .string(reason), "message": .string(message), "type": .string(type),
            "source": ["component": .string(component)], "firstTimestamp": .string(Clock.timestamp(now)),
            "lastTimestamp": .string(Clock.timestamp(now)), "count": 1,
            "reportingComponent": .string(component),
            "reportingInstance": "",
        ]
        commit(.added, GroupResource(group: "", resource: "events"), event, previous: nil)
    }

    static func controllerReference(to owner: JSON) -> JSON {
        [
            "apiVersion": owner["apiVersion"] ?? "", "kind": owner["kind"] ?? "",
            "name": owner[path: "metadata", "name"] ?? "", "uid": owner[path: "metadata", "uid"] ?? "",
            "controller": true, "blockOwnerDeletion": true,
        ]
    }

    static func resolve(_ value: JSON?, of total: Int, roundUp: Bool) -> Int {
        switch value {
        case .int(let int)?: return int
        case .string(let text)? where text.hasSuffix("%"):
            let percent = Double(text.dropLast()) ?? 0
            let exact = Double(total) * percent / 100
            return Int(roundUp ? exact.rounded(.up) : exact.rounded(.down))
        case .string(let text)?: return Int(text) ?? 0
        default: return 0
        }
    }

    static func maxSurge(_ deployment: JSON, _ desired: Int) -> Int {
        guard deployment[path: "spec", "strategy", "type"]?.stringValue != "Recreate" else { return 0 }
        return resolve(
            deployment[path: "spec", "strategy", "rollingUpdate", "maxSurge"], of: desired, roundUp: true)
    }

    static func isComplete(_ deployment: JSON) -> Bool {
        let desired = deployment[path: "spec", "replicas"]?.intValue ?? 1
        let status = deployment["status"] ?? [:]
        return status["observedGeneration"] == deployment[path: "metadata", "generation"]
            && (status["updatedReplicas"]?.intValue ?? 0) == desired
            && (status["replicas"]?.intValue ?? 0) == desired
            && (status["availableReplicas"]?.intValue ?? 0) == desired
            || deployment[path: "spec", "paused"]?.boolValue == true
    }

    /// Computes the Deployment's status (and revision annotation) from its ReplicaSets.
    @discardableResult
    private func writeDeploymentStatus(_ deployment: JSON, newSet: JSON?, owned: [JSON]) -> JSON {
        let desired = deployment[path: "spec", "replicas"]?.intValue ?? 1
        let paused = deployment[path: "spec", "paused"]?.boolValue == true
        func sum(_ field: String) -> Int {
            owned.reduce(0) { $0 + ($1[path: "status", field]?.intValue ?? 0) }
        }
        let replicas = sum("replicas")
        let available = sum("availableReplicas")
        let ready = sum("readyReplicas")
        let updated = newSet?[path: "status", "replicas"]?.intValue ?? 0
        let newName = newSet?[path: "metadata", "name"]?.stringValue ?? ""
        let maxUnavailable =
            deployment[path: "spec", "strategy", "type"]?.stringValue == "Recreate"
            ? 0
            : Self.resolve(
                deployment[path: "spec", "strategy", "rollingUpdate", "maxUnavailable"], of: desired,
                roundUp: false)

        var status = deployment["status"] ?? [:]
        status["observedGeneration"] = deployment[path: "metadata", "generation"] ?? 1
        status["replicas"] = replicas > 0 ? .int(replicas) : nil
        status["updatedReplicas"] = updated > 0 ? .int(updated) : nil
        status["readyReplicas"] = ready > 0 ? .int(ready) : nil
        status["availableReplicas"] = available > 0 ? .int(available) : nil
        status["unavailableReplicas"] = desired - available > 0 ? .int(desired - available) : nil
        var conditions = status["conditions"]?.arrayValue ?? []
        let now = Clock.timestamp()
        func setCondition(_ type: String, _ value: String, _ reason: String, _ message: String) {
            let existing = conditions.firstIndex { $0["type"]?.stringValue == type }
            var condition: JSON = [
                "type": .string(type), "status": .string(value), "reason": .string(reason),
                "message": .string(message),
                "lastUpdateTime": .string(now), "lastTransitionTime": .string(now),
            ]
            if let existing {
                let old = conditions[existing]
                if old["status"] == condition["status"] {
                    condition["lastTransitionTime"] = old["lastTransitionTime"]
                    if old["reason"] == condition["reason"] && old["message"] == condition["message"] {
                        condition["lastUpdateTime"] = old["lastUpdateTime"]
                    }
                }
                conditions[existing] = condition
            } else {
                conditions.append(condition)
            }
        }
        if available >= desired - maxUnavailable {
            setCondition(
                "Available", "True", "MinimumReplicasAvailable", "Deployment has minimum availability.")
        } else {
            setCondition(
                "Available", "False", "MinimumReplicasUnavailable",
                "Deployment does not have minimum availability.")
        }
        if paused {
            setCondition("Progressing", "Unknown", "DeploymentPaused", "Deployment is paused")
        } else if !newName.isEmpty {
            if updated == desired && replicas == desired && available == desired {
                setCondition(
                    "Progressing", "True", "NewReplicaSetAvailable",
                    "ReplicaSet \"\(newName)\" has successfully progressed.")
            } else if let existing = conditions.first(where: { $0["type"] == "Progressing" }),
                existing["reason"] == "NewReplicaSetCreated",
                existing["message"] == .string("Created new replica set \"\(newName)\"")
            {
                // Keep "created" until progress is made.
            } else if (newSet?[path: "status", "replicas"]?.intValue ?? 0) == 0
                && Self.revision(newSet ?? [:]) > 0
                && owned.count > 0 && updated == 0
            {
                setCondition(
                    "Progressing", "True", "NewReplicaSetCreated", "Created new replica set \"\(newName)\"")
            } else {
                setCondition(
                    "Progressing", "True", "ReplicaSetUpdated", "ReplicaSet \"\(newName)\" is progressing.")
            }
        }
        status["conditions"] = .array(
            conditions.sorted { ($0["type"]?.stringValue ?? "") < ($1["type"]?.stringValue ?? "") })
        var result = deployment
        result["status"] = status
        if let newSet {
            result[path: "metadata", "annotations", Self.revisionAnnotation] =
                newSet[path: "metadata", "annotations", Self.revisionAnnotation]
        }
        // Only the timestamps changed: nothing to write.
        if Self.withoutConditionTimes(result) == Self.withoutConditionTimes(deployment) { return deployment }
        return commit(.modified, Self.deployments, result, previous: deployment)
    }

    static func withoutConditionTimes(_ object: JSON) -> JSON {
        var copy = object
        if let conditions = copy[path: "status", "conditions"]?.arrayValue {
            copy[path: "status", "conditions"] = .array(
                conditions.map { condition in
                    var condition = condition
                    condition["lastUpdateTime"] = nil
                    condition["lastTransitionTime"] = nil
                    return condition
                })
        }
        return copy
    }

    /// Creates or deletes the pods of a ReplicaSet so that it has `spec.replicas` running ones.
    private func reconcilePods(of set: JSON) {
        let namespace = set[path: "metadata", "namespace"]?.stringValue ?? ""
        let uid = set[path: "metadata", "uid"]?.stringValue ?? ""
        let setName = set[path: "metadata", "name"]?.stringValue ?? ""
        let wanted = set[path: "spec", "replicas"]?.intValue ?? 0
        let pods = objects(of: Self.pods, namespace: namespace).map(\.1).filter { pod in
            (pod[path: "metadata", "ownerReferences"]?.arrayValue ?? []).contains {
                $0["uid"]?.stringValue == uid
            }
        }
        if pods.count > wanted {
            for pod in pods.suffix(pods.count - wanted) { commit(.deleted, Self.pods, pod, previous: pod) }
        }
        guard pods.count < wanted else { return }
        let template = set[path: "spec", "template"] ?? [:]
        for _ in pods.count..<wanted {
            let spec = template["spec"] ?? [:]
            let name = ObjectMetaRules.generateName("\(setName)-")
            let now = Clock.timestamp()
            let containers = (spec["containers"]?.arrayValue ?? []).map { container -> JSON in
                [
                    "name": container["name"] ?? "", "image": container["image"] ?? "",
                    "imageID": .string("docker.io/library/\(container["image"]?.stringValue ?? "")"),
                    "containerID": .string(
                        "containerd://" + ObjectMetaRules.newUID().replacingOccurrences(of: "-", with: "")),
                    "ready": true, "started": true, "restartCount": 0,
                    "state": ["running": ["startedAt": .string(now)]],
                ]
            }
            var labels = template[path: "metadata", "labels"] ?? [:]
            if labels.objectValue == nil { labels = [:] }
            var pod: JSON = [
                "kind": "Pod", "apiVersion": "v1",
                "metadata": [
                    "name": .string(name), "generateName": .string("\(setName)-"),
                    "namespace": .string(namespace),
                    "uid": .string(ObjectMetaRules.newUID()), "creationTimestamp": .string(now),
                    "labels": labels,
                    "annotations": template[path: "metadata", "annotations"] ?? .null,
                    "ownerReferences": [Self.controllerReference(to: set)],
                ] as JSON,
                "spec": spec,
                "status": [
                    "phase": "Running", "qosClass": "BestEffort", "startTime": .string(now),
                    "hostIP": "10.0.0.10", "podIP": .string("10.244.0.\(Int.random(in: 2...254))"),
                    "conditions": .array(
                        [
                            "PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady",
                            "PodScheduled",
                        ].map {
                            [
                                "type": .string($0), "status": "True", "lastProbeTime": .null,
                                "lastTransitionTime": .string(now),
                            ]
                        }),
                    "containerStatuses": .array(containers),
                ],
            ]
            pod = pod.droppingNulls()
            PodRules().applyDefaults(&pod)
            commit(.added, Self.pods, pod, previous: nil)
        }
    }
}

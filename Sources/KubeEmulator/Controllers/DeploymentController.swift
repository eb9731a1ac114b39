import JSONValue
import TimeFormat

/// The deployment controller (`pkg/controller/deployment`), simulated: one ReplicaSet per
/// pod-template revision (`pod-template-hash`, `deployment.kubernetes.io/revision`); a rolling
/// update that scales the new ReplicaSet up within `maxSurge` and old ones down only as far as
/// `maxUnavailable` allows, so a rollout whose new pods never become ready keeps the old pods
/// serving; `Recreate`; and the status with its `Available` and `Progressing` conditions,
/// including `ProgressDeadlineExceeded` once `progressDeadlineSeconds` pass without progress
/// (on the emulator's scaled clock). `kubectl rollout status|history|undo|restart` behave.
extension ClusterStore {
    static let deployments = GroupResource(group: "apps", resource: "deployments")
    static let replicaSets = GroupResource(group: "apps", resource: "replicasets")
    static let pods = GroupResource(group: "", resource: "pods")
    static let revisionAnnotation = "deployment.kubernetes.io/revision"

    /// Pod-template changes of a Deployment since it was created.
    func rolloutCount(namespace: String, deployment: String) -> Int {
        rolloutCounts[ObjectName(namespace: namespace, name: deployment)] ?? 0
    }

    func configureSimulation(_ simulation: WorkloadSimulation) {
        self.simulation = simulation
    }

    /// Brings a Deployment's ReplicaSets and status one step closer to its spec, as one pass of
    /// the real controller's `syncDeployment` does; the ReplicaSets' changes trigger the next.
    func syncDeployment(namespace: String, name: String) {
        let key = ObjectName(namespace: namespace, name: name)
        guard let deployment = object(Self.deployments, key),
            deployment[path: "metadata", "deletionTimestamp"] == nil
        else {
            workloads.progressMarks[key] = nil
            return
        }
        let uid = deployment[path: "metadata", "uid"]?.stringValue ?? ""
        let desired = deployment[path: "spec", "replicas"]?.intValue ?? 1
        let paused = deployment[path: "spec", "paused"]?.boolValue == true
        let template = deployment[path: "spec", "template"] ?? [:]
        var owned = ownedReplicaSets(namespace: namespace, ownerUID: uid)
        let maxRevision = owned.map(Self.revision).max() ?? 0

        var newSet = owned.first { Self.templatesEqualIgnoringHash($0[path: "spec", "template"], template) }
        var conditionNote: (reason: String, message: String)?
        if newSet == nil && !paused {
            let initial = Self.initialReplicas(deployment, desired: desired, existing: owned)
            let created = createReplicaSet(for: deployment, revision: maxRevision + 1, replicas: initial)
            if !owned.isEmpty { rolloutCounts[key, default: 0] += 1 }
            owned.append(created)
            newSet = created
            conditionNote = (
                "NewReplicaSetCreated",
                "Created new replica set \"\(created[path: "metadata", "name"]?.stringValue ?? "")\""
            )
        } else if let existing = newSet, Self.revision(existing) < maxRevision, !paused {
            // Rolled back to an older template: that ReplicaSet becomes the newest revision.
            var revived = existing
            revived[path: "metadata", "annotations", Self.revisionAnnotation] = .string(
                String(maxRevision + 1))
            let stored = commit(.modified, Self.replicaSets, revived, previous: existing)
            rolloutCounts[key, default: 0] += 1
            owned = owned.map { $0[path: "metadata", "uid"] == stored[path: "metadata", "uid"] ? stored : $0 }
            newSet = stored
        }
        if paused {
            // Paused: no rollout, but a change of replicas still scales the one active
            // ReplicaSet (the controller's `sync`).
            let active = owned.filter { Self.specReplicas($0) > 0 }
            if let only = active.count == 1 ? active[0] : (active.isEmpty ? newSet : nil),
                Self.specReplicas(only) != desired
            {
                let scaled = scale(only, to: desired, for: deployment)
                owned = owned.map {
                    $0[path: "metadata", "uid"] == scaled[path: "metadata", "uid"] ? scaled : $0
                }
                if newSet?[path: "metadata", "uid"] == scaled[path: "metadata", "uid"] { newSet = scaled }
            }
            syncRolloutStatus(deployment, newSet: newSet, all: owned, note: conditionNote)
            return
        }
        guard let newSet else {
            syncRolloutStatus(deployment, newSet: nil, all: owned, note: nil)
            return
        }
        let newName = newSet[path: "metadata", "name"]?.stringValue ?? ""
        let oldSets = owned.filter { $0[path: "metadata", "name"]?.stringValue != newName }
        if deployment[path: "spec", "strategy", "type"]?.stringValue == "Recreate" {
            rolloutRecreate(
                deployment, newSet: newSet, oldSets: oldSets, desired: desired, note: conditionNote)
        } else {
            rolloutRolling(
                deployment, newSet: newSet, oldSets: oldSets, desired: desired, note: conditionNote)
        }
    }

    // MARK: - Strategies

    /// `rolloutRolling`: scale the new ReplicaSet up if the surge allows; otherwise scale old ones
    /// down if availability allows; then the status.
    private func rolloutRolling(
        _ deployment: JSON, newSet: JSON, oldSets: [JSON], desired: Int,
        note: (reason: String, message: String)?
    ) {
        let all = oldSets + [newSet]
        let newReplicas = Self.specReplicas(newSet)
        var target = newReplicas
        if newReplicas > desired {
            target = desired
        } else if newReplicas < desired {
            let maxTotal = desired + Self.fenceposts(deployment, desired).surge
            let current = all.reduce(0) { $0 + Self.specReplicas($1) }
            if current < maxTotal { target = newReplicas + min(maxTotal - current, desired - newReplicas) }
        }
        if target != newReplicas {
            let scaled = scale(newSet, to: target, for: deployment)
            syncRolloutStatus(deployment, newSet: scaled, all: oldSets + [scaled], note: note)
            return
        }
        let updatedOld = reconcileOldReplicaSets(
            deployment, newSet: newSet, oldSets: oldSets, desired: desired)
        syncRolloutStatus(deployment, newSet: newSet, all: updatedOld + [newSet], note: note)
    }

    /// `reconcileOldReplicaSets`: unhealthy old replicas go first, then healthy ones as long as
    /// `desired - maxUnavailable` pods stay available.
    private func reconcileOldReplicaSets(_ deployment: JSON, newSet: JSON, oldSets: [JSON], desired: Int)
        -> [JSON]
    {
        var oldSets = oldSets.sorted(by: Self.olderFirst)
        let oldCount = oldSets.reduce(0) { $0 + Self.specReplicas($1) }
        guard oldCount > 0 else { return oldSets }
        let allCount = oldCount + Self.specReplicas(newSet)
        let minAvailable = desired - Self.maxUnavailable(deployment, desired)
        let newUnavailable = Self.specReplicas(newSet) - Self.statusCount(newSet, "availableReplicas")
        let maxScaledDown = allCount - minAvailable - newUnavailable
        guard maxScaledDown > 0 else { return oldSets }
        // Clean up unhealthy replicas first, or they would block the rollout.
        var cleaned = 0
        for index in oldSets.indices where cleaned < maxScaledDown {
            let set = oldSets[index]
            let replicas = Self.specReplicas(set)
            let unhealthy = replicas - Self.statusCount(set, "availableReplicas")
            guard replicas > 0, unhealthy > 0 else { continue }
            let count = min(maxScaledDown - cleaned, unhealthy)
            oldSets[index] = scale(set, to: replicas - count, for: deployment)
            cleaned += count
        }
        // Then scale down healthy old replicas as far as availability allows.
        let available = (oldSets + [newSet]).reduce(0) { $0 + Self.statusCount($1, "availableReplicas") }
        guard available > minAvailable else { return oldSets }
        let total = available - minAvailable
        var scaledDown = 0
        for index in oldSets.indices where scaledDown < total {
            let replicas = Self.specReplicas(oldSets[index])
            guard replicas > 0 else { continue }
            let count = min(replicas, total - scaledDown)
            oldSets[index] = scale(oldSets[index], to: replicas - count, for: deployment)
            scaledDown += count
        }
        return oldSets
    }

    /// `rolloutRecreate`: every old pod goes before the new ReplicaSet scales up.
    private func rolloutRecreate(
        _ deployment: JSON, newSet: JSON, oldSets: [JSON], desired: Int,
        note: (reason: String, message: String)?
    ) {
        var oldSets = oldSets
        var scaledDown = false
        for index in oldSets.indices where Self.specReplicas(oldSets[index]) > 0 {
            oldSets[index] = scale(oldSets[index], to: 0, for: deployment)
            scaledDown = true
        }
        var newSet = newSet
        let oldPodsRunning = oldSets.contains { Self.statusCount($0, "replicas") > 0 }
        if !scaledDown && !oldPodsRunning && Self.specReplicas(newSet) != desired {
            newSet = scale(newSet, to: desired, for: deployment)
        }
        syncRolloutStatus(deployment, newSet: newSet, all: oldSets + [newSet], note: note)
    }

    /// The new ReplicaSet's size when created: everything a brand-new Deployment wants, or what
    /// the surge leaves beside the old pods.
    static func initialReplicas(_ deployment: JSON, desired: Int, existing: [JSON]) -> Int {
        if deployment[path: "spec", "strategy", "type"]?.stringValue == "Recreate" {
            return existing.contains { specReplicas($0) > 0 } ? 0 : desired
        }
        let current = existing.reduce(0) { $0 + specReplicas($1) }
        let maxTotal = desired + fenceposts(deployment, desired).surge
        return max(0, min(desired, maxTotal - current))
    }

    /// Sets a ReplicaSet's `spec.replicas` (and the desired/max annotations) and records the
    /// `ScalingReplicaSet` event.
    private func scale(_ set: JSON, to target: Int, for deployment: JSON) -> JSON {
        let desired = deployment[path: "spec", "replicas"]?.intValue ?? 1
        var updated = set
        updated[path: "spec", "replicas"] = .int(target)
        updated[path: "metadata", "annotations", "deployment.kubernetes.io/desired-replicas"] = .string(
            String(desired))
        updated[path: "metadata", "annotations", "deployment.kubernetes.io/max-replicas"] = .string(
            String(desired + Self.fenceposts(deployment, desired).surge))
        guard updated != set else { return set }
        updated[path: "metadata", "generation"] = .int(
            (set[path: "metadata", "generation"]?.intValue ?? 1) + 1)
        let stored = commit(.modified, Self.replicaSets, updated, previous: set)
        let before = Self.specReplicas(set)
        if before != target { recordScaling(of: deployment, set: stored, from: before, to: target) }
        return stored
    }

    // MARK: - Status

    /// `syncRolloutStatus`: replica counts from the ReplicaSets, `Available`, and `Progressing`
    /// with the progress deadline; schedules a resync for the deadline while the rollout waits.
    private func syncRolloutStatus(
        _ deployment: JSON, newSet: JSON?, all: [JSON], note: (reason: String, message: String)?
    ) {
        let key = ObjectName(
            namespace: deployment[path: "metadata", "namespace"]?.stringValue ?? "",
            name: deployment[path: "metadata", "name"]?.stringValue ?? "")
        let desired = deployment[path: "spec", "replicas"]?.intValue ?? 1
        let paused = deployment[path: "spec", "paused"]?.boolValue == true
        func sum(_ field: String) -> Int { all.reduce(0) { $0 + Self.statusCount($1, field) } }
        let replicas = sum("replicas")
        let available = sum("availableReplicas")
        let ready = sum("readyReplicas")
        let updated = newSet.map { Self.statusCount($0, "replicas") } ?? 0
        let total = all.reduce(0) { $0 + Self.specReplicas($1) }
        let newName = newSet?[path: "metadata", "name"]?.stringValue ?? ""
        let now = Clock.timestamp()
        let nowInstant = ContinuousClock.now

        let old = deployment["status"] ?? [:]
        var status = old
        let generation = deployment[path: "metadata", "generation"] ?? 1
        status["observedGeneration"] = generation
        status["replicas"] = replicas > 0 ? .int(replicas) : nil
        status["updatedReplicas"] = updated > 0 ? .int(updated) : nil
        status["readyReplicas"] = ready > 0 ? .int(ready) : nil
        status["availableReplicas"] = available > 0 ? .int(available) : nil
        status["unavailableReplicas"] = total - available > 0 ? .int(total - available) : nil
        var conditions = status["conditions"]?.arrayValue ?? []
        var progressUpdated = false

        func condition(_ type: String) -> JSON? { conditions.first { $0["type"]?.stringValue == type } }
        /// `SetDeploymentCondition`: nothing changes when status and reason are the same.
        func setCondition(
            _ type: String, _ value: String, _ reason: String, _ message: String, force: Bool = false
        ) {
            let current = condition(type)
            if !force, let current, current["status"]?.stringValue == value,
                current["reason"]?.stringValue == reason
            {
                return
            }
            var new: JSON = [
                "type": .string(type), "status": .string(value), "reason": .string(reason),
                "message": .string(message), "lastUpdateTime": .string(now),
                "lastTransitionTime": .string(now),
            ]
            if let current, current["status"]?.stringValue == value {
                new["lastTransitionTime"] = current["lastTransitionTime"]
            }
            conditions.removeAll { $0["type"]?.stringValue == type }
            conditions.append(new)
            if type == "Progressing" { progressUpdated = true }
        }

        if available >= desired - Self.maxUnavailable(deployment, desired) {
            setCondition(
                "Available", "True", "MinimumReplicasAvailable", "Deployment has minimum availability.")
        } else {
            setCondition(
                "Available", "False", "MinimumReplicasUnavailable",
                "Deployment does not have minimum availability.")
        }
        let deadline = deployment[path: "spec", "progressDeadlineSeconds"]?.intValue
        let hasDeadline = deadline != nil && deadline != Int(Int32.max)
        if paused {
            if hasDeadline {
                setCondition("Progressing", "Unknown", "DeploymentPaused", "Deployment is paused")
            }
        } else if hasDeadline {
            if condition("Progressing")?["reason"]?.stringValue == "DeploymentPaused" {
                setCondition("Progressing", "Unknown", "DeploymentResumed", "Deployment is resumed")
            }
            if let note {
                setCondition("Progressing", "True", note.reason, note.message)
            } else if condition("Progressing") == nil, !newName.isEmpty {
                setCondition(
                    "Progressing", "True", "FoundNewReplicaSet", "Found new replica set \"\(newName)\"")
            }
            let current = condition("Progressing")
            let complete =
                updated == desired && replicas == desired && available == desired
            let alreadyComplete =
                replicas == updated && current?["reason"]?.stringValue == "NewReplicaSetAvailable"
            if !alreadyComplete {
                if complete {
                    setCondition(
                        "Progressing", "True", "NewReplicaSetAvailable",
                        newName.isEmpty
                            ? "Deployment \"\(key.name)\" has successfully progressed."
                            : "ReplicaSet \"\(newName)\" has successfully progressed.")
                } else if Self.madeProgress(
                    old: old, updated: updated, replicas: replicas, ready: ready,
                    available: available)
                {
                    // Progress: the condition's lastUpdateTime moves, which restarts the deadline.
                    setCondition(
                        "Progressing", "True", "ReplicaSetUpdated",
                        newName.isEmpty
                            ? "Deployment \"\(key.name)\" is progressing."
                            : "ReplicaSet \"\(newName)\" is progressing.", force: true)
                } else if let current, timedOut(key, current, deadline: deadline ?? 600, now: nowInstant) {
                    setCondition(
                        "Progressing", "False", "ProgressDeadlineExceeded",
                        newName.isEmpty
                            ? "Deployment \"\(key.name)\" has timed out progressing."
                            : "ReplicaSet \"\(newName)\" has timed out progressing.")
                }
            }
        } else {
            conditions.removeAll { $0["type"]?.stringValue == "Progressing" }
        }
        if progressUpdated, let progressing = condition("Progressing") {
            workloads.progressMarks[key] = WorkloadState.ProgressMark(
                lastUpdateTime: progressing["lastUpdateTime"]?.stringValue ?? "", instant: nowInstant)
        }
        status["conditions"] = .array(
            conditions.sorted { ($0["type"]?.stringValue ?? "") < ($1["type"]?.stringValue ?? "") })

        var result = deployment
        result["status"] = status
        if let newSet {
            result[path: "metadata", "annotations", Self.revisionAnnotation] =
                newSet[path: "metadata", "annotations", Self.revisionAnnotation]
        }
        if result != deployment { commit(.modified, Self.deployments, result, previous: deployment) }
        // A rollout still waiting: look again when its deadline passes.
        if hasDeadline, !paused, let progressing = condition("Progressing"),
            progressing["status"]?.stringValue == "True",
            progressing["reason"]?.stringValue != "NewReplicaSetAvailable"
        {
            let at =
                progressInstant(key, progressing, now: nowInstant)
                + simulation.real(.seconds(deadline ?? 600))
            scheduleDeadlineCheck(key, at: at)
        }
    }

    /// `DeploymentProgressing`: more updated, ready or available replicas, or fewer old ones.
    static func madeProgress(old: JSON, updated: Int, replicas: Int, ready: Int, available: Int) -> Bool {
        let oldUpdated = old["updatedReplicas"]?.intValue ?? 0
        let oldReplicas = old["replicas"]?.intValue ?? 0
        return updated > oldUpdated || (replicas - updated) < (oldReplicas - oldUpdated)
            || ready > (old["readyReplicas"]?.intValue ?? 0)
            || available > (old["availableReplicas"]?.intValue ?? 0)
    }

    /// `DeploymentTimedOut`: the Progressing condition was last updated more than the deadline ago.
    private func timedOut(_ key: ObjectName, _ progressing: JSON, deadline: Int, now: ContinuousClock.Instant)
        -> Bool
    {
        switch progressing["reason"]?.stringValue {
        case "NewReplicaSetAvailable": return false
        case "ProgressDeadlineExceeded": return true
        default:
            return progressInstant(key, progressing, now: now) + simulation.real(.seconds(deadline)) < now
        }
    }

    /// When the Progressing condition was last updated, as a monotonic instant.
    private func progressInstant(_ key: ObjectName, _ progressing: JSON, now: ContinuousClock.Instant)
        -> ContinuousClock.Instant
    {
        let text = progressing["lastUpdateTime"]?.stringValue ?? ""
        if let mark = workloads.progressMarks[key], mark.lastUpdateTime == text { return mark.instant }
        // Written by someone else (or before a restart): from the timestamp itself.
        guard let date = Clock.parse(text) else { return now }
        let age = max(0, (UnixTime.now() - date).inSeconds)
        return now - .milliseconds(Int(age * 1000))
    }

    private func scheduleDeadlineCheck(_ key: ObjectName, at instant: ContinuousClock.Instant) {
        if let pending = workloads.deadlineWakeups[key], pending <= instant, pending > .now { return }
        workloads.deadlineWakeups[key] = instant
        emulatorTask { [weak self] in
            try? await Task.sleep(until: instant, clock: .continuous)
            await self?.deadlineReached(key, scheduled: instant)
        }
    }

    private func deadlineReached(_ key: ObjectName, scheduled: ContinuousClock.Instant) {
        if workloads.deadlineWakeups[key] == scheduled { workloads.deadlineWakeups[key] = nil }
        syncDeployment(namespace: key.namespace, name: key.name)
    }

    // MARK: - ReplicaSets

    func ownedReplicaSets(namespace: String, ownerUID: String) -> [JSON] {
        objects(of: Self.replicaSets, namespace: namespace).map(\.1).filter { set in
            (set[path: "metadata", "ownerReferences"]?.arrayValue ?? []).contains {
                $0["uid"]?.stringValue == ownerUID
            }
        }
    }

    /// The name of the controlling owner of `kind`, if any.
    static func controllerOwner(of object: JSON, kind: String) -> String? {
        (object[path: "metadata", "ownerReferences"]?.arrayValue ?? []).first {
            $0["kind"]?.stringValue == kind && $0["controller"]?.boolValue == true
        }?["name"]?.stringValue
    }

    static func revision(_ set: JSON) -> Int {
        Int(set[path: "metadata", "annotations", revisionAnnotation]?.stringValue ?? "") ?? 0
    }

    static func specReplicas(_ set: JSON) -> Int { set[path: "spec", "replicas"]?.intValue ?? 0 }

    static func statusCount(_ set: JSON, _ field: String) -> Int { set[path: "status", field]?.intValue ?? 0 }

    static func olderFirst(_ a: JSON, _ b: JSON) -> Bool {
        let first = a[path: "metadata", "creationTimestamp"]?.stringValue ?? ""
        let second = b[path: "metadata", "creationTimestamp"]?.stringValue ?? ""
        if first != second { return first < second }
        return revision(a) < revision(b)
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

    private func createReplicaSet(for deployment: JSON, revision: Int, replicas: Int) -> JSON {
        let namespace = deployment[path: "metadata", "namespace"]?.stringValue ?? ""
        let name = deployment[path: "metadata", "name"]?.stringValue ?? ""
        let desired = deployment[path: "spec", "replicas"]?.intValue ?? 1
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
            String(desired + Self.fenceposts(deployment, desired).surge))
        var spec: JSON = ["replicas": .int(replicas), "selector": selector, "template": template]
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
        if replicas > 0 { recordScaling(of: deployment, set: created, from: 0, to: replicas) }
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

    static func controllerReference(to owner: JSON) -> JSON {
        [
            "apiVersion": owner["apiVersion"] ?? "", "kind": owner["kind"] ?? "",
            "name": owner[path: "metadata", "name"] ?? "", "uid": owner[path: "metadata", "uid"] ?? "",
            "controller": true, "blockOwnerDeletion": true,
        ]
    }

    // MARK: - maxSurge and maxUnavailable

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

    /// `ResolveFenceposts`: the surge rounds up, unavailability down, and both zero means one
    /// pod may be unavailable. `Recreate` has neither.
    static func fenceposts(_ deployment: JSON, _ desired: Int) -> (surge: Int, unavailable: Int) {
        guard deployment[path: "spec", "strategy", "type"]?.stringValue != "Recreate" else { return (0, 0) }
        let rolling = deployment[path: "spec", "strategy", "rollingUpdate"]
        let surge = resolve(rolling?["maxSurge"] ?? "25%", of: desired, roundUp: true)
        var unavailable = resolve(rolling?["maxUnavailable"] ?? "25%", of: desired, roundUp: false)
        if surge == 0 && unavailable == 0 { unavailable = 1 }
        return (surge, unavailable)
    }

    /// `MaxUnavailable`: at most the desired count; none for `Recreate` or zero replicas.
    static func maxUnavailable(_ deployment: JSON, _ desired: Int) -> Int {
        guard deployment[path: "spec", "strategy", "type"]?.stringValue != "Recreate", desired > 0 else {
            return 0
        }
        return min(fenceposts(deployment, desired).unavailable, desired)
    }
}

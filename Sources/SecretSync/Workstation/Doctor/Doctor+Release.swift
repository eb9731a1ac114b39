import JSONValue
import KubeAPI
import Sealing
import TimeFormat

/// The release's objects and its agent.
extension Doctor {
    func objectsCheck(
        deployment: Reading<Deployment>, settings: Reading<ConfigMap>, sealedStore: Reading<ConfigMap>,
        agent: Reading<Deployment>, sidecar: Bool
    ) -> DoctorCheck {
        let names = workspace.names
        var evidence: [String] = []
        var fix: [String] = []
        var verdict = DoctorCheck.Verdict.ok
        var missing: [String] = []
        func note<T: Sendable>(_ reading: Reading<T>, _ kind: String, _ name: String, missingFix: String?) {
            switch reading {
            case .found: evidence.append("\(describe(kind, name)): present")
            case .missing:
                evidence.append("\(describe(kind, name)): missing")
                missing.append("\(kind) \(name)")
                verdict = .failure
                if let missingFix, !fix.contains(missingFix) { fix.append(missingFix) }
            case .denied:
                evidence.append("\(describe(kind, name)): not checked (this user may not read it)")
            }
        }
        note(deployment, "Deployment", names.deployment, missingFix: helmUpgrade)
        note(settings, "ConfigMap", names.configMap, missingFix: helmUpgrade)
        switch inputs.secret {
        case .present: evidence.append("\(describe("Secret", names.secret)): present")
        case .missing:
            evidence.append("\(describe("Secret", names.secret)): missing (no key was set yet)")
            missing.append("Secret \(names.secret)")
            verdict = .failure
            let keys = requiredKeys(of: deployment.value)
            fix += (keys.isEmpty ? ["KEY"] : keys).map { "beluga-secrets set \($0) \(target)" }
        case .unreadable:
            evidence.append(
                "\(describe("Secret", names.secret)): not read (this user may not get secrets; "
                    + "the pods' check below shows whether its keys are there)")
        }
        note(sealedStore, "ConfigMap", names.sealedStore, missingFix: helmUpgrade)
        if sidecar {
            evidence.append(
                "agent: container \(Self.sidecarContainer) of Deployment \(names.deployment) (sidecar mode)")
        } else {
            note(
                agent, "Deployment", options.agentDeployment,
                missingFix: "\(helmUpgrade) --set agent.enabled=true")
        }
        let summary =
            missing.isEmpty
            ? "the release's objects are there" : "missing: " + missing.joined(separator: ", ")
        return DoctorCheck(name: "objects", verdict: verdict, summary: summary, evidence: evidence, fix: fix)
    }

    /// The keys the server's containers take from the Secret without `optional: true`.
    func requiredKeys(of deployment: Deployment?) -> [String] {
        guard let deployment else { return [] }
        var keys: [String] = []
        let containers = deployment.json[path: "spec", "template", "spec", "containers"]?.arrayValue ?? []
        for container in containers {
            for variable in container["env"]?.arrayValue ?? [] {
                guard let reference = variable[path: "valueFrom", "secretKeyRef"],
                    reference["name"]?.stringValue == workspace.names.secret,
                    reference["optional"]?.boolValue != true,
                    let key = reference["key"]?.stringValue, !keys.contains(key)
                else { continue }
                keys.append(key)
            }
        }
        return keys
    }

    func agentCheck(
        agent: Reading<Deployment>, sidecar: Bool, pods: [Pod], lease: Reading<Lease>?, now: UnixTime
    ) -> DoctorCheck {
        let logs =
            sidecar
            ? "kubectl logs \(ns) deploy/\(workspace.names.deployment) -c \(Self.sidecarContainer)"
            : "kubectl logs \(ns) deploy/\(options.agentDeployment)"
        var evidence: [String] = []
        var problems: [String] = []
        var fix: [String] = []
        switch agent {
        case .found(let deployment):
            let wanted = deployment.replicas ?? 1
            let ready = deployment.status.readyReplicas
            evidence.append("Deployment \(deployment.name): \(ready) of \(wanted) ready")
            if wanted == 0 {
                problems.append("the agent is scaled to 0")
                fix.append("kubectl scale deployment/\(deployment.name) \(ns) --replicas=1")
            } else if ready == 0 {
                problems.append("no agent pod is ready")
                if let cause = RolloutStall.cause(of: pods) { evidence.append(cause) }
                fix.append(logs)
            }
        case .missing:
            problems.append("the agent is not installed")
            fix.append("\(helmUpgrade) --set agent.enabled=true")
        case .denied:
            evidence.append("Deployment \(options.agentDeployment): not checked (this user may not read it)")
        }
        if let lease {
            let name = workspace.names.lease
            switch lease {
            case .found(let lease):
                let leader = LeaderReport(lease: lease)
                let since = leader.secondsSinceRenewal(now: now).map { "\(Int($0))s" } ?? "never"
                if leader.isLive(now: now) {
                    evidence.append("Lease \(name): held by \(leader.holder), renewed \(since) ago")
                } else if leader.holder.isEmpty {
                    problems.append("no agent holds the Lease \(name)")
                    evidence.append("Lease \(name): no holder")
                } else {
                    problems.append("the leader stopped renewing the Lease \(name)")
                    evidence.append(
                        "Lease \(name): \(leader.holder) last renewed \(since) ago "
                            + "(lease duration \(leader.leaseDurationSeconds)s)")
                }
            case .missing:
                problems.append("no Lease \(name): no agent has started leading here")
            case .denied:
                evidence.append("Lease \(name): not checked (this user may not read it)")
            }
            if case .found = agent, problems.contains(where: { $0.contains("Lease") }), !fix.contains(logs) {
                fix.append(logs)
            }
        }
        if !problems.isEmpty, case .found = agent, !sidecar, !fix.isEmpty, fix.first == logs {
            fix.append("kubectl rollout restart deployment/\(options.agentDeployment) \(ns)")
        }
        return DoctorCheck(
            name: "agent", verdict: problems.isEmpty ? .ok : .failure,
            summary: problems.isEmpty ? "the agent runs and leads" : problems.joined(separator: "; "),
            evidence: evidence, fix: fix)
    }

    func identityCheck(publicKeys: Reading<ConfigMap>) -> DoctorCheck {
        let name = workspace.names.publicKeyConfigMap
        let logs = "kubectl logs \(ns) deploy/\(options.agentDeployment)"
        switch publicKeys {
        case .missing:
            return DoctorCheck(
                name: "agent-identity", verdict: .failure,
                summary: "the agent has not published its sealing key: set cannot seal",
                evidence: ["\(describe("ConfigMap", name)): missing"], fix: [logs])
        case .denied:
            return DoctorCheck(
                name: "agent-identity", verdict: .ok, summary: "not checked",
                evidence: ["\(describe("ConfigMap", name)): this user may not read it"])
        case .found(let object):
            let published: PublishedKeys
            do {
                published = try PublishedKeys(configMap: object.json, namespace: workspace.namespace)
            } catch {
                return DoctorCheck(
                    name: "agent-identity", verdict: .failure,
                    summary: "the published sealing key is not validly signed by the agent's identity",
                    evidence: [RolloutStall.clean(error.description)],
                    fix: [logs, "beluga-secrets keys show \(target)"])
            }
            var evidence = [
                "sealing key \(published.current.keyID) signed by identity \(published.identity.signerID), "
                    + "current-key counter \(published.currentStatement.counter)"
            ]
            switch inputs.pin(published) {
            case .known:
                evidence.append("identity pinned on this workstation: matches")
                return DoctorCheck(
                    name: "agent-identity", verdict: .ok,
                    summary: "the sealing key is validly signed and matches the pin", evidence: evidence)
            case .firstUse:
                evidence.append("identity not pinned on this workstation yet: the first set pins it")
                return DoctorCheck(
                    name: "agent-identity", verdict: .ok, summary: "the sealing key is validly signed",
                    evidence: evidence)
            case .changed(let pinned):
                evidence.append("identity pinned on this workstation: \(pinned)")
                return DoctorCheck(
                    name: "agent-identity", verdict: .failure,
                    summary: "the agent's identity changed since this workstation pinned it; set refuses it",
                    evidence: evidence,
                    fix: [
                        "beluga-secrets keys show \(target)",
                        "beluga-secrets set KEY \(target) --accept-new-identity   # only after a deliberate reinstall",
                    ])
            case .replayed(let seen):
                evidence.append("a current-key counter of \(seen) was seen before")
                return DoctorCheck(
                    name: "agent-identity", verdict: .failure,
                    summary: "an older current-key statement was put back; set refuses it",
                    evidence: evidence, fix: [logs, "beluga-secrets keys show \(target)"])
            }
        }
    }

    func sealedKeysCheck() -> DoctorCheck {
        guard let keys = inputs.keys else {
            return DoctorCheck(
                name: "sealed-keys", verdict: .ok, summary: "not checked",
                evidence: ["the sealed store could not be read"])
        }
        let rejected = keys.filter { $0.state == "rejected" }
        let pending = keys.filter { $0.state == "pending" }
        var evidence: [String] = []
        var fix: [String] = []
        for key in rejected {
            evidence.append(
                "\(key.key) version \((key.version > 0 ? String(key.version) : "-")): rejected: \(RolloutStall.clean(key.reason))"
            )
            fix.append("beluga-secrets set \(key.key) \(target)")
        }
        for key in pending {
            evidence.append(
                "\(key.key) version \((key.version > 0 ? String(key.version) : "-")): pending"
                    + (key.reason.isEmpty ? "" : " (\(RolloutStall.clean(key.reason)))"))
        }
        if !pending.isEmpty { fix.append("beluga-secrets status \(target)") }
        // Envelopes in Helm values still sealed to a previous sealing key: they open, but that key
        // stays until the values hold them re-sealed.
        let resealing = keys.filter { $0.helmReseal != nil }
        for key in resealing {
            evidence.append("\(key.key): \(key.helmResealText)")
        }
        if resealing.contains(where: { $0.helmReseal?.signed == false }) {
            fix.append("beluga-secrets keys helm-values \(target) > sealed-values.yaml")
            fix.append(
                "helm upgrade \(options.release) \(options.chart) \(ns) -f values.yaml -f sealed-values.yaml")
        }
        let verdict: DoctorCheck.Verdict =
            !rejected.isEmpty ? .failure : (!pending.isEmpty || !resealing.isEmpty ? .warning : .ok)
        var parts: [String] = []
        if !rejected.isEmpty { parts.append("\(rejected.count) rejected by the agent") }
        if !pending.isEmpty { parts.append("\(pending.count) not yet applied") }
        if !resealing.isEmpty {
            parts.append("\(resealing.count) in Helm values sealed to a previous sealing key")
        }
        let sealed = keys.filter { $0.source == .sealed }.count
        return DoctorCheck(
            name: "sealed-keys", verdict: verdict,
            summary: parts.isEmpty
                ? "\(sealed) sealed key\(sealed == 1 ? "" : "s"), all applied"
                : parts.joined(separator: ", "),
            evidence: evidence, fix: fix)
    }

    /// Keys whose current version is older than the maximum age set for them
    /// (`beluga-ai.io/key-max-age` of the sealed store): a warning naming each, its age and its
    /// maximum, with the command that stores a new value.
    func keyAgeCheck(now: UnixTime = .now()) -> DoctorCheck {
        guard let keys = inputs.keys else {
            return DoctorCheck(
                name: "key-age", verdict: .ok, summary: "the keys could not be read",
                evidence: ["see the sealed-keys check"])
        }
        let limited = keys.filter { $0.maxAge != nil }
        guard !limited.isEmpty else {
            return DoctorCheck(
                name: "key-age", verdict: .ok, summary: "no key has a maximum age",
                evidence: [
                    "set one with `beluga-secrets max-age KEY 90d` or the chart's apiKeys[].maxAge; "
                        + "`beluga-secrets status --max-age` shows the keys' ages"
                ])
        }
        let overdue = limited.filter { $0.overdue(now: now) }
        return DoctorCheck(
            name: "key-age", verdict: overdue.isEmpty ? .ok : .warning,
            summary: overdue.isEmpty
                ? "\(limited.count) key\(limited.count == 1 ? " is" : "s are") younger than \(limited.count == 1 ? "its" : "their") maximum age"
                : "overdue: " + overdue.map(\.key).joined(separator: ", "),
            evidence: overdue.map { (key: KeyReport) -> String in
                let age = Self.ageText(key.age(now: now))
                return
                    "\(key.key): version \(key.version) is \(age) old, over its maximum age \(key.maxAge?.text ?? "")"
            },
            fix: overdue.map { "beluga-secrets set \($0.key) \(target)" })
    }

    /// `95d`, `36h`, `12m` or `40s`: an age in its largest whole unit.
    static func ageText(_ seconds: Double?) -> String {
        guard let seconds, seconds >= 0 else { return "?" }
        let whole = Int(seconds.rounded(.down))
        if whole >= 86400 { return "\(whole / 86400)d" }
        if whole >= 3600 { return "\(whole / 3600)h" }
        if whole >= 60 { return "\(whole / 60)m" }
        return "\(whole)s"
    }
}

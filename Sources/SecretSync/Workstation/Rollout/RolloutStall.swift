import JSONValue
import KubeAPI

/// Why a Deployment's pods do not become ready, read from the pods' status the way `kubectl
/// describe pod` shows it: the newest pod that is not ready, its first container that is not
/// running, and the kubelet's reason, e.g. `pod beluga-ai-7d9f-x2x4z: container beluga-ai:
/// CreateContainerConfigError: couldn't find key openai-api-key in Secret ai/beluga-ai-secrets`.
///
/// The kubelet's messages name objects and keys, never values. The text comes from the cluster,
/// so it is cut to one bounded line of printable characters before anyone prints it.
public enum RolloutStall {
    /// The most characters a cause may have.
    public static let maximumLength = 300

    /// The cause, or nil when every pod is ready or none says why it is not.
    public static func cause(of pods: [Pod]) -> String? {
        let unready = pods.filter { !isReady($0) }.sorted {
            ($0.json[path: "metadata", "creationTimestamp"]?.stringValue ?? "")
                > ($1.json[path: "metadata", "creationTimestamp"]?.stringValue ?? "")
        }
        for pod in unready {
            let statuses = pod.json[path: "status", "containerStatuses"]?.arrayValue ?? []
            for status in statuses where status[path: "state", "running"] == nil {
                let container = status["name"]?.stringValue ?? "?"
                guard let reason = describe(status) else { continue }
                return clean("pod \(pod.name): container \(container): \(reason)")
            }
        }
        return nil
    }

    /// `REASON: message` of a waiting container; for a crash loop, the exit code and restarts.
    static func describe(_ status: JSON) -> String? {
        if let waiting = status[path: "state", "waiting"], let reason = waiting["reason"]?.stringValue {
            if reason == "CrashLoopBackOff", let exited = status[path: "lastState", "terminated"] {
                let code = exited["exitCode"]?.intValue.map(String.init) ?? "?"
                let restarts = status["restartCount"]?.intValue ?? 0
                return
                    "CrashLoopBackOff: the container exits with code \(code) (restarted \(restarts) times; "
                    + "its log: kubectl logs --previous)"
            }
            let message = waiting["message"]?.stringValue ?? ""
            return message.isEmpty ? reason : "\(reason): \(message)"
        }
        if let exited = status[path: "state", "terminated"] {
            let code = exited["exitCode"]?.intValue.map(String.init) ?? "?"
            return "\(exited["reason"]?.stringValue ?? "Terminated"): the container exited with code \(code)"
        }
        return nil
    }

    static func isReady(_ pod: Pod) -> Bool {
        (pod.json[path: "status", "conditions"]?.arrayValue ?? []).contains {
            $0["type"]?.stringValue == "Ready" && $0["status"]?.stringValue == "True"
        }
    }

    /// One line of printable characters, at most `maximumLength` of them.
    static func clean(_ text: String) -> String {
        var scalars = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            let control = scalar.value < 0x20 || (0x7F..<0xA0).contains(scalar.value)
            scalars.append(control ? " " : scalar)
        }
        var line = String(scalars)
        if line.count > maximumLength { line = String(line.prefix(maximumLength - 1)) + "…" }
        return line
    }
}

import JSONValue

/// Where agents before the status object kept their status: two annotations of the sealed store,
/// which anyone who may update the sealed store could rewrite. An agent that finds them and no
/// status object moves them into a new status object once, reading them with the same bounds,
/// then removes them (docs/formats.md, "Upgrading from status in the sealed store").
enum LegacyStatusAnnotations {
    static let syncStatus = "beluga-ai.io/" + AgentStatus.Key.syncStatus
    static let auditHead = "beluga-ai.io/" + AgentStatus.Key.auditHead
    static let all = [syncStatus, auditHead]

    /// Whether the sealed store `object` carries either annotation.
    static func present(in object: JSON) -> Bool {
        let annotations = object[path: "metadata", "annotations"]?.objectValue ?? [:]
        return all.contains { annotations[$0] != nil }
    }

    /// The status the annotations of the sealed store `object` hold, bounded like the status
    /// object (what is out of bounds is left out and named in `problems`).
    static func status(in object: JSON) -> AgentStatus {
        let annotations = object[path: "metadata", "annotations"]?.objectValue ?? [:]
        var parts: [String: String] = [:]
        for key in [AgentStatus.Key.syncStatus, AgentStatus.Key.auditHead] {
            if let text = annotations["beluga-ai.io/" + key]?.stringValue { parts[key] = text }
        }
        return AgentStatus(parts: parts, object: AgentStatus.describe(object)) {
            "annotation beluga-ai.io/\($0)"
        }
    }
}

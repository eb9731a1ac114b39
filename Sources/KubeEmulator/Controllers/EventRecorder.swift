import JSONValue
import TimeFormat

/// core/v1 Events as the controllers' and the kubelet's event recorders write them. An event
/// repeating one already recorded (same object, reason, message, source) is counted on that
/// Event (`count`, `lastTimestamp`) instead of creating another, as client-go's event correlator
/// does, so a crash loop keeps one `BackOff` Event `(x12 over 5m)`.
extension ClusterStore {
    static let events = GroupResource(group: "", resource: "events")

    /// Records an event about `object`; `fieldPath` names a container (`spec.containers{web}`)
    /// for the kubelet's container events; `host` is the kubelet's node.
    func recordEvent(
        about object: JSON, type: String, reason: String, message: String, component: String,
        fieldPath: String = "", host: String? = nil
    ) {
        let namespace = object[path: "metadata", "namespace"]?.stringValue ?? "default"
        let name = object[path: "metadata", "name"]?.stringValue ?? ""
        let uid = object[path: "metadata", "uid"]?.stringValue ?? ""
        let now = UnixTime.now()
        let key = WorkloadState.EventKey(
            involvedUID: uid, fieldPath: fieldPath, type: type, reason: reason, message: message,
            component: component)
        if let existingName = workloads.events[key], let existing = self.object(Self.events, existingName) {
            var counted = existing
            counted["count"] = .int((existing["count"]?.intValue ?? 1) + 1)
            counted["lastTimestamp"] = .string(Clock.timestamp(now))
            commit(.modified, Self.events, counted, previous: existing)
            return
        }
        var nanos = UInt64(max(0, now.nanosecondsSince1970))
        while self.object(
            Self.events, ObjectName(namespace: namespace, name: "\(name).\(String(nanos, radix: 16))"))
            != nil
        {
            nanos += 1
        }
        var involved: JSON = [
            "apiVersion": object["apiVersion"] ?? "", "kind": object["kind"] ?? "", "name": .string(name),
            "namespace": .string(namespace), "uid": .string(uid),
            "resourceVersion": object[path: "metadata", "resourceVersion"] ?? "",
        ]
        if !fieldPath.isEmpty { involved["fieldPath"] = .string(fieldPath) }
        var source: JSON = ["component": .string(component)]
        if let host { source["host"] = .string(host) }
        let eventName = "\(name).\(String(nanos, radix: 16))"
        let event: JSON = [
            "apiVersion": "v1", "kind": "Event",
            "metadata": [
                "name": .string(eventName), "namespace": .string(namespace),
                "uid": .string(ObjectMetaRules.newUID()), "creationTimestamp": .string(Clock.timestamp(now)),
            ],
            "involvedObject": involved,
            "reason": .string(reason), "message": .string(message), "type": .string(type),
            "source": source, "firstTimestamp": .string(Clock.timestamp(now)),
            "lastTimestamp": .string(Clock.timestamp(now)), "count": 1,
            "reportingComponent": .string(component),
            "reportingInstance": .string(host ?? ""),
        ]
        commit(.added, Self.events, event, previous: nil)
        workloads.events[key] = ObjectName(namespace: namespace, name: eventName)
    }
}

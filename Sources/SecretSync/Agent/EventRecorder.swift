import JSONValue
import KubeAPI
import Logging
import TimeFormat

/// The object an Event is about.
public struct InvolvedObject: Sendable, Hashable {
    public var kind: String
    public var apiVersion: String
    public var namespace: String
    public var name: String
    public var uid: String

    public init(kind: String, apiVersion: String, namespace: String, name: String, uid: String = "") {
        self.kind = kind
        self.apiVersion = apiVersion
        self.namespace = namespace
        self.name = name
        self.uid = uid
    }

    /// The object `json` (its kind, apiVersion, namespace, name and uid). Items of a list carry no
    /// kind or apiVersion of their own: `kind` and `apiVersion` stand in for them, so that
    /// `kubectl describe` finds the Event.
    public init(_ json: JSON, kind: String = "", apiVersion: String = "") {
        self.init(
            kind: json["kind"]?.stringValue ?? kind,
            apiVersion: json["apiVersion"]?.stringValue ?? apiVersion,
            namespace: json[path: "metadata", "namespace"]?.stringValue ?? "",
            name: json[path: "metadata", "name"]?.stringValue ?? "",
            uid: json[path: "metadata", "uid"]?.stringValue ?? "")
    }
}

/// Writes Kubernetes Events the way client-go's event recorder does, so that `kubectl describe`
/// shows them as it shows any controller's: an event repeated for the same object, reason,
/// type and message is not a new object but the same one with its `count` raised and its
/// `lastTimestamp` moved (a patch), named `<object>.<unix nanoseconds in hex>`.
///
/// Events are best effort: a failure is logged and never stops the agent's work.
public actor EventRecorder {
    private struct Key: Hashable {
        var object: InvolvedObject
        var type: String
        var reason: String
        var message: String
    }

    private struct Seen {
        var name: String
        var count: Int
        var firstTimestamp: String
        var used: UInt64
    }

    private let client: KubeClient
    private let component: String
    private let host: String
    private let logger: Logger
    private var seen: [Key: Seen] = [:]
    private var uses: UInt64 = 0
    /// client-go's correlator keeps 4096 entries.
    private let capacity = 4096

    public init(client: KubeClient, component: String = "beluga-secrets-agent", host: String, logger: Logger)
    {
        self.client = client
        self.component = component
        self.host = host
        self.logger = logger
    }

    /// Records an Event about `object`.
    public func record(about object: InvolvedObject, warning: Bool, reason: String, message: String) async {
        let type = warning ? "Warning" : "Normal"
        let key = Key(object: object, type: type, reason: reason, message: message)
        let now = KubeTime.time()
        uses += 1
        if var entry = seen[key] {
            entry.count += 1
            entry.used = uses
            let patch: JSON = [
                "count": .int(entry.count), "lastTimestamp": .string(now), "message": .string(message),
            ]
            do {
                _ = try await client.patch(
                    Event.self, name: entry.name, namespace: object.namespace,
                    patch: .strategicMerge(patch))
                seen[key] = entry
                return
            } catch  where error.category == .notFound {
                // Expired or deleted: start a new one, as client-go does.
                seen[key] = nil
            } catch {
                logger.warning(
                    "could not update an event", metadata: ["reason": "\(reason)", "error": "\(error)"])
                return
            }
        }
        let nanos = UInt64(max(0, UnixTime.now().nanosecondsSince1970))
        let name = "\(object.name).\(String(nanos, radix: 16))"
        var involved: JSON = [
            "kind": .string(object.kind), "apiVersion": .string(object.apiVersion),
            "namespace": .string(object.namespace), "name": .string(object.name),
        ]
        if !object.uid.isEmpty { involved["uid"] = .string(object.uid) }
        let event: JSON = [
            "apiVersion": "v1", "kind": "Event",
            "metadata": ["name": .string(name), "namespace": .string(object.namespace)],
            "involvedObject": involved, "reason": .string(reason), "message": .string(message),
            "type": .string(type), "source": ["component": .string(component), "host": .string(host)],
            "reportingComponent": .string(component), "reportingInstance": .string(host),
            "firstTimestamp": .string(now), "lastTimestamp": .string(now), "count": 1,
        ]
        do {
            _ = try await client.create(Event(json: event), namespace: object.namespace)
            seen[key] = Seen(name: name, count: 1, firstTimestamp: now, used: uses)
            evictIfNeeded()
        } catch {
            logger.warning(
                "could not create an event", metadata: ["reason": "\(reason)", "error": "\(error)"])
        }
    }

    private func evictIfNeeded() {
        guard seen.count > capacity, let oldest = seen.min(by: { $0.value.used < $1.value.used }) else {
            return
        }
        seen[oldest.key] = nil
    }
}

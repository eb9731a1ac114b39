/// One change of a watched object.
public struct WatchEvent<Object: KubeObjectView>: Sendable {
    public enum Kind: String, Sendable {
        case added = "ADDED"
        case modified = "MODIFIED"
        case deleted = "DELETED"
        /// The server's progress note: only `resourceVersion` is meaningful in `object`.
        case bookmark = "BOOKMARK"
    }

    public var kind: Kind
    public var object: Object

    public init(kind: Kind, object: Object) {
        self.kind = kind
        self.object = object
    }
}

/// How to watch: which objects, from where, and how long each server-side watch lasts.
public struct WatchOptions: Sendable {
    public var labelSelector: String?
    public var fieldSelector: String?
    /// Start after this version. `nil`: list first and deliver the current objects as
    /// `added`, then watch from the list's version.
    public var resourceVersion: String?
    /// Deliver the server's `BOOKMARK` events too (they always advance the resume point).
    public var includeBookmarks: Bool
    /// `timeoutSeconds` asked of the server per watch request; the watch reconnects after
    /// it. `nil` picks 5 to 10 minutes at random, as client-go does.
    public var serverTimeoutSeconds: Int?
    /// Waits between reconnects after failures (exponential with jitter, reset by success).
    public var reconnectBackoff: RetryPolicy
    /// Told each time the watch starts again after its stream ended, and why (for metrics).
    public var onRestart: (@Sendable (WatchRestart) -> Void)?

    public init(
        labelSelector: String? = nil, fieldSelector: String? = nil, resourceVersion: String? = nil,
        includeBookmarks: Bool = false, serverTimeoutSeconds: Int? = nil,
        reconnectBackoff: RetryPolicy = RetryPolicy(
            maximumAttempts: .max, initialBackoff: .milliseconds(500), maximumBackoff: .seconds(30))
    ) {
        self.labelSelector = labelSelector
        self.fieldSelector = fieldSelector
        self.resourceVersion = resourceVersion
        self.includeBookmarks = includeBookmarks
        self.serverTimeoutSeconds = serverTimeoutSeconds
        self.reconnectBackoff = reconnectBackoff
    }

    /// Watches the single object `name` (the field selector RBAC `resourceNames` needs).
    public static func named(_ name: String) -> WatchOptions {
        WatchOptions(fieldSelector: "metadata.name=\(name)")
    }

    var listOptions: ListOptions { ListOptions(labelSelector: labelSelector, fieldSelector: fieldSelector) }
}

/// Why a watch started again.
public enum WatchRestart: String, Sendable, CaseIterable {
    /// The server ended the stream: normally at `timeoutSeconds`, or when it shed load.
    case ended
    /// The version to resume from was too old (410 Gone): the objects were listed again.
    case expired
    /// The connection was lost or the server failed; it was opened again after a backoff.
    case failed
}

/// What the watch machinery hands its consumers: a batch that brings the known state up to
/// date (after the first list or a relist), or a single event.
enum WatchSignal<Object: KubeObjectView>: Sendable {
    case resync([WatchEvent<Object>])
    case event(WatchEvent<Object>)
}

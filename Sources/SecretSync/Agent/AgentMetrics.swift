import Metrics
import KubeAPI
import TimeFormat

/// The agent's metrics, through swift-metrics (the executable exports them in Prometheus text
/// format on `/metrics`). Names follow Prometheus conventions; no label ever holds a value.
public enum AgentMetrics {
    /// Reconcile passes by result: `success`, `conflict` (retried after a 409), `error`.
    public static func reconciled(result: String) {
        Counter(label: "beluga_secrets_reconciles_total", dimensions: [("result", result)]).increment()
    }

    /// A key's value changed in the Secret (created, rotated, set back, deleted).
    public static func rotated(namespace: String, key: String) {
        Counter(
            label: "beluga_secrets_rotations_total", dimensions: [("namespace", namespace), ("key", key)]
        )
        .increment()
    }

    /// An envelope was refused.
    public static func rejected(namespace: String, key: String) {
        Counter(
            label: "beluga_secrets_rejections_total", dimensions: [("namespace", namespace), ("key", key)]
        )
        .increment()
    }

    /// A field of an object someone else may write was out of bounds, or the agent's status object
    /// was changed by someone else (`object`: `sealed-store`, `status`, `signers`, `secret`, …).
    public static func inputRejected(namespace: String, object: String) {
        Counter(
            label: "beluga_secrets_input_rejected_total",
            dimensions: [("namespace", namespace), ("object", object)]
        ).increment()
    }

    /// A Deployment's pods were rolled.
    public static func rolledOut(namespace: String, deployment: String) {
        Counter(
            label: "beluga_secrets_rollouts_total",
            dimensions: [("namespace", namespace), ("deployment", deployment)]
        ).increment()
    }

    /// A write of the agent met conflicts past its retries (`kind` of the object written); the
    /// namespace is tried again later.
    public static func conflictPersisted(namespace: String, kind: String) {
        Counter(
            label: "beluga_secrets_conflicts_persisted_total",
            dimensions: [("namespace", namespace), ("kind", kind)]
        ).increment()
    }

    /// A watch event that only echoed the agent's own write, and started no reconcile.
    public static func watchEchoSkipped() {
        Counter(label: "beluga_secrets_watch_echoes_skipped_total").increment()
    }

    /// A watch ended and was started again, for `reason` (`ended`, `expired`, `failed`).
    public static func watchRestarted(resource: String, reason: String) {
        Counter(
            label: "beluga_secrets_watch_restarts_total",
            dimensions: [("resource", resource), ("reason", reason)]
        ).increment()
    }

    /// A Kubernetes API request finished with `code` (the HTTP status, or `error` when none came).
    public static func apiRequest(code: String) {
        Counter(label: "beluga_secrets_api_requests_total", dimensions: [("code", code)]).increment()
    }

    /// Counts every request of the client it is given to (`KubeClient`'s request observer):
    /// `2xx` for a success, else the status, or `error` when no answer came.
    public static let requestObserver: KubeClient.RequestObserver = { status in
        guard let status else { return apiRequest(code: "error") }
        apiRequest(code: (200..<300).contains(status) ? "2xx" : String(status))
    }

    /// When the last successful reconcile ended (Unix seconds).
    public static func synced(at time: UnixTime = .now()) {
        Gauge(label: "beluga_secrets_last_sync_timestamp_seconds").record(time.secondsSince1970)
    }

    /// How old the current version of a key is (seconds since it was sealed).
    public static func keyAge(namespace: String, key: String, seconds: Double) {
        Gauge(label: "beluga_secrets_key_age_seconds", dimensions: [("namespace", namespace), ("key", key)])
            .record(seconds)
    }

    /// A key's maximum age (`beluga-ai.io/key-max-age`); 0 once the key has none. The chart's
    /// alert `BelugaSecretsKeyOverdue` compares it with `beluga_secrets_key_age_seconds`, by key.
    public static func keyMaxAge(namespace: String, key: String, seconds: Double) {
        Gauge(
            label: "beluga_secrets_key_max_age_seconds", dimensions: [("namespace", namespace), ("key", key)]
        )
        .record(seconds)
    }

    /// How old the current sealing key is.
    public static func sealingKeyAge(namespace: String, seconds: Double) {
        Gauge(label: "beluga_secrets_sealing_key_age_seconds", dimensions: [("namespace", namespace)])
            .record(seconds)
    }

    /// 1 while this replica leads, else 0.
    public static func leader(_ leading: Bool) {
        Gauge(label: "beluga_secrets_leader").record(leading ? 1 : 0)
    }
}

import TimeFormat

/// Times in the forms Kubernetes writes them: RFC 3339 in UTC, whole seconds for metadata
/// timestamps (`metav1.Time`), microseconds for `metav1.MicroTime` (leases, events.k8s.io).
enum Clock {
    static func timestamp(_ time: UnixTime = .now()) -> String { RFC3339.format(time) }

    static func microTimestamp(_ time: UnixTime = .now()) -> String {
        RFC3339.format(time, fractionDigits: 6)
    }

    static func format(_ time: UnixTime, fractionDigits: Int) -> String {
        RFC3339.format(time, fractionDigits: fractionDigits)
    }

    static func parse(_ text: String) -> UnixTime? { RFC3339.parse(text) }
}

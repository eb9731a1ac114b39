import TimeFormat

/// Kubernetes time formats: `Time` (RFC 3339, whole seconds) and `MicroTime` (microseconds).
public enum KubeTime {
    /// `2006-01-02T15:04:05Z`, as object metadata and core/v1 Events carry it.
    public static func time(_ time: UnixTime = .now()) -> String { RFC3339.format(time) }

    /// `2006-01-02T15:04:05.000000Z`, as Lease `renewTime` wants it.
    public static func microTime(_ time: UnixTime = .now()) -> String {
        RFC3339.format(time, fractionDigits: 6)
    }

    /// Parses `Time` or `MicroTime` (any RFC 3339 time; offsets are converted to UTC).
    public static func parse(_ text: String) -> UnixTime? { RFC3339.parse(text) }
}

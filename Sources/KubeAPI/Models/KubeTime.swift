import Foundation

/// Kubernetes time formats: `Time` (RFC 3339, seconds) and `MicroTime` (microseconds).
public enum KubeTime {
    public static func time(_ date: Date = Date()) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: date)
    }

    /// `2006-01-02T15:04:05.000000Z`, as Lease `renewTime` wants it.
    public static func microTime(_ date: Date = Date()) -> String {
        let seconds = floor(date.timeIntervalSince1970)
        let micros = Int((date.timeIntervalSince1970 - seconds) * 1_000_000)
        let base = time(Date(timeIntervalSince1970: seconds)).dropLast()  // drop "Z"
        let fraction = String(micros)
        return "\(base).\(String(repeating: "0", count: max(0, 6 - fraction.count)))\(fraction)Z"
    }

    /// Parses `Time` or `MicroTime`.
    public static func parse(_ text: String) -> Date? { ExecPluginRun.parseTimestamp(text) }
}

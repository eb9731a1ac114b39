#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// A moment on the wall clock: whole seconds and nanoseconds since 1970-01-01T00:00:00Z, the
/// resolution of Go's `time.Time` and so of every time Kubernetes writes. Without Foundation's
/// `Date`, so that the product's modules do not link Foundation.
public struct UnixTime: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Seconds since the epoch (negative before 1970).
    public let seconds: Int64
    /// The nanoseconds within that second, 0 to 999,999,999.
    public let nanoseconds: Int32

    /// `seconds` and `nanoseconds` since the epoch; nanoseconds outside 0..<1e9 carry into the
    /// seconds.
    public init(seconds: Int64, nanoseconds: Int64 = 0) {
        let (carry, remainder) = nanoseconds.quotientAndRemainder(dividingBy: 1_000_000_000)
        if remainder < 0 {
            self.seconds = seconds + carry - 1
            self.nanoseconds = Int32(remainder + 1_000_000_000)
        } else {
            self.seconds = seconds + carry
            self.nanoseconds = Int32(remainder)
        }
    }

    /// A time given as seconds since the epoch in a `Double` (Foundation's
    /// `timeIntervalSince1970`), rounded to the microsecond: a `Double` near the present holds
    /// a time to about a quarter of a microsecond, so finer digits would be noise, and a time
    /// with microseconds survives the round trip through a `Double` unchanged.
    public init(secondsSince1970 value: Double) {
        let micros = (value * 1_000_000).rounded()
        // Beyond ±2^62 µs (±146,000 years) a time means nothing here: clamp instead of trapping.
        let clamped = Int64(max(-0x1p62, min(0x1p62, micros.isNaN ? 0 : micros)))
        let (whole, fraction) = clamped.quotientAndRemainder(dividingBy: 1_000_000)
        self.init(seconds: whole, nanoseconds: fraction * 1000)
    }

    /// Seconds since the epoch as a `Double` (for Foundation's `Date(timeIntervalSince1970:)`,
    /// metrics and arithmetic where a quarter of a microsecond does not matter).
    public var secondsSince1970: Double { Double(seconds) + Double(nanoseconds) / 1e9 }

    /// Nanoseconds since the epoch, the number client-go names Events with; clamped to the
    /// range of `Int64` (the years 1678 to 2262).
    public var nanosecondsSince1970: Int64 {
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return seconds < 0 ? .min : .max }
        let (total, overflowAgain) = scaled.addingReportingOverflow(Int64(nanoseconds))
        return overflowAgain ? .max : total
    }

    /// The wall-clock time now (`CLOCK_REALTIME`).
    public static func now() -> UnixTime {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return UnixTime(seconds: Int64(spec.tv_sec), nanoseconds: Int64(spec.tv_nsec))
    }

    /// The same moment without its fraction of a second (as `metav1.Time` keeps it).
    public var wholeSeconds: UnixTime { UnixTime(seconds: seconds) }

    public static func < (lhs: UnixTime, rhs: UnixTime) -> Bool {
        (lhs.seconds, lhs.nanoseconds) < (rhs.seconds, rhs.nanoseconds)
    }

    public static func + (time: UnixTime, duration: Duration) -> UnixTime {
        let (seconds, attoseconds) = duration.components
        return UnixTime(
            seconds: time.seconds + seconds,
            nanoseconds: Int64(time.nanoseconds) + attoseconds / 1_000_000_000)
    }

    public static func - (time: UnixTime, duration: Duration) -> UnixTime { time + (.zero - duration) }

    /// The time from `rhs` to `lhs` (negative when `lhs` is earlier).
    public static func - (lhs: UnixTime, rhs: UnixTime) -> Duration {
        .seconds(lhs.seconds - rhs.seconds) + .nanoseconds(Int64(lhs.nanoseconds) - Int64(rhs.nanoseconds))
    }

    /// RFC 3339 in UTC with as many fractional digits as the time needs (0, 3, 6 or 9), for
    /// messages and test failures.
    public var description: String {
        let digits =
            nanoseconds == 0 ? 0 : nanoseconds % 1_000_000 == 0 ? 3 : nanoseconds % 1000 == 0 ? 6 : 9
        return RFC3339.format(self, fractionDigits: digits)
    }
}

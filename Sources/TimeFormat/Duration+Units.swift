/// `Duration` in the units C APIs, metrics and messages want. The standard library builds a
/// `Duration` from any unit but reads it back only as `components`; these are the package's one
/// set of conversions back.
extension Duration {
    /// Seconds, with the fraction (metrics, arithmetic with `Double`).
    public var inSeconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }

    /// Whole milliseconds, rounded towards zero (libcurl's `*_MS` options, poll timeouts).
    public var inMilliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }

    /// Whole microseconds, rounded towards zero.
    public var inMicroseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000 + attoseconds / 1_000_000_000_000
    }

}

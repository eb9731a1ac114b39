/// RFC 3339 date-times (`2026-11-25T19:58:14Z`, `…14.123456Z`, `…14+01:00`), the form of every
/// time Kubernetes and beluga-secrets write.
///
/// Parsing is strict, like Go's `time.Parse(time.RFC3339, …)` that the API server uses: four
/// digit years, two digit fields, each within its range (February 29 only in leap years, no
/// leap second 60), an offset `Z` or `±hh:mm` (hours below 24, minutes below 60), nothing before
/// or after. Unlike Go, the lower-case `t` and `z` that RFC 3339 allows are accepted. Fractional
/// seconds may have any number of digits; those beyond the nanosecond are dropped, as Go does.
/// Formatting always writes UTC with `Z`, truncating to the digits asked for (as Go does).
public enum RFC3339 {
    /// The moment `text` names, or `nil` when it is not an RFC 3339 date-time.
    public static func parse(_ text: some StringProtocol) -> UnixTime? {
        parseKeepingOffset(text)?.time
    }

    /// The moment `text` names and the offset it was written with, in seconds east of UTC
    /// (0 for `Z`, `+00:00` and `-00:00`).
    public static func parseKeepingOffset(_ text: some StringProtocol) -> (time: UnixTime, utcOffset: Int)? {
        var text = String(text)
        return text.withUTF8 { parse(bytes: $0) }
    }

    /// Whether `text` is an RFC 3339 date-time written in UTC (`Z`, `+00:00` or `-00:00`).
    public static func isValidUTC(_ text: some StringProtocol) -> Bool {
        parseKeepingOffset(text)?.utcOffset == 0
    }

    /// `time` in UTC with `fractionDigits` digits of the second (0 to 9; 0 writes no fraction,
    /// the form of `metav1.Time`; 6 is `metav1.MicroTime`), truncated, not rounded.
    public static func format(_ time: UnixTime, fractionDigits: Int = 0) -> String {
        let civil = CivilTime(time)
        var text = ""
        text.reserveCapacity(30)
        appendPadded(civil.date.year, width: 4, to: &text)
        text += "-"
        appendPadded(civil.date.month, width: 2, to: &text)
        text += "-"
        appendPadded(civil.date.day, width: 2, to: &text)
        text += "T"
        appendPadded(civil.hour, width: 2, to: &text)
        text += ":"
        appendPadded(civil.minute, width: 2, to: &text)
        text += ":"
        appendPadded(civil.second, width: 2, to: &text)
        let digits = min(max(fractionDigits, 0), 9)
        if digits > 0 {
            var divisor = 1
            for _ in digits..<9 { divisor *= 10 }
            text += "."
            appendPadded(Int(time.nanoseconds) / divisor, width: digits, to: &text)
        }
        text += "Z"
        return text
    }

    /// The grammar of RFC 3339 §5.6 `date-time`, with Go's ranges.
    private static func parse(bytes: UnsafeBufferPointer<UInt8>) -> (time: UnixTime, utcOffset: Int)? {
        guard bytes.count >= 20 else { return nil }
        func number(_ start: Int, _ length: Int) -> Int? {
            guard start + length <= bytes.count else { return nil }
            var value = 0
            for index in start..<start + length {
                let byte = bytes[index]
                guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
                value = value * 10 + Int(byte - UInt8(ascii: "0"))
            }
            return value
        }
        guard let year = number(0, 4), bytes[4] == UInt8(ascii: "-"),
            let month = number(5, 2), bytes[7] == UInt8(ascii: "-"), let day = number(8, 2),
            bytes[10] == UInt8(ascii: "T") || bytes[10] == UInt8(ascii: "t"),
            let hour = number(11, 2), bytes[13] == UInt8(ascii: ":"),
            let minute = number(14, 2), bytes[16] == UInt8(ascii: ":"), let second = number(17, 2),
            (1...12).contains(month), day >= 1, day <= CivilDate.daysIn(month: month, year: year),
            hour < 24, minute < 60, second < 60
        else { return nil }

        var index = 19
        var nanoseconds = 0
        if bytes[index] == UInt8(ascii: ".") {
            index += 1
            let start = index
            var scale = 100_000_000
            while index < bytes.count, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") {
                nanoseconds += Int(bytes[index] - UInt8(ascii: "0")) * scale
                scale /= 10
                index += 1
            }
            guard index > start else { return nil }
        }

        guard index < bytes.count else { return nil }
        let offset: Int
        switch bytes[index] {
        case UInt8(ascii: "Z"), UInt8(ascii: "z"):
            guard index + 1 == bytes.count else { return nil }
            offset = 0
        case UInt8(ascii: "+"), UInt8(ascii: "-"):
            guard index + 6 == bytes.count, let hours = number(index + 1, 2),
                bytes[index + 3] == UInt8(ascii: ":"),
                let minutes = number(index + 4, 2), hours < 24, minutes < 60
            else { return nil }
            offset = (hours * 60 + minutes) * 60 * (bytes[index] == UInt8(ascii: "-") ? -1 : 1)
        default:
            return nil
        }
        let local = CivilTime.seconds(
            CivilDate(year: year, month: month, day: day), hour: hour, minute: minute, second: second)
        return (UnixTime(seconds: local - Int64(offset), nanoseconds: Int64(nanoseconds)), offset)
    }
}

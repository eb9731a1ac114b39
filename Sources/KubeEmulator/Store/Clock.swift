import Foundation

/// Times in the forms Kubernetes writes them: RFC 3339 in UTC, whole seconds for metadata
/// timestamps (`metav1.Time`), microseconds for `metav1.MicroTime` (leases, events.k8s.io).
enum Clock {
    static func timestamp(_ date: Date = Date()) -> String {
        format(date, fractionDigits: 0)
    }

    static func microTimestamp(_ date: Date = Date()) -> String {
        format(date, fractionDigits: 6)
    }

    static func format(_ date: Date, fractionDigits: Int) -> String {
        let interval = date.timeIntervalSince1970
        var seconds = time_t(interval.rounded(.down))
        var parts = tm()
        gmtime_r(&seconds, &parts)
        var text = String(
            format: "%04d-%02d-%02dT%02d:%02d:%02d", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1,
            Int(parts.tm_mday), Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec))
        if fractionDigits > 0 {
            let fraction = interval - interval.rounded(.down)
            let scaled = Int((fraction * pow(10, Double(fractionDigits))).rounded(.down))
            text += "." + String(format: "%0\(fractionDigits)d", scaled)
        }
        return text + "Z"
    }

    /// Parses RFC 3339 (`2024-05-01T10:00:00Z`, `...00.123456Z`, `...00+02:00`).
    static func parse(_ text: String) -> Date? {
        let scalars = Array(text.utf8)
        guard scalars.count >= 20 else { return nil }
        func number(_ range: Range<Int>) -> Int? {
            guard range.upperBound <= scalars.count else { return nil }
            return Int(String(decoding: scalars[range], as: UTF8.self))
        }
        guard let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
            let hour = number(11..<13), let minute = number(14..<16), let second = number(17..<19)
        else { return nil }
        var index = 19
        var fraction = 0.0
        if index < scalars.count, scalars[index] == UInt8(ascii: ".") {
            index += 1
            let start = index
            while index < scalars.count, (48...57).contains(scalars[index]) { index += 1 }
            fraction = Double("0." + String(decoding: scalars[start..<index], as: UTF8.self)) ?? 0
        }
        var offset = 0
        guard index < scalars.count else { return nil }
        if scalars[index] == UInt8(ascii: "Z") || scalars[index] == UInt8(ascii: "z") {
            offset = 0
        } else if scalars[index] == UInt8(ascii: "+") || scalars[index] == UInt8(ascii: "-") {
            guard let hours = number((index + 1)..<(index + 3)),
                let minutes = number((index + 4)..<(index + 6))
            else { return nil }
            offset = (hours * 3600 + minutes * 60) * (scalars[index] == UInt8(ascii: "-") ? -1 : 1)
        } else {
            return nil
        }
        var parts = tm()
        parts.tm_year = Int32(year - 1900)
        parts.tm_mon = Int32(month - 1)
        parts.tm_mday = Int32(day)
        parts.tm_hour = Int32(hour)
        parts.tm_min = Int32(minute)
        parts.tm_sec = Int32(second)
        let epoch = timegm(&parts)
        return Date(timeIntervalSince1970: Double(epoch - offset) + fraction)
    }
}

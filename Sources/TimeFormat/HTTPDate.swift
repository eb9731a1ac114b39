/// HTTP dates in the IMF-fixdate form of RFC 9110 §5.6.7 (`Sun, 06 Nov 1994 08:49:37 GMT`), the
/// form servers write in `Retry-After` and `Date`. The obsolete RFC 850 and asctime forms are
/// not read: RFC 9110 asks senders to write IMF-fixdate, and the API server does.
public enum HTTPDate {
    private static let weekdays = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    private static let months = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ]

    /// The moment `text` names, or `nil` when it is not an IMF-fixdate with valid fields.
    public static func parse(_ text: some StringProtocol) -> UnixTime? {
        let bytes = Array(text.utf8)
        guard bytes.count == 29 else { return nil }
        func word(_ start: Int) -> String { String(decoding: bytes[start..<start + 3], as: UTF8.self) }
        func number(_ start: Int, _ length: Int) -> Int? {
            var value = 0
            for byte in bytes[start..<start + length] {
                guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
                value = value * 10 + Int(byte - UInt8(ascii: "0"))
            }
            return value
        }
        guard weekdays.contains(word(0)), bytes[3] == UInt8(ascii: ","), bytes[4] == UInt8(ascii: " "),
            let day = number(5, 2), bytes[7] == UInt8(ascii: " "),
            let monthIndex = months.firstIndex(of: word(8)), bytes[11] == UInt8(ascii: " "),
            let year = number(12, 4), bytes[16] == UInt8(ascii: " "),
            let hour = number(17, 2), bytes[19] == UInt8(ascii: ":"),
            let minute = number(20, 2), bytes[22] == UInt8(ascii: ":"),
            let second = number(23, 2), word(25) == " GM", bytes[28] == UInt8(ascii: "T"),
            day >= 1, day <= CivilDate.daysIn(month: monthIndex + 1, year: year), hour < 24, minute < 60,
            second < 61
        else { return nil }
        // A leap second (60) is allowed by RFC 9110; it counts as the next second.
        return UnixTime(
            seconds: CivilTime.seconds(
                CivilDate(year: year, month: monthIndex + 1, day: day), hour: hour, minute: minute,
                second: second))
    }

    /// `time` as IMF-fixdate.
    public static func format(_ time: UnixTime) -> String {
        let civil = CivilTime(time)
        let (days, _) = floorDivision(time.seconds, 86_400)
        // 1970-01-01 was a Thursday (index 3 from Monday).
        let weekday = Int(floorDivision(days + 3, 7).remainder)
        var text = weekdays[weekday] + ", "
        appendPadded(civil.date.day, width: 2, to: &text)
        text += " " + months[civil.date.month - 1] + " "
        appendPadded(civil.date.year, width: 4, to: &text)
        text += " "
        appendPadded(civil.hour, width: 2, to: &text)
        text += ":"
        appendPadded(civil.minute, width: 2, to: &text)
        text += ":"
        appendPadded(civil.second, width: 2, to: &text)
        return text + " GMT"
    }
}

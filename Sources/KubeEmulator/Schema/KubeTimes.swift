import TimeFormat

/// `metav1.Time` and `metav1.MicroTime` as the API server decodes and writes them.
///
/// Decoding is Go's `time.Parse` with the layouts `2006-01-02T15:04:05Z07:00` (Time: any
/// number of fraction digits) and `2006-01-02T15:04:05.000000Z07:00` (MicroTime: exactly six),
/// so a value the real server refuses is refused here with the same message. The instant comes
/// from the package's RFC 3339 parser; the server then writes it in UTC, in whole seconds or
/// with six fraction digits.
enum KubeTimes {
    struct Problem: Error, Equatable {
        var message: String
    }

    static let timeLayout = "2006-01-02T15:04:05Z07:00"
    static let microTimeLayout = "2006-01-02T15:04:05.000000Z07:00"

    /// The value as the server stores and returns it, or Go's parse error.
    static func decode(_ text: String, micro: Bool) -> Result<String, Problem> {
        if let problem = GoTimeLayout.problem(parsing: text, micro: micro) {
            return .failure(Problem(message: problem))
        }
        guard let instant = RFC3339.parse(text) else {
            return .failure(
                Problem(
                    message:
                        "parsing time \(goQuote(text)) as \(goQuote(micro ? microTimeLayout : timeLayout)): cannot parse \(goQuote(text)) as \"2006\""
                ))
        }
        return .success(RFC3339.format(instant, fractionDigits: micro ? 6 : 0))
    }
}

/// Go's `time.Parse` for the two RFC 3339 layouts of the API, walked element by element to find
/// the first one a value breaks, worded as Go words it (`cannot parse "Z" as ".000000"`,
/// `month out of range`, `extra text`).
enum GoTimeLayout {
    /// nil when Go accepts `text`.
    static func problem(parsing text: String, micro: Bool) -> String? {
        let layout = micro ? KubeTimes.microTimeLayout : KubeTimes.timeLayout
        let value = Array(text.utf8)
        var rest = value[...]
        func cannotParse(_ element: String, at remaining: ArraySlice<UInt8>) -> String {
            "parsing time \(goQuote(text)) as \(goQuote(layout)): cannot parse \(goQuote(String(decoding: remaining, as: UTF8.self))) as \(goQuote(element))"
        }
        func outOfRange(_ what: String) -> String { "parsing time \(goQuote(text)): \(what) out of range" }
        func literal(_ expected: String) -> Bool {
            let bytes = Array(expected.utf8)
            guard rest.starts(with: bytes) else { return false }
            rest = rest.dropFirst(bytes.count)
            return true
        }
        func isDigit(_ index: Int) -> Bool {
            index < rest.count && rest[rest.startIndex + index] >= 48 && rest[rest.startIndex + index] <= 57
        }
        /// Go's `getnum`: one or two digits (exactly two when `fixed`).
        func number(fixed: Bool) -> Int? {
            guard isDigit(0) else { return nil }
            guard isDigit(1) else {
                if fixed { return nil }
                let digit = Int(rest[rest.startIndex] - 48)
                rest = rest.dropFirst()
                return digit
            }
            let result = Int(rest[rest.startIndex] - 48) * 10 + Int(rest[rest.startIndex + 1] - 48)
            rest = rest.dropFirst(2)
            return result
        }

        // 2006
        guard rest.count >= 4, (0..<4).allSatisfy(isDigit) else { return cannotParse("2006", at: rest) }
        let year = Int(String(decoding: rest.prefix(4), as: UTF8.self)) ?? 0
        rest = rest.dropFirst(4)
        guard literal("-") else { return cannotParse("-", at: rest) }
        var hold = rest
        guard let month = number(fixed: true) else { return cannotParse("01", at: hold) }
        if month < 1 || month > 12 { return outOfRange("month") }
        guard literal("-") else { return cannotParse("-", at: rest) }
        hold = rest
        guard let day = number(fixed: true) else { return cannotParse("02", at: hold) }
        if day > 31 { return outOfRange("day") }
        guard literal("T") else { return cannotParse("T", at: rest) }
        hold = rest
        guard let hour = number(fixed: false) else { return cannotParse("15", at: hold) }
        if hour >= 24 { return outOfRange("hour") }
        guard literal(":") else { return cannotParse(":", at: rest) }
        hold = rest
        guard let minute = number(fixed: true) else { return cannotParse("04", at: hold) }
        if minute >= 60 { return outOfRange("minute") }
        guard literal(":") else { return cannotParse(":", at: rest) }
        hold = rest
        guard let second = number(fixed: true) else { return cannotParse("05", at: hold) }
        if second >= 60 { return outOfRange("second") }
        if micro {
            // ".000000" takes exactly a period and six digits.
            guard rest.count >= 7, rest.first == UInt8(ascii: "."), (1...6).allSatisfy(isDigit) else {
                return cannotParse(".000000", at: rest)
            }
            rest = rest.dropFirst(7)
        } else if rest.count >= 2, rest.first == UInt8(ascii: ".") || rest.first == UInt8(ascii: ","),
            isDigit(1)
        {
            // A fraction the layout does not name is read anyway.
            rest = rest.dropFirst()
            while isDigit(0) { rest = rest.dropFirst() }
        }
        // Z07:00
        hold = rest
        if rest.first == UInt8(ascii: "Z") {
            rest = rest.dropFirst()
        } else {
            guard rest.count >= 6, rest.first == UInt8(ascii: "+") || rest.first == UInt8(ascii: "-"),
                rest[rest.startIndex + 3] == UInt8(ascii: ":")
            else { return cannotParse("Z07:00", at: hold) }
            rest = rest.dropFirst()
            guard let offsetHours = number(fixed: true), literal(":"), let offsetMinutes = number(fixed: true)
            else {
                return cannotParse("Z07:00", at: hold)
            }
            if offsetHours > 24 { return outOfRange("time zone offset hour") }
            if offsetMinutes > 60 { return outOfRange("time zone offset minute") }
        }
        if !rest.isEmpty {
            return
                "parsing time \(goQuote(text)): extra text: \(goQuote(String(decoding: rest, as: UTF8.self)))"
        }
        let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
        let days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        if day < 1 || day > days[month - 1] { return outOfRange("day") }
        return nil
    }
}

/// Calendar arithmetic in the proleptic Gregorian calendar, in UTC (Howard Hinnant's
/// `days_from_civil` and `civil_from_days`): no time zone database, no `timegm`, exact for
/// every year RFC 3339 can write.
struct CivilDate: Equatable {
    var year: Int
    var month: Int
    var day: Int

    static func isLeapYear(_ year: Int) -> Bool { year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return isLeapYear(year) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Days since 1970-01-01.
    var daysSinceEpoch: Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    init(year: Int, month: Int, day: Int) {
        self.year = year
        self.month = month
        self.day = day
    }

    init(daysSinceEpoch days: Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
    }
}

/// A UTC time split into its calendar fields.
struct CivilTime {
    var date: CivilDate
    var hour: Int
    var minute: Int
    var second: Int

    init(_ time: UnixTime) {
        let (days, secondOfDay) = floorDivision(time.seconds, 86_400)
        date = CivilDate(daysSinceEpoch: Int(days))
        hour = Int(secondOfDay / 3600)
        minute = Int(secondOfDay / 60 % 60)
        second = Int(secondOfDay % 60)
    }

    /// Seconds since the epoch of a date and a time of day in UTC (fields already checked).
    static func seconds(_ date: CivilDate, hour: Int, minute: Int, second: Int) -> Int64 {
        Int64(date.daysSinceEpoch) * 86_400 + Int64(hour * 3600 + minute * 60 + second)
    }
}

/// Division rounding towards negative infinity, with a remainder that is never negative.
func floorDivision(_ value: Int64, _ divisor: Int64) -> (quotient: Int64, remainder: Int64) {
    let (quotient, remainder) = value.quotientAndRemainder(dividingBy: divisor)
    return remainder < 0 ? (quotient - 1, remainder + divisor) : (quotient, remainder)
}

/// Appends `value` in decimal, padded with zeros to `width` digits.
func appendPadded(_ value: Int, width: Int, to text: inout String) {
    let digits = String(value.magnitude)
    if value < 0 { text += "-" }
    if digits.utf8.count < width { text += String(repeating: "0", count: width - digits.utf8.count) }
    text += digits
}

import Testing
import TimeFormat

@Suite struct UnixTimeTests {
    @Test func nanosecondsCarryIntoSeconds() {
        #expect(
            UnixTime(seconds: 10, nanoseconds: 1_500_000_000)
                == UnixTime(seconds: 11, nanoseconds: 500_000_000))
        #expect(UnixTime(seconds: 10, nanoseconds: -1) == UnixTime(seconds: 9, nanoseconds: 999_999_999))
        #expect(UnixTime(seconds: 0, nanoseconds: -1_000_000_000) == UnixTime(seconds: -1))
    }

    @Test func arithmeticWithDurations() {
        let time = UnixTime(seconds: 100, nanoseconds: 800_000_000)
        #expect(time + .milliseconds(300) == UnixTime(seconds: 101, nanoseconds: 100_000_000))
        #expect(time - .milliseconds(900) == UnixTime(seconds: 99, nanoseconds: 900_000_000))
        #expect(time + .seconds(-200) == UnixTime(seconds: -100, nanoseconds: 800_000_000))
        #expect(UnixTime(seconds: 101, nanoseconds: 100_000_000) - time == .milliseconds(300))
        #expect(time - UnixTime(seconds: 101, nanoseconds: 100_000_000) == .milliseconds(-300))
        #expect(time < time + .nanoseconds(1))
        #expect(!(time < time))
    }

    @Test func doublesRoundTripAtTheMicrosecond() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<10_000 {
            let time = UnixTime(
                seconds: Int64.random(in: 0...4_102_444_800, using: &generator),
                nanoseconds: Int64.random(in: 0..<1_000_000, using: &generator) * 1000)
            #expect(UnixTime(secondsSince1970: time.secondsSince1970) == time)
        }
        #expect(UnixTime(secondsSince1970: -0.5) == UnixTime(seconds: -1, nanoseconds: 500_000_000))
        #expect(UnixTime(secondsSince1970: .nan) == UnixTime(seconds: 0))
        #expect(UnixTime(secondsSince1970: .infinity) > UnixTime(seconds: 253_402_300_799))
    }

    @Test func nanosecondsSinceTheEpochClampInsteadOfTrapping() {
        #expect(UnixTime(seconds: 1, nanoseconds: 5).nanosecondsSince1970 == 1_000_000_005)
        #expect(UnixTime(seconds: -1, nanoseconds: 5).nanosecondsSince1970 == -999_999_995)
        #expect(UnixTime(seconds: 253_402_300_799).nanosecondsSince1970 == .max)
        #expect(UnixTime(seconds: -62_167_219_200).nanosecondsSince1970 == .min)
    }

    @Test func nowIsTheWallClock() {
        let now = UnixTime.now()
        // Any machine running this was set after this file was written, and before the year 2100.
        #expect(now > RFC3339.parse("2025-01-01T00:00:00Z")!)
        #expect(now < RFC3339.parse("2100-01-01T00:00:00Z")!)
    }

    @Test func descriptionShowsTheDigitsTheTimeHas() {
        #expect(UnixTime(seconds: 0).description == "1970-01-01T00:00:00Z")
        #expect(UnixTime(seconds: 0, nanoseconds: 250_000_000).description == "1970-01-01T00:00:00.250Z")
        #expect(UnixTime(seconds: 0, nanoseconds: 250_001_000).description == "1970-01-01T00:00:00.250001Z")
        #expect(UnixTime(seconds: 0, nanoseconds: 1).description == "1970-01-01T00:00:00.000000001Z")
    }
}

@Suite struct DurationUnitsTests {
    @Test func conversions() {
        #expect(Duration.milliseconds(1500).inSeconds == 1.5)
        #expect(Duration.milliseconds(1500).inMilliseconds == 1500)
        #expect(Duration.microseconds(1999).inMilliseconds == 1)
        #expect(Duration.microseconds(-1999).inMilliseconds == -1)
        #expect(Duration.seconds(3).inMicroseconds == 3_000_000)
        #expect(Duration.nanoseconds(1999).inMicroseconds == 1)
        #expect(Duration.seconds(-2).inSeconds == -2)
    }
}

@Suite struct HTTPDateTests {
    @Test func readsAndWritesIMFFixdate() {
        let time = UnixTime(seconds: 784_111_777)
        #expect(HTTPDate.parse("Sun, 06 Nov 1994 08:49:37 GMT") == time)
        #expect(HTTPDate.format(time) == "Sun, 06 Nov 1994 08:49:37 GMT")
        #expect(HTTPDate.format(UnixTime(seconds: 0)) == "Thu, 01 Jan 1970 00:00:00 GMT")
        #expect(HTTPDate.format(UnixTime(seconds: 1_795_636_694)) == "Wed, 25 Nov 2026 19:58:14 GMT")
        #expect(
            HTTPDate.parse(HTTPDate.format(UnixTime(seconds: 1_795_636_694)))
                == UnixTime(seconds: 1_795_636_694))
    }

    @Test func refusesOtherFormsAndBadFields() {
        for text in [
            "", "Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994", "Sun, 06 Nov 1994 08:49:37 UTC",
            "Sun, 31 Nov 1994 08:49:37 GMT", "Sun, 06 Nov 1994 24:49:37 GMT", "Xyz, 06 Nov 1994 08:49:37 GMT",
            "Sun, 06 Non 1994 08:49:37 GMT", "Sun, 6 Nov 1994 08:49:37 GMT", "Sun, 06 Nov 1994 08:49:37 GMT ",
        ] {
            #expect(HTTPDate.parse(text) == nil, "\(text)")
        }
    }
}

import Testing
import TimeFormat

#if canImport(Glibc)
    import Glibc
#endif

@Suite struct RFC3339Tests {
    private let sample = UnixTime(seconds: 1_795_636_694)

    @Test func formatsUTCInWholeSecondsAndWithFractions() {
        #expect(RFC3339.format(sample) == "2026-11-25T19:58:14Z")
        let fine = UnixTime(seconds: 1_795_636_694, nanoseconds: 123_456_789)
        #expect(RFC3339.format(fine) == "2026-11-25T19:58:14Z")
        #expect(RFC3339.format(fine, fractionDigits: 3) == "2026-11-25T19:58:14.123Z")
        #expect(RFC3339.format(fine, fractionDigits: 6) == "2026-11-25T19:58:14.123456Z")
        #expect(RFC3339.format(fine, fractionDigits: 9) == "2026-11-25T19:58:14.123456789Z")
        // MicroTime keeps its six digits when they are zeros (as the API server writes it).
        #expect(RFC3339.format(sample, fractionDigits: 6) == "2026-11-25T19:58:14.000000Z")
        #expect(
            RFC3339.format(UnixTime(secondsSince1970: 1_700_000_000.25), fractionDigits: 6)
                == "2023-11-14T22:13:20.250000Z")
    }

    @Test func offsetsAreNormalisedToUTC() {
        #expect(RFC3339.parse("2026-11-25T19:58:14Z") == sample)
        #expect(RFC3339.parse("2026-11-25T20:58:14+01:00") == sample)
        #expect(RFC3339.parse("2026-11-25T14:28:14-05:30") == sample)
        #expect(RFC3339.parse("2026-11-26T00:58:14+05:00") == sample)
        #expect(RFC3339.parse("2026-11-25T19:58:14+00:00") == sample)
        #expect(RFC3339.parseKeepingOffset("2026-11-25T14:28:14-05:30")?.utcOffset == -19_800)
        #expect(RFC3339.isValidUTC("2026-11-25T19:58:14Z"))
        #expect(RFC3339.isValidUTC("2026-11-25T19:58:14.5-00:00"))
        #expect(!RFC3339.isValidUTC("2026-11-25T20:58:14+01:00"))
        #expect(!RFC3339.isValidUTC("yesterday"))
    }

    @Test func fractionsOfAnyLengthAreReadToTheNanosecond() {
        #expect(
            RFC3339.parse("2026-11-25T19:58:14.5Z")
                == UnixTime(seconds: 1_795_636_694, nanoseconds: 500_000_000))
        #expect(
            RFC3339.parse("2026-11-25T19:58:14.000001Z")
                == UnixTime(seconds: 1_795_636_694, nanoseconds: 1000))
        // Beyond nine digits Go drops the rest, and so does this parser.
        #expect(
            RFC3339.parse("2026-11-25T19:58:14.123456789999Z")
                == UnixTime(seconds: 1_795_636_694, nanoseconds: 123_456_789))
        #expect(RFC3339.parse("2026-11-25T19:58:14.Z") == nil)
    }

    @Test func fieldsOutOfRangeAreRefused() {
        for text in [
            "2026-00-25T19:58:14Z", "2026-13-25T19:58:14Z", "2026-11-00T19:58:14Z", "2026-11-31T19:58:14Z",
            "2026-12-32T19:58:14Z", "2023-02-29T00:00:00Z", "1900-02-29T00:00:00Z", "2026-11-25T24:00:00Z",
            "2026-11-25T19:60:14Z", "2026-11-25T19:58:60Z", "2026-11-25T19:58:14+24:00",
            "2026-11-25T19:58:14+01:60",
        ] {
            #expect(RFC3339.parse(text) == nil, "\(text)")
        }
        #expect(RFC3339.parse("2024-02-29T00:00:00Z") != nil)
        #expect(RFC3339.parse("2000-02-29T00:00:00Z") != nil)
        #expect(RFC3339.parse("2026-11-25T23:59:59+23:59") != nil)
    }

    @Test func garbageIsRefused() {
        for text in [
            "", "yesterday", "2026-11-25", "2026-11-25T19:58:14", "2026-11-25 19:58:14Z", "2026-11-25T19:58Z",
            "2026-1-25T19:58:14Z", "+2026-11-25T19:58:14Z", " 2026-11-25T19:58:14Z", "2026-11-25T19:58:14Z ",
            "2026-11-25T19:58:14ZZ", "2026-11-25T19:58:14+0100", "2026-11-25T19:58:14+01",
            "2026-11-25T19:58:14UTC",
            "2026-11-25T19:58:14,5Z", "2026/11/25T19:58:14Z", "2026-11-25T19:58:1aZ", "２026-11-25T19:58:14Z",
            "2026-11-25T19:58:14.5+01:00:00", "2026-11-25T19:58:14\u{0}Z",
        ] {
            #expect(RFC3339.parse(text) == nil, "\(text)")
        }
        // RFC 3339 allows lower-case separators (Go does not; nothing here writes them).
        #expect(RFC3339.parse("2026-11-25t19:58:14z") == sample)
    }

    @Test func theWholeRangeOfFourDigitYears() {
        #expect(RFC3339.parse("0000-01-01T00:00:00Z") == UnixTime(seconds: -62_167_219_200))
        #expect(RFC3339.parse("0001-01-01T00:00:00Z") == UnixTime(seconds: -62_135_596_800))
        #expect(RFC3339.parse("9999-12-31T23:59:59Z") == UnixTime(seconds: 253_402_300_799))
        #expect(RFC3339.parse("1969-12-31T23:59:59.5Z") == UnixTime(seconds: -1, nanoseconds: 500_000_000))
        #expect(
            RFC3339.format(UnixTime(seconds: -1, nanoseconds: 500_000_000), fractionDigits: 1)
                == "1969-12-31T23:59:59.5Z")
        #expect(RFC3339.format(UnixTime(seconds: -62_167_219_200)) == "0000-01-01T00:00:00Z")
    }

    /// The C library's `gmtime_r` as an independent reference, over times spread across the
    /// years 1 to 9999.
    @Test func agreesWithTheCLibraryAndRoundTrips() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<20_000 {
            var seconds = time_t(Int64.random(in: -62_135_596_800...253_402_300_799, using: &generator))
            let time = UnixTime(seconds: Int64(seconds), nanoseconds: Int64.random(in: 0..<1_000_000_000))
            var parts = tm()
            gmtime_r(&seconds, &parts)
            var buffer = [CChar](repeating: 0, count: 64)
            let count = strftime(&buffer, buffer.count, "%Y-%m-%dT%H:%M:%SZ", &parts)
            let reference = String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            // glibc writes years below 1000 without padding.
            let expected = String(repeating: "0", count: max(0, 20 - reference.count)) + reference
            #expect(RFC3339.format(time) == expected)
            #expect(RFC3339.parse(RFC3339.format(time, fractionDigits: 9)) == time)
            #expect(RFC3339.parse(RFC3339.format(time)) == time.wholeSeconds)
        }
    }
}

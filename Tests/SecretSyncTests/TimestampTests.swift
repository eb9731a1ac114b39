import Foundation
import Testing

@testable import SecretSync

@Suite struct TimestampTests {
    @Test func formatsAndParsesRFC3339() {
        let date = Date(timeIntervalSince1970: 1_795_636_694)
        #expect(Timestamp.format(date) == "2026-11-25T19:58:14Z")
        #expect(Timestamp.parse("2026-11-25T19:58:14Z") == date)
        #expect(Timestamp.parse("2026-11-25T20:58:14+01:00") == date)
        #expect(Timestamp.parse("2026-11-25T19:58:14.5Z") == date.addingTimeInterval(0.5))
        #expect(Timestamp.parse("2026-11-25 19:58") == nil)
        #expect(Timestamp.parse("yesterday") == nil)
    }
}

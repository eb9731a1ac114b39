import Sealing
import Testing
import TestSupport

@testable import SecretSync

/// What `doctor` prints of a crashing container's log: no value of the Secret, nothing shaped
/// like a credential, one bounded printable line each.
@Suite struct LogRedactionTests {
    @Test func valuesOfTheSecretAreReplacedWhereverTheyOccur() {
        var markers = LeakMarkers()
        let value = markers.make("value")
        let line = LogRedaction.redact(
            "auth failed for '\(value)'(retrying)", values: [SecureBytes(Array(value.utf8))])
        #expect(line == "auth failed for '[redacted]'(retrying)")
        #expect(markers.leaks(in: line) == [])
    }

    @Test func credentialShapedWordsAndNamedValuesAreReplaced() {
        #expect(LogRedaction.redact("using key sk-proj-Abc123Def456Ghi789") == "using key [redacted]")
        #expect(LogRedaction.redact("OPENAI_API_KEY=short") == "OPENAI_API_KEY=[redacted]")
        #expect(LogRedaction.redact("token: hunter2 ok") == "token: [redacted] ok")
        #expect(LogRedaction.redact("Authorization: Bearer abc") == "Authorization: Bearer [redacted]")
        #expect(LogRedaction.redact("password=") == "password=")
        // Ordinary words and short identifiers stay readable.
        #expect(
            LogRedaction.redact("fatal: no provider configured (exit 3)")
                == "fatal: no provider configured (exit 3)")
        #expect(LogRedaction.redact("listening on 0.0.0.0:8080") == "listening on 0.0.0.0:8080")
    }

    @Test func theLastLinesAreBoundedAndPrintable() {
        let log = "one\n\ntwo\u{1B}[31m\n" + String(repeating: "x", count: 1000) + "\nthree\n"
        let lines = LogRedaction.lastLines(of: log, count: 3)
        #expect(lines.count == 3)
        #expect(lines[0] == "two [31m")
        #expect(lines[1].count == RolloutStall.maximumLength)
        #expect(lines[2] == "three")
    }
}

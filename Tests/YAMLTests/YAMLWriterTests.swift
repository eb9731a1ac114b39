import JSONValue
import Testing
import YAML

@Suite struct YAMLWriterTests {
    @Test func writesAsKubectlDoes() {
        let object: JSON = [
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": ["name": "settings", "labels": ["app": "beluga"], "annotations": [:]],
            "data": ["list": "a\nb\n", "empty": "", "flag": "yes", "count": "0123"],
            "items": [["name": "one", "value": 1], "two", [], 2.5, true, .null],
        ]
        #expect(
            YAMLWriter.document(object) == """
                apiVersion: v1
                data:
                  count: "0123"
                  empty: ""
                  flag: "yes"
                  list: |
                    a
                    b
                items:
                - name: one
                  value: 1
                - two
                - []
                - 2.5
                - true
                - null
                kind: ConfigMap
                metadata:
                  annotations: {}
                  labels:
                    app: beluga
                  name: settings

                """)
    }

    @Test func stringsThatWouldReadBackAsSomethingElseAreQuoted() throws {
        let tricky = [
            "yes", "No", "on", "y", "~", "null", "", "0123", "0o17", "0x1F", "1_000", "1e3", ".5", ".inf",
            "1:20",
            "=", "<<", "true", "-1", "+1", "2.", "a: b", "- x", "#x", "x #y", "  padded", "trailing ", "[a]",
            "{a}", "&a", "*a", "!tag", "|", ">", "'", "\"", "%x", "@x", "`x", "tab\there", "bell\u{7}",
            "é", "line\nbreak", "crlf\r\n", "\u{FEFF}bom", "k: v\n", "ok", "a-b_c.d/e",
        ]
        for text in tricky {
            let value = JSON.object(["key": .string(text), text: "value"])
            let written = YAMLWriter.document(value)
            #expect(try YAMLReader.read(written) == value, "\(text.debugDescription): \(written)")
        }
        #expect(YAMLWriter.document(["a": "plain text"]) == "a: plain text\n")
    }

    @Test func scalarsForMessages() throws {
        #expect(YAMLWriter.scalar("anthropic") == "anthropic")
        #expect(YAMLWriter.scalar("yes") == "\"yes\"")
        #expect(YAMLWriter.scalar("") == "\"\"")
        #expect(YAMLWriter.scalar("two\nlines") == "\"two\\nlines\"")
        #expect(!YAMLWriter.scalar("a: b").contains("\n"))
        #expect(try YAMLReader.read("k: " + YAMLWriter.scalar("a: b")) == ["k": "a: b"])
    }

    @Test func numbersAndNullsAreWrittenAsJSONWritesThem() throws {
        let value: JSON = [
            "i": 42, "d": 0.1, "whole": .double(3), "big": .double(1e300), "none": .null, "b": false,
        ]
        #expect(try YAMLReader.read(YAMLWriter.document(value))["d"] == .double(0.1))
        #expect(YAMLWriter.document(value).contains("whole: 3\n"))
        #expect(YAMLWriter.document(value).contains("none: null\n"))
        // Even a key is quoted when YAML 1.1 reads it as something else (`n` is false).
        #expect(YAMLWriter.document(["n": 1]) == "\"n\": 1\n")
    }
}

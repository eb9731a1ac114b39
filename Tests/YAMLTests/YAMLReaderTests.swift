import JSONValue
import Testing
import YAML

@Suite struct YAMLReaderTests {
    func read(_ text: String) throws(YAMLError) -> JSON { try YAMLReader.read(text) }

    @Test func plainScalarsResolveAsYAML11() throws {
        let document = try read(
            """
            booleans: [yes, No, ON, off, y, N, true, FALSE]
            nulls: [~, null, NULL, ]
            empty:
            octal: [0777, 0o17, -017]
            hex: 0x1F
            binary: 0b101
            decimal: [1_000, +12, -3, 0]
            floats: [1.5, .5, 1e3, -2.5E-1, 08]
            strings: [yES, 0x, 1:20, 2024-01-02, 10.0.0.1, 0xG, .e1, +, ".5"]
            big: [9223372036854775807, 18446744073709551615, 99999999999999999999]
            """)
        #expect(document["booleans"] == [true, false, true, false, true, false, true, false])
        #expect(document["nulls"] == JSON.array([.null, .null, .null]))
        #expect(document["empty"] == .null)
        #expect(document["octal"] == [511, 15, -15])
        #expect(document["hex"] == 31)
        #expect(document["binary"] == 5)
        #expect(document["decimal"] == [1000, 12, -3, 0])
        #expect(
            document["floats"]
                == JSON.array([.double(1.5), .double(0.5), .double(1000), .double(-0.25), .double(8)]))
        #expect(
            document["strings"] == ["yES", "0x", "1:20", "2024-01-02", "10.0.0.1", "0xG", ".e1", "+", ".5"])
        #expect(
            document["big"]
                == JSON.array([
                    .int(Int.max), .double(0x1p64), .double(1e20),
                ]))
    }

    @Test func quotedAndBlockScalarsAreStrings() throws {
        let document = try read(
            """
            single: 'yes'
            double: "0123"
            literal: |
              line one
              line two
            folded: >-
              folded
              text
            kept: |+
              end

            escaped: "tab\\there \\u00e9"
            """)
        #expect(document["single"] == "yes")
        #expect(document["double"] == "0123")
        #expect(document["literal"] == "line one\nline two\n")
        #expect(document["folded"] == "folded text")
        #expect(document["kept"] == "end\n\n")
        #expect(document["escaped"] == "tab\there é")
    }

    @Test func tagsConvertOrRefuse() throws {
        let document = try read(
            """
            a: !!str 0123
            b: !!int "12"
            c: !!float 3
            d: !!bool "yes"
            e: !!binary aGVsbG8=
            f: !custom 12
            g: !!timestamp 2024-01-02
            """)
        #expect(
            document == [
                "a": "0123", "b": 12, "c": .double(3), "d": true, "e": "hello", "f": "12", "g": "2024-01-02",
            ])
        for text in ["a: !!int abc", "a: !!bool 1", "a: !!float yes", "a: !!binary not*base64"] {
            #expect(throws: YAMLError.self, "\(text)") { try read(text) }
        }
    }

    @Test func anchorsAliasesAndMerges() throws {
        let document = try read(
            """
            base: &base {server: https://a, insecure: no}
            copy: *base
            list: [&x one, *x]
            merged:
              <<: *base
              server: https://b
            many:
              <<: [{a: 1}, {a: 2, b: 2}]
            """)
        #expect(document["copy"] == document["base"])
        #expect(document["list"] == ["one", "one"])
        #expect(document["merged"] == ["server": "https://b", "insecure": false])
        #expect(document["many"] == ["a": 1, "b": 2])
        #expect(throws: YAMLError.self) { try read("a: *missing") }
        #expect(throws: YAMLError.self) { try read("a: &a [*a]") }
        #expect(throws: YAMLError.self) { try read("a:\n  <<: 3") }
    }

    @Test func keysBecomeStrings() throws {
        #expect(try read("yes: 1\n2: b\n'3': c\n0x10: d") == ["true": 1, "2": "b", "3": "c", "16": "d"])
        for text in ["~: a", "1.5: a", "[a]: b", "{a: b}: c", "? |\n  x\n: y\n? [a]\n: b"] {
            #expect(throws: YAMLError.self, "\(text)") { try read(text) }
        }
    }

    @Test func duplicateKeysAreRefusedWithTheirPlace() {
        do {
            _ = try read("clusters:\n- name: a\n  server: https://one\n  server: https://two\n")
            Issue.record("expected a duplicate key error")
        } catch {
            #expect(error.problem.contains("\"server\" is given twice"))
            #expect(error.line == 4)
            #expect(!error.description.contains("https://"))
        }
    }

    @Test func jsonIsYAML() throws {
        let text = #"{"a": [1, 2.5, true, null, "x\"y"], "b": {}, "c": []}"#
        #expect(try read(text) == (try JSON(parsing: text)))
    }

    @Test func onlyTheFirstDocumentIsRead() throws {
        #expect(try read("a: 1\n---\nb: 2\n") == ["a": 1])
        #expect(try read("") == .null)
        #expect(try read("# only a comment\n") == .null)
        #expect(try read("---\n") == .null)
    }

    @Test func errorsGivePositionsAndNoText() {
        do {
            _ = try read("users:\n- name: u\n  user:\n    token: \"s3cr3t-value\n  - : [unclosed\n")
            Issue.record("expected an error")
        } catch {
            #expect(error.line != nil)
            #expect(!error.description.contains("s3cr3t"))
        }
        #expect(throws: YAMLError.self) { try read("a: .nan") }
        #expect(throws: YAMLError.self) { try read("a: [1, 2") }
        #expect(throws: YAMLError.self) { try read("\t- tab") }
    }

    @Test func hostileInputsAreBounded() {
        // A billion laughs: nine levels of ten aliases each.
        var text = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
        for level in 1...9 {
            let previous = Array(repeating: "*a\(level - 1)", count: 10).joined(separator: ", ")
            text += "a\(level): &a\(level) [\(previous)]\n"
        }
        #expect(throws: YAMLError.self) { try read(text) }
        let deep =
            String(repeating: "[", count: YAMLReader.maximumDepth + 1)
            + String(repeating: "]", count: YAMLReader.maximumDepth + 1)
        #expect(throws: YAMLError.self) { try read(deep) }
        let allowed = String(repeating: "[", count: 100) + String(repeating: "]", count: 100)
        #expect((try? read(allowed)) != nil)
    }
}

import JSONValue
import Testing

@Suite struct JSONTests {
    @Test func roundTripsEveryKind() throws {
        let text = #"{"a":[1,-2.5,true,false,null,"x\"y\\z\n\u00e9\ud83d\ude00"],"b":{"c":9007199254740993}}"#
        let value = try JSON(parsing: text)
        #expect(value["b"]?["c"]?.intValue == 9_007_199_254_740_993)
        #expect(value["a"]?[5]?.stringValue == "x\"y\\z\né😀")
        let again = try JSON(parsing: value.serialized())
        #expect(again == value)
    }

    @Test(arguments: [
        "", "{", "[1,]", "{\"a\":1,}", "01", "1.", "-", "\"\u{01}\"", "\"\\ud800\"", "tru", "[] []",
        "\"\\x\"", "{1:2}",
    ])
    func rejectsMalformed(_ text: String) {
        #expect(throws: JSONParseError.self) { try JSON(parsing: text) }
    }

    @Test func refusesDeepNesting() {
        let deep = String(repeating: "[", count: JSON.maximumDepth + 1) + String(repeating: "]", count: JSON.maximumDepth + 1)
        #expect(throws: JSONParseError.self) { try JSON(parsing: deep) }
        let fine = String(repeating: "[", count: JSON.maximumDepth) + String(repeating: "]", count: JSON.maximumDepth)
        #expect((try? JSON(parsing: fine)) != nil)
    }

    @Test func rejectsInvalidUTF8() {
        #expect(throws: JSONParseError.self) { try JSON(parsing: [0x22, 0xFF, 0x22]) }
    }

    @Test func pathSubscriptCreatesIntermediateObjects() {
        var value: JSON = [:]
        value[path: "metadata", "annotations", "x"] = "1"
        #expect(value.jsonText == #"{"metadata":{"annotations":{"x":"1"}}}"#)
        value[path: "metadata", "annotations", "x"] = nil
        #expect(value.jsonText == #"{"metadata":{"annotations":{}}}"#)
    }

    @Test func serializationIsSortedAndEscapesControlCharacters() {
        let value: JSON = ["b": "\u{01}", "a": 1.5]
        #expect(value.jsonText == #"{"a":1.5,"b":"\u0001"}"#)
    }
}

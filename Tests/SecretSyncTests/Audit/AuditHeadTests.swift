import JSONValue
import Testing

@testable import SecretSync

@Suite struct AuditHeadTests {
    @Test func theHeadKeepsTheLinesToPrintAgain() throws {
        var store = SealedStore()
        store.auditHead = AuditHead(seq: 2, hash: "ab", lines: ["{\"seq\":1}", "{\"seq\":2}"])
        let patch = store.statusPatch()
        let text = try #require(
            patch[path: "metadata", "annotations", SealedStore.auditHeadAnnotation]?.stringValue)
        #expect(text == #"{"hash":"ab","lines":["{\"seq\":1}","{\"seq\":2}"],"seq":2}"#)
        let object: JSON = ["metadata": ["annotations": [SealedStore.auditHeadAnnotation: .string(text)]]]
        #expect(try SealedStore(configMap: object).auditHead == store.auditHead)
        // A head written without lines (an older agent) reads as one with none.
        let old: JSON = [
            "metadata": ["annotations": [SealedStore.auditHeadAnnotation: #"{"hash":"ab","seq":2}"#]]
        ]
        #expect(try SealedStore(configMap: old).auditHead == AuditHead(seq: 2, hash: "ab"))
    }
}

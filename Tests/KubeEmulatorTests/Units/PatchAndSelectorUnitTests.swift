import Foundation
import JSONValue
import Testing

@testable import KubeEmulator

/// The patch engines, selectors and codecs on their own, against the documented behaviour of
/// their Kubernetes counterparts.
@Suite("patch, selector and codec units")
struct PatchAndSelectorUnitTests {
    let deployment: JSON = [
        "metadata": ["finalizers": ["a"]],
        "spec": [
            "template": [
                "spec": [
                    "containers": [
                        [
                            "name": "web", "image": "nginx:1",
                            "env": [["name": "A", "value": "1"], ["name": "B", "value": "2"]],
                        ],
                        ["name": "side", "image": "busybox:1"],
                    ],
                    "volumes": [["name": "data", "emptyDir": [:]]],
                ]
            ]
        ],
    ]

    func strategic(_ patch: JSON, _ target: JSON? = nil) throws -> JSON {
        try StrategicMergePatch(schema: PatchSchema.forKind("Deployment")).apply(
            patch, to: target ?? deployment)
    }

    @Test("strategic merge: lists merge by key, $patch delete/replace, primitive sets, element order")
    func strategicMerge() throws {
        let merged = try strategic([
            "spec": [
                "template": [
                    "spec": [
                        "containers": [
                            [
                                "name": "web",
                                "env": [["name": "B", "value": "20"], ["name": "C", "value": "3"]],
                            ]
                        ]
                    ]
                ]
            ]
        ])
        let containers = merged[path: "spec", "template", "spec", "containers"]?.arrayValue ?? []
        #expect(containers.count == 2)
        #expect(containers[0]["image"] == "nginx:1")
        #expect(
            containers[0]["env"] == [
                ["name": "A", "value": "1"], ["name": "B", "value": "20"], ["name": "C", "value": "3"],
            ])

        let deleted = try strategic([
            "spec": ["template": ["spec": ["containers": [["name": "side", "$patch": "delete"]]]]]
        ])
        #expect(
            deleted[path: "spec", "template", "spec", "containers"]?.arrayValue?.map { $0["name"] } == ["web"]
        )

        let replaced = try strategic([
            "spec": [
                "template": ["spec": ["volumes": [["$patch": "replace"], ["name": "new", "emptyDir": [:]]]]]
            ]
        ])
        #expect(replaced[path: "spec", "template", "spec", "volumes"] == [["name": "new", "emptyDir": [:]]])

        let finalizers = try strategic(["metadata": ["finalizers": ["b", "a"]]])
        #expect(finalizers[path: "metadata", "finalizers"] == ["a", "b"])
        let removedFinalizer = try strategic(["metadata": ["$deleteFromPrimitiveList/finalizers": ["a"]]])
        #expect(removedFinalizer[path: "metadata", "finalizers"] == [])

        let ordered = try strategic([
            "spec": [
                "template": ["spec": ["$setElementOrder/containers": [["name": "side"], ["name": "web"]]]]
            ]
        ])
        #expect(
            ordered[path: "spec", "template", "spec", "containers"]?.arrayValue?.map { $0["name"] } == [
                "side", "web",
            ])

        let mapReplace = try strategic([
            "spec": ["template": ["$patch": "replace", "metadata": ["labels": ["x": "y"]]]]
        ])
        #expect(mapReplace[path: "spec", "template"] == ["metadata": ["labels": ["x": "y"]]])

        #expect(throws: StrategicMergePatch.Failure.self) {
            try strategic(["spec": ["template": ["spec": ["containers": [["image": "no-name"]]]]]])
        }
    }

    @Test("JSON patch operations and failures")
    func jsonPatch() throws {
        let document: JSON = ["a": ["b": [1, 2]], "c": "x"]
        let patched = try JSONPatch.apply(
            [
                ["op": "add", "path": "/a/b/-", "value": 3], ["op": "add", "path": "/a/b/0", "value": 0],
                ["op": "remove", "path": "/c"], ["op": "copy", "from": "/a/b", "path": "/d"],
                ["op": "move", "from": "/d", "path": "/e~1f"], ["op": "test", "path": "/e~1f/1", "value": 1],
                ["op": "replace", "path": "/a/b/3", "value": 30],
            ], to: document)
        #expect(patched == ["a": ["b": [0, 1, 2, 30]], "e/f": [0, 1, 2, 3]])
        #expect(throws: JSONPatch.Failure.self) {
            try JSONPatch.apply([["op": "replace", "path": "/missing", "value": 1]], to: document)
        }
        #expect(throws: JSONPatch.Failure.self) {
            try JSONPatch.apply([["op": "test", "path": "/c", "value": "y"]], to: document)
        }
        #expect(MergePatch.apply(["a": nil, "c": ["d": 1]], to: document) == ["c": ["d": 1]])
    }

    @Test("label and field selector syntax")
    func selectors() throws {
        let labels = ["app": "web", "tier": "front", "version": "3"]
        func matches(_ text: String) throws -> Bool { try LabelSelector(parsing: text).matches(labels) }
        #expect(try matches("app=web,tier==front"))
        #expect(try matches("app in (web, api), !missing, version>2"))
        #expect(try !matches("app notin (web)"))
        #expect(try matches("missing!=x"))
        #expect(try !matches("version<3"))
        #expect(try matches(""))
        #expect(throws: APIError.self) { try LabelSelector(parsing: "app in web") }
        #expect(throws: APIError.self) { try LabelSelector(parsing: "bad key=x") }
        let fields = try FieldSelector(parsing: "metadata.name=a\\,b,type!=Opaque")
        #expect(fields.terms.count == 2)
        #expect(fields.terms[0].value == "a,b")
        #expect(fields.matches { $0 == "metadata.name" ? "a,b" : "kubernetes.io/tls" })
        #expect(try FieldSelector(parsing: "metadata.name=x").pinnedName == "x")
    }

    @Test("Go's base64 errors, names, durations and managed field paths")
    func codecs() throws {
        #expect(try GoBase64.decode("Yg==") == Array("b".utf8))
        #expect(try GoBase64.decode("Yg\n==") == Array("b".utf8))
        #expect(throws: GoBase64.CorruptInput(offset: 0)) { try GoBase64.decode("Yg") }  // as Go reports it
        #expect(throws: GoBase64.CorruptInput(offset: 3)) { try GoBase64.decode("Yg=") }
        #expect(throws: GoBase64.CorruptInput(offset: 4)) { try GoBase64.decode("Yg==x") }
        #expect(Validation.dns1123SubdomainProblems("beluga-ai.secrets").isEmpty)
        #expect(!Validation.dns1123SubdomainProblems("Beluga").isEmpty)
        #expect(Validation.configKeyProblems("..a") == ["must not start with '..'"])
        #expect(TablePrinters.humanDuration(59) == "59s")
        #expect(TablePrinters.humanDuration(185) == "3m5s")
        #expect(TablePrinters.humanDuration(3 * 3600 + 60) == "3h1m")
        #expect(TablePrinters.humanDuration(3 * 86400) == "3d")
        let fields = FieldSet.of(
            [
                "metadata": ["labels": ["a": "1"]],
                "spec": ["template": ["spec": ["containers": [["name": "w", "image": "i"]]]]],
            ],
            schema: PatchSchema.forKind("Deployment"))
        #expect(
            fields.fieldsV1 == [
                "f:metadata": ["f:labels": [".": [:], "f:a": [:]]],
                "f:spec": [
                    "f:template": [
                        "f:spec": [
                            "f:containers": [#"k:{"name":"w"}"#: [".": [:], "f:image": [:], "f:name": [:]]]
                        ]
                    ]
                ],
            ])
        #expect(FieldSet(fieldsV1: fields.fieldsV1) == fields)
    }
}

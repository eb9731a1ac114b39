import Foundation
import JSONValue
import KubeEmulator
import Testing
import TestSupport

/// The Secret and ConfigMap rules of the real server: base64 data, stringData, key names,
/// the 1 MiB limit and `immutable`.
@Suite("Secret and ConfigMap rules")
struct SecretAndConfigMapRulesTests {
    let secrets = "/api/v1/namespaces/default/secrets"

    func secret(_ name: String, data: JSON? = nil, stringData: JSON? = nil, immutable: Bool? = nil) -> JSON {
        var object: JSON = ["apiVersion": "v1", "kind": "Secret", "metadata": ["name": .string(name)]]
        if let data { object["data"] = data }
        if let stringData { object["stringData"] = stringData }
        if let immutable { object["immutable"] = .bool(immutable) }
        return object
    }

    @Test("stringData is merged into data (winning over it) and never returned")
    func stringDataMerged() async throws {
        try await withEmulator { fixture in
            let created = try await fixture.request(
                "POST", secrets,
                body: secret(
                    "s", data: ["a": "b2xk", "keep": "eA=="], stringData: ["a": "new", "c": "plain"]))
            #expect(created.status == 201)
            #expect(created.json["stringData"] == nil)
            #expect(created.json["data"] == ["a": "bmV3", "keep": "eA==", "c": "cGxhaW4="])
            #expect(created.json["type"] == "Opaque")
            let patched = try await fixture.request(
                "PATCH", "\(secrets)/s", body: ["stringData": ["a": "patched"]],
                contentType: "application/merge-patch+json")
            #expect(patched.json[path: "data", "a"] == "cGF0Y2hlZA==")
            #expect(patched.json["stringData"] == nil)
        }
    }

    @Test("invalid base64 in data is a 400 decoding error")
    func invalidBase64() async throws {
        try await withEmulator { fixture in
            let refused = try await fixture.request(
                "POST", secrets, body: secret("s", data: ["a": "not base64!"]))
            #expect(refused.status == 400)
            #expect(refused.json["reason"] == "BadRequest")
            #expect(
                refused.json["message"]
                    == "Secret in version \"v1\" cannot be handled as a Secret: illegal base64 data at input byte 3"
            )
            let number = try await fixture.request("POST", secrets, body: secret("s", data: ["a": 1]))
            #expect(number.status == 400)
        }
    }

    @Test("key names and the 1 MiB limit give 422 with field causes")
    func keysAndSize() async throws {
        try await withEmulator { fixture in
            let badKey = try await fixture.request(
                "POST", secrets, body: secret("s", stringData: ["a/b": "x"]))
            #expect(badKey.status == 422)
            #expect(badKey.json["reason"] == "Invalid")
            #expect(badKey.json[path: "details", "kind"] == "Secret")
            #expect(
                badKey.json[path: "details", "causes"] == [
                    [
                        "reason": "FieldValueInvalid", "field": "data[a/b]",
                        "message":
                            "Invalid value: \"a/b\": a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')",
                    ]
                ])
            let big = String(repeating: "x", count: 1024 * 1024 + 1)
            let tooLarge = try await fixture.request(
                "POST", secrets, body: secret("big", stringData: ["a": .string(big)]))
            #expect(tooLarge.status == 422)
            #expect(
                tooLarge.json["message"]
                    == "Secret \"big\" is invalid: data: Too long: may not be more than 1048576 bytes")
            let exact = String(repeating: "x", count: 1024 * 1024)
            #expect(
                try await fixture.request(
                    "POST", secrets, body: secret("fits", stringData: ["a": .string(exact)])
                ).status == 201)
            let configMap: JSON = [
                "apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "c"], "data": ["a": "1"],
                "binaryData": ["a": "MQ=="],
            ]
            let duplicate = try await fixture.request(
                "POST", "/api/v1/namespaces/default/configmaps", body: configMap)
            #expect(duplicate.status == 422)
            let duplicateMessage = duplicate.json["message"]?.stringValue ?? ""
            #expect(duplicateMessage.contains("duplicate of key present in binaryData"))
        }
    }

    @Test("immutable Secrets refuse data changes and un-setting immutable")
    func immutable() async throws {
        try await withEmulator { fixture in
            _ = try await fixture.request(
                "POST", secrets, body: secret("s", stringData: ["a": "1"], immutable: true))
            let change = try await fixture.request(
                "PATCH", "\(secrets)/s", body: ["stringData": ["a": "2"]],
                contentType: "application/merge-patch+json")
            #expect(change.status == 422)
            #expect(
                change.json["message"]
                    == "Secret \"s\" is invalid: data: Forbidden: field is immutable when `immutable` is set")
            let unset = try await fixture.request(
                "PATCH", "\(secrets)/s", body: ["immutable": false],
                contentType: "application/merge-patch+json")
            #expect(unset.status == 422)
            let labels = try await fixture.request(
                "PATCH", "\(secrets)/s", body: ["metadata": ["labels": ["ok": "yes"]]],
                contentType: "application/merge-patch+json")
            #expect(labels.status == 200)
            let stored = try await fixture.emulator.object("secrets", namespace: "default", name: "s")
            #expect(stored?[path: "data", "a"] == "MQ==")
        }
    }
}

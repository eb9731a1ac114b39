import Foundation
import JSONValue
import KubeEmulator
import Testing
import TestSupport

/// client-go's typed clients send `DeleteOptions` as protobuf (Helm does when it deletes its
/// release Secrets on uninstall): the emulator reads them as a real server does.
@Suite("protobuf DeleteOptions")
struct ProtobufDeleteOptionsTests {
    let secrets = "/api/v1/namespaces/default/secrets"

    @Test("preconditions, dry run and propagation in a protobuf body are honoured")
    func protobufDeleteOptions() async throws {
        try await withEmulator { fixture in
            let secret: JSON = ["apiVersion": "v1", "kind": "Secret", "metadata": ["name": "release"]]
            let created = try await fixture.request("POST", secrets, body: secret)
            #expect(created.status == 201)
            let uid = created.json[path: "metadata", "uid"]?.stringValue ?? ""

            let stale = try await delete(fixture, "release", Self.deleteOptions(uid: "another-uid"))
            #expect(stale.status == 409, "\(stale.text)")
            #expect(stale.json["reason"] == "Conflict")
            let dryRun = try await delete(fixture, "release", Self.deleteOptions(uid: uid, dryRun: true))
            #expect(dryRun.status == 200, "\(dryRun.text)")
            #expect(try await fixture.request("GET", "\(secrets)/release").status == 200)
            let badPolicy = try await delete(
                fixture, "release", Self.deleteOptions(uid: uid, propagation: "Sideways"))
            #expect(badPolicy.status == 422, "\(badPolicy.text)")

            let deleted = try await delete(
                fixture, "release", Self.deleteOptions(uid: uid, propagation: "Background"))
            #expect(deleted.status == 200, "\(deleted.text)")
            #expect(try await fixture.request("GET", "\(secrets)/release").status == 404)
        }
    }

    private func delete(_ fixture: EmulatorFixture, _ name: String, _ body: [UInt8]) async throws
        -> HTTPAnswer
    {
        try await fixture.request(
            "DELETE", "\(secrets)/\(name)", rawBody: body, contentType: "application/vnd.kubernetes.protobuf")
    }

    /// `k8s\0` + runtime.Unknown{typeMeta{apiVersion "v1", kind "DeleteOptions"}, raw}, with the
    /// field numbers of apimachinery's meta/v1 generated.proto.
    static func deleteOptions(uid: String, dryRun: Bool = false, propagation: String? = nil) -> [UInt8] {
        var options = message(2, message(1, text(uid)))  // preconditions.uid
        if let propagation { options += message(4, text(propagation)) }
        if dryRun { options += message(5, text("All")) }
        let typeMeta = message(1, text("v1")) + message(2, text("DeleteOptions"))
        return [0x6B, 0x38, 0x73, 0x00] + message(1, typeMeta) + message(2, options)
    }

    /// A length-delimited field.
    static func message(_ number: UInt8, _ payload: [UInt8]) -> [UInt8] {
        [number << 3 | 2] + varint(payload.count) + payload
    }

    static func text(_ value: String) -> [UInt8] { Array(value.utf8) }

    static func varint(_ value: Int) -> [UInt8] {
        var value = UInt64(value)
        var bytes: [UInt8] = []
        repeat {
            var byte = UInt8(value & 0x7F)
            value >>= 7
            if value != 0 { byte |= 0x80 }
            bytes.append(byte)
        } while value != 0
        return bytes
    }
}

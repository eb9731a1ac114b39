import JSONValue
import KubeEmulator
import Sealing
import Synchronization
import Testing
import TestSupport

@testable import KubeAPI
@testable import SecretSync

/// The workstation's paths that handle values (`--direct` writes, the restart after them,
/// `get --reveal`) carry them in secure memory on this side of the wire: no request or response
/// body in ordinary memory ever holds one.
@Suite struct GuardedSecretTests {
    /// Forwards to libcurl's transport and keeps every body that travelled in ordinary memory.
    final class RecordingTransport: KubeTransport {
        let inner: any KubeTransport
        private let bodies = Mutex<[[UInt8]]>([])
        private let guarded = Mutex<(requests: Int, responses: Int)>((0, 0))

        init(_ inner: any KubeTransport) { self.inner = inner }

        var plainBodies: [String] { bodies.withLock { $0.map { String(decoding: $0, as: UTF8.self) } } }
        var guardedCounts: (requests: Int, responses: Int) { guarded.withLock { $0 } }

        func send(_ request: HTTPRequest, credentials: RequestCredentials) async throws(TransportError)
            -> HTTPResponse
        {
            let response = try await inner.send(request, credentials: credentials)
            bodies.withLock { $0 += [request.body ?? [], response.body] }
            guarded.withLock {
                $0.requests += request.sensitiveBody == nil ? 0 : 1
                $0.responses += response.sensitiveBody == nil ? 0 : 1
            }
            return response
        }

        func stream(
            _ request: HTTPRequest, credentials: RequestCredentials,
            onHead: @escaping @Sendable (HTTPResponseHead) -> Void,
            onBody: @escaping @Sendable ([UInt8]) -> Bool
        ) async -> Result<Int, TransportError> {
            await inner.stream(request, credentials: credentials, onHead: onHead, onBody: onBody)
        }

        var openedConnections: Int { inner.openedConnections }
    }

    @Test func directWritesTheRestartAndRevealKeepValuesOutOfOrdinaryBodies() async throws {
        try await withEmulator { fixture in
            try await BelugaLaunch.putChartObjects(into: fixture.emulator)
            let configuration = try ClientConfiguration.load(
                .init(kubeconfig: fixture.kubeconfigPath, environment: [:], allowInCluster: false))
            let transport = RecordingTransport(try CurlTransport(configuration: configuration.transport))
            let client = KubeClient(configuration: configuration, transport: transport)
            var markers = LeakMarkers()
            let first = markers.make("direct-first")
            let second = markers.make("direct-second")
            let names = ObjectNames()
            let writer = DirectSecretWriter(client: client, namespace: "default", names: names)

            let created = try await writer.write(
                key: "openai-api-key", .set(SecureBytes(Array(first.utf8)), mustExist: false), by: "test")
            #expect(created.createdSecret)
            try await writer.check(key: "anthropic-api-key", mustExist: false)
            let patched = try await writer.write(
                key: "anthropic-api-key", .set(SecureBytes(Array(second.utf8)), mustExist: false), by: "test")
            #expect(patched.written?.values["openai-api-key"] == SecureBytes(Array(first.utf8)))
            let restart = try await DeploymentRestarter(client: client, namespace: "default", names: names)
                .restart(writtenSecret: patched.written)
            #expect(restart.decision.action == .restart)
            _ = try await writer.write(key: "openai-api-key", .delete, by: "test")
            _ = try await DeploymentRestarter(client: client, namespace: "default", names: names).restart()

            let read = try #require(try await client.getGuardedSecretIfPresent(name: names.secret))
            #expect(read.keys == ["anthropic-api-key"])
            #expect(read.values["anthropic-api-key"] == SecureBytes(Array(second.utf8)))
            #expect(read.object.json["data"] == nil)
            #expect(read.metadata.annotations["beluga-ai.io/direct-versions"] != nil)

            for body in transport.plainBodies {
                #expect(markers.leaks(in: body).isEmpty, "a value in an ordinary body: \(body.prefix(300))")
            }
            let counts = transport.guardedCounts
            #expect(counts.requests == 3, "the two values written, and the delete")
            #expect(counts.responses >= 8)

            // The values did reach the server: kubectl reads them back.
            let kubectl = try await fixture.kubectl([
                "get", "secret", names.secret, "-o", "jsonpath={.data.anthropic-api-key}",
            ])
            #expect(kubectl.stdout == Base64.encode(Array(second.utf8)))
        }
    }

    @Test func aGuardedSecretDecodesWhatTheServerSendsAndRefusesWhatItDoesNot() throws {
        let text = #"""
            {"kind":"Secret","apiVersion":"v1","metadata":{"name":"s","annotations":{"a":"b\"}"}},
             "data":{"k":"c2stMQ==","e":""},"type":"Opaque","list":[1,{"x":[true,null]},"]"]}
            """#
        let secret = try GuardedSecretCoding.decode(SecureBytes(Array(text.utf8)))
        #expect(secret.values["k"] == SecureBytes(Array("sk-1".utf8)))
        #expect(secret.values["e"]?.count == 0)
        #expect(secret.object.name == "s")
        #expect(secret.metadata.annotations["a"] == "b\"}")
        #expect(secret.object.json["list"]?.arrayValue?.count == 3)
        #expect(secret.object.json["data"] == nil)
        for bad in [
            #"{"data":{"k":"c2stMQ="}}"#, #"{"data":{"k":"c2stMR=="}}"#, #"{"data":{"k":"c2\/tMQ=="}}"#,
            #"{"data":{"k":1}}"#, #"{"data":{"k":"c2stMQ=="}"#, #"{"data":{"k":"c2stMQ=="}} x"#,
            #"{"a":[1,2}"#, #"{"a":"unterminated}"#, String(repeating: "[", count: 300),
            #"{"a":"# + String(repeating: "[", count: 300) + String(repeating: "]", count: 300) + "}",
        ] {
            #expect(throws: GuardedSecretCoding.Malformed.self, "\(bad.prefix(60))") {
                try GuardedSecretCoding.decode(SecureBytes(Array(bad.utf8)))
            }
        }
    }

    @Test func theBodyWrittenIsTheJSONOfTheObjectWithItsValues() throws {
        var object = Secret(name: "s", namespace: "default")
        object.type = "Opaque"
        object.json["data"] = ["ignored": "eA=="]
        let body = GuardedSecretCoding.encode(
            object.json, values: ["b": SecureBytes(Array("two".utf8)), "a": SecureBytes([0, 255])],
            nullKeys: ["gone"])
        let json = try body.withUnsafeBytes { try JSON(parsing: Array($0)) }
        #expect(json["data"] == ["a": "AP8=", "b": "dHdv", "gone": .null])
        #expect(json[path: "metadata", "name"] == "s")
        #expect(json["type"] == "Opaque")
        let empty = GuardedSecretCoding.encode([:], values: [:])
        #expect(try empty.withUnsafeBytes { try JSON(parsing: Array($0)) } == ["data": [:]])
    }
}

import Foundation
import JSONValue
import KubeEmulator
import Testing
import TestSupport

/// HTTP/2 beside HTTP/1.1 over TLS, seen by curl (nghttp2) and kubectl (Go's HTTP/2): ALPN picks
/// the protocol, the certificate names 127.0.0.1 and localhost, watches stream on one stream of
/// a connection, and a GOAWAY sends the client to a new connection.
@Suite("HTTP/2")
struct HTTP2Tests {
    static func start(_ faults: FaultPlan = .none) async throws -> EmulatorFixture {
        try await EmulatorFixture.start(.init(tls: true, rolloutDelay: .milliseconds(50), faults: faults))
    }

    /// The emulator's CA certificate, written for curl.
    static func caFile(_ fixture: EmulatorFixture) throws -> String {
        let ca = fixture.directory.file("ca.crt")
        try Data((fixture.emulator.certificateAuthority?.certificatePEM ?? "").utf8).write(
            to: URL(fileURLWithPath: ca))
        return ca
    }

    /// curl with the CA and the admin token; the token goes in a header file, not argv.
    static func curl(_ fixture: EmulatorFixture, ca: String, _ arguments: [String]) async throws
        -> ProcessResult
    {
        let headers = fixture.directory.file("curl-headers")
        try Data("Authorization: Bearer \(fixture.emulator.adminToken)\n".utf8).write(
            to: URL(fileURLWithPath: headers))
        return try await ProcessRunner.runDetached(
            try ProcessRunner.which("curl"), ["-sS", "--cacert", ca, "-H", "@\(headers)"] + arguments,
            timeout: 60)
    }

    @Test("ALPN: curl gets HTTP/2 or HTTP/1.1 as it asks, by address and by name")
    func negotiation() async throws {
        try await withStarted(try await Self.start()) { fixture in
            let ca = try Self.caFile(fixture)
            let port = fixture.emulator.port
            for host in ["127.0.0.1", "localhost"] {
                let h2 = try await Self.curl(
                    fixture, ca: ca,
                    [
                        "--http2", "-o", "/dev/null", "-w", "%{http_version} %{http_code}",
                        "https://\(host):\(port)/api/v1/namespaces",
                    ])
                #expect(h2.stdout == "2 200", "\(h2.stderr)")
                let h1 = try await Self.curl(
                    fixture, ca: ca,
                    [
                        "--http1.1", "-o", "/dev/null", "-w", "%{http_version} %{http_code}",
                        "https://\(host):\(port)/api/v1/namespaces",
                    ])
                #expect(h1.stdout == "1.1 200", "\(h1.stderr)")
            }
            let byProtocol = fixture.emulator.requestsByProtocol()
            #expect(byProtocol["HTTP/2"] == 2 && byProtocol["HTTP/1.1"] == 2, "\(byProtocol)")
        }
    }

    @Test("one connection serves hundreds of requests, as a real API server does for a busy client")
    func manyRequestsOnOneConnection() async throws {
        try await withStarted(try await Self.start()) { fixture in
            let ca = try Self.caFile(fixture)
            // One curl process, one connection, 500 requests in a row (curl's config file keeps
            // the URLs out of argv); each line of output is one request's code and connects.
            let count = 500
            let config = fixture.directory.file("curl-urls")
            var lines = ""
            for index in 0..<count {
                lines +=
                    "url = \"https://127.0.0.1:\(fixture.emulator.port)/api/v1/namespaces/default/configmaps?n=\(index)\"\n"
                    + "output = \"/dev/null\"\n"
            }
            try Data(lines.utf8).write(to: URL(fileURLWithPath: config))
            let result = try await Self.curl(
                fixture, ca: ca, ["--http2", "-w", "%{http_code} %{num_connects}\\n", "-K", config])
            let answers = result.stdout.split(separator: "\n")
            #expect(answers.count == count, "\(result.stderr)")
            // Every request answered 200; only the first opened a connection.
            #expect(
                answers.allSatisfy { $0.hasPrefix("200 ") }, "\(answers.filter { !$0.hasPrefix("200 ") })")
            #expect(answers.filter { $0.hasSuffix(" 1") }.count == 1, "\(result.stderr)")
            #expect(fixture.emulator.requestsByProtocol()["HTTP/2"] == count)
        }
    }

    @Test("kubectl speaks HTTP/2: requests, a watch and errors with Status bodies")
    func kubectl() async throws {
        try await withStarted(try await Self.start()) { fixture in
            let create = try await fixture.kubectl(["create", "configmap", "settings", "--from-literal=a=1"])
            #expect(create.status == 0, "\(create.stderr)")
            let missing = try await fixture.kubectl(["get", "configmap", "nope"])
            #expect(missing.stderr == "Error from server (NotFound): configmaps \"nope\" not found\n")
            let watch = try await fixture.kubectl([
                "get", "configmaps", "-w", "--request-timeout=3s", "-o", "name",
            ])
            #expect(watch.stdout.contains("configmap/settings"), "\(watch.stderr)")
            let byProtocol = fixture.emulator.requestsByProtocol()
            #expect((byProtocol["HTTP/2"] ?? 0) >= 4, "\(byProtocol)")
            #expect(byProtocol["HTTP/1.1"] == nil, "\(byProtocol)")
        }
    }

    @Test("a GOAWAY in the middle of a watch ends it and sends the next request to a new connection")
    func goAwayDuringWatch() async throws {
        try await withStarted(try await Self.start(FaultPlan(goAwayAfterWatchEvents: 1))) { fixture in
            let ca = try Self.caFile(fixture)
            let base = fixture.emulator.url + "/api/v1/namespaces/default/configmaps"
            _ = try await fixture.kubectl(["create", "configmap", "one"])
            let before = fixture.emulator.connectionsByProtocol()["HTTP/2"] ?? 0
            // One curl, two transfers: the watch (ended by the GOAWAY after its first event), then a
            // list that cannot reuse the connection the server is closing.
            let result = try await Self.curl(
                fixture, ca: ca,
                [
                    "--http2", "-N", "\(base)?watch=1", "-o", "/dev/null", "\(base)", "-o", "/dev/null",
                    "-w", "%{http_code} %{num_connects}\n",
                ])
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stdout == "200 1\n200 1\n", "\(result.stderr)")
            #expect((fixture.emulator.connectionsByProtocol()["HTTP/2"] ?? 0) == before + 2)

            // Without the fault, the same two transfers share one connection.
            fixture.emulator.faults.reset()
            let reused = try await Self.curl(
                fixture, ca: ca,
                [
                    "--http2", "\(base)?watch=1&timeoutSeconds=1", "-o", "/dev/null", "\(base)", "-o",
                    "/dev/null",
                    "-w", "%{http_code} %{num_connects}\n",
                ])
            #expect(reused.stdout == "200 1\n200 0\n", "\(reused.stderr)")
        }
    }
}

import Foundation
import JSONValue
import KubeEmulator
import Testing
import TestSupport

/// The transport as libcurl (OpenSSL) sees it, through the curl command: the generated CA
/// verifies the server for 127.0.0.1 and localhost, client certificates authenticate, and
/// `Expect: 100-continue` is answered at once.
@Suite("transport")
struct TransportTests {
    @Test("curl verifies the server certificate with the CA, for 127.0.0.1 and localhost")
    func certificateVerifies() async throws {
        try await withEmulator(KubeEmulator.Options(tls: true)) { fixture in
            let authority = try #require(fixture.emulator.certificateAuthority)
            let caFile = fixture.directory.file("ca.pem")
            try authority.certificatePEM.write(toFile: caFile, atomically: true, encoding: .utf8)
            let curl = try ProcessRunner.which("curl")
            for host in ["127.0.0.1", "localhost"] {
                let url = "https://\(host):\(fixture.emulator.port)/version"
                let result = try await ProcessRunner.runDetached(
                    curl,
                    [
                        "-sS", "--cacert", caFile, "-H",
                        "Authorization: Bearer \(fixture.emulator.adminToken)",
                        url,
                    ])
                #expect(result.status == 0, "\(host): \(result.stderr)")
                #expect((try? JSON(parsing: result.stdout))?["gitVersion"] == "v1.32.0")
            }
            // Without the CA, verification fails: the certificate is not trusted by accident.
            let untrusted = try await ProcessRunner.runDetached(
                curl, ["-sS", "https://127.0.0.1:\(fixture.emulator.port)/version"])
            #expect(untrusted.status != 0)
        }
    }

    @Test("a client certificate authenticates curl as its CN and O")
    func clientCertificate() async throws {
        try await withEmulator(KubeEmulator.Options(tls: true)) { fixture in
            let authority = try #require(fixture.emulator.certificateAuthority)
            let certificate = try fixture.emulator.issueClientCertificate(
                user: "dana", groups: ["ops", "dev"])
            let files = (
                ca: fixture.directory.file("ca.pem"), cert: fixture.directory.file("dana.pem"),
                key: fixture.directory.file("dana.key")
            )
            try authority.certificatePEM.write(toFile: files.ca, atomically: true, encoding: .utf8)
            try certificate.certificatePEM.write(toFile: files.cert, atomically: true, encoding: .utf8)
            try certificate.privateKeyPEM.write(toFile: files.key, atomically: true, encoding: .utf8)
            let review: JSON = ["apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"]
            let result = try await ProcessRunner.runDetached(
                try ProcessRunner.which("curl"),
                [
                    "-sS", "--cacert", files.ca, "--cert", files.cert, "--key", files.key, "-H",
                    "Content-Type: application/json", "--data", review.jsonText,
                    "https://127.0.0.1:\(fixture.emulator.port)/apis/authentication.k8s.io/v1/selfsubjectreviews",
                ])
            let answer = try JSON(parsing: result.stdout)
            #expect(
                answer[path: "status", "userInfo", "username"] == "dana", "\(result.stdout) \(result.stderr)")
            #expect(answer[path: "status", "userInfo", "groups"] == ["ops", "dev", "system:authenticated"])
        }
    }

    @Test("Expect: 100-continue is answered without libcurl's one-second wait")
    func expectContinue() async throws {
        try await withEmulator { fixture in
            let body: JSON = [
                "apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "big"],
                "data": ["a": .string(String(repeating: "x", count: 5000))],
            ]
            let file = fixture.directory.file("big.json")
            try body.jsonText.write(toFile: file, atomically: true, encoding: .utf8)
            let result = try await ProcessRunner.runDetached(
                try ProcessRunner.which("curl"),
                [
                    "-sS", "-v", "-o", "/dev/null", "-w", "%{http_code}", "--expect100-timeout", "30", "-H",
                    "Expect: 100-continue", "-H", "Authorization: Bearer \(fixture.emulator.adminToken)",
                    "-H",
                    "Content-Type: application/json", "--data-binary", "@\(file)",
                    fixture.emulator.url + "/api/v1/namespaces/default/configmaps",
                ])
            #expect(result.stdout == "201", "\(result.stderr)")
            // The interim answer came from the server, not from curl giving up waiting for it.
            #expect(result.stderr.contains("< HTTP/1.1 100 Continue"), "\(result.stderr)")
        }
    }
}

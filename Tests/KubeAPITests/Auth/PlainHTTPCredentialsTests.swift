import Foundation
import KubeEmulator
import Testing
import TestSupport

@testable import KubeAPI

/// Credentials travel over TLS only, as with kubectl: client-go reads a user's credentials only
/// when the server is `https` (`IsConfigTransportTLS` in clientcmd's `ClientConfig`), so against
/// an `http://` server no token, password or client certificate is sent, no exec plugin runs, and
/// a proxy in between sees none either.
@Suite struct PlainHTTPCredentialsTests {
    /// A user entry of each kind, written by `fixtures`; the marker is what must never travel.
    func users(_ fixtures: Fixtures, marker: String) throws -> [(kind: String, body: String)] {
        try fixtures.write("token", marker)
        try fixtures.write(
            "client.crt", "-----BEGIN CERTIFICATE-----\n\(marker)\n-----END CERTIFICATE-----\n")
        try fixtures.write(
            "client.key", "-----BEGIN PRIVATE KEY-----\n\(marker)\n-----END PRIVATE KEY-----\n")
        try fixtures.script(
            "bin/plugin",
            """
            echo run >> "\(fixtures.path)/plugin-runs"
            echo '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"\(marker)"}}'
            """)
        return [
            ("token", "    token: \(marker)\n"),
            ("tokenFile", "    tokenFile: token\n"),
            ("basic", "    username: admin\n    password: \(marker)\n"),
            ("client certificate", "    client-certificate: client.crt\n    client-key: client.key\n"),
            (
                "exec plugin",
                "    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: ./bin/plugin\n"
                    + "      interactiveMode: Never\n"
            ),
        ]
    }

    @Test func noCredentialOfAnyKindIsSentToAPlainHTTPServer() async throws {
        let listener = try SilentListener()
        listener.acceptConnections()
        defer { listener.stop() }
        let fixtures = try Fixtures()
        var markers = LeakMarkers()
        let marker = markers.make("credential")
        for (kind, body) in try users(fixtures, marker: marker) {
            let path = try fixtures.write(
                "kubeconfig-\(kind.replacingOccurrences(of: " ", with: "-"))",
                kubeconfigText(server: "http://127.0.0.1:\(listener.port)", userBody: body))
            let client = try makeClient(kubeconfig: path) {
                $0.transport.requestTimeout = .milliseconds(800)
                $0.retryPolicy = .none
            }
            let before = listener.requests.count
            _ = try? await client.list(Secret.self)
            try await eventually("the listener records the \(kind) request") {
                listener.requests.count > before
            }
            let request = listener.requests[before]
            #expect(request.hasPrefix("GET /api/v1/namespaces/default/secrets"), "\(kind): \(request)")
            #expect(!request.lowercased().contains("authorization:"), "\(kind) sent: \(request)")
            #expect(markers.leaks(in: request).isEmpty, "\(kind) sent: \(request)")
        }
        #expect(
            !FileManager.default.fileExists(atPath: fixtures.path + "/plugin-runs"), "the exec plugin ran")
    }

    @Test func throughAProxyNeither() async throws {
        let proxy = try SilentListener()
        proxy.acceptConnections()
        defer { proxy.stop() }
        let fixtures = try Fixtures()
        var markers = LeakMarkers()
        let marker = markers.make("proxied")
        for server in ["http://kubernetes.invalid:6443", "https://kubernetes.invalid:6443"] {
            let path = try fixtures.write(
                "kubeconfig",
                kubeconfigText(
                    server: server, clusterExtra: "    proxy-url: http://127.0.0.1:\(proxy.port)\n",
                    userBody: "    token: \(marker)\n"))
            let client = try makeClient(kubeconfig: path) {
                $0.transport.requestTimeout = .milliseconds(800)
                $0.retryPolicy = .none
            }
            let before = proxy.requests.count
            _ = try? await client.list(Secret.self)
            try await eventually("the proxy records the request to \(server)") {
                proxy.requests.count > before
            }
            let request = proxy.requests[before]
            // Plain HTTP: the request itself, without the token; HTTPS: only the CONNECT of the
            // tunnel, the token (inside TLS) never reaches the proxy.
            let expected =
                server.hasPrefix("https")
                ? "CONNECT kubernetes.invalid:6443 " : "GET http://kubernetes.invalid"
            #expect(request.hasPrefix(expected), "\(request)")
            #expect(markers.leaks(in: request).isEmpty, "the proxy saw the token: \(request)")
            #expect(!request.lowercased().contains("authorization:"), "\(request)")
        }
    }

    /// The reference: kubectl, given the same file, sends no token to the same server either.
    @Test func kubectlSendsNoneEither() async throws {
        let listener = try SilentListener()
        listener.acceptConnections()
        defer { listener.stop() }
        let fixtures = try Fixtures()
        var markers = LeakMarkers()
        let marker = markers.make("kubectl")
        let path = try fixtures.write(
            "kubeconfig",
            kubeconfigText(server: "http://127.0.0.1:\(listener.port)", userBody: "    token: \(marker)\n"))
        _ = try await ProcessRunner.runDetached(
            try EmulatorFixture.kubectlPath(), ["get", "secrets", "--request-timeout=1s"],
            environment: ["HOME": fixtures.path, "KUBECONFIG": path], timeout: 120)
        let requests = listener.requests
        #expect(!requests.isEmpty, "kubectl reached the listener")
        for request in requests {
            #expect(markers.leaks(in: request).isEmpty, "kubectl sent the token: \(request)")
        }
    }

    /// The same credentials over HTTPS are sent (and accepted), and a 401 from a plain-HTTP
    /// server says why no credentials went with the request.
    @Test func overHTTPSTheyAreSentAndOverHTTPTheRefusalSaysWhy() async throws {
        let policy = AccessPolicy(users: [
            .init(
                info: UserInfo(name: "ops"), token: "ops-token",
                rules: [AccessRule(verbs: ["*"], apiGroups: ["*"], resources: ["*"])])
        ])
        try await withEmulator(.init(policy: policy, tls: true, rolloutDelay: .milliseconds(50))) { fixture in
            let client = try makeClient(kubeconfig: try fixture.kubeconfig(user: "ops", token: "ops-token"))
            _ = try await client.create(ConfigMap(name: "over-tls"))
        }
        try await withEmulator(
            .init(policy: policy, rolloutDelay: .milliseconds(50), anonymousHTTP: .unauthorized)
        ) { fixture in
            let client = try makeClient(kubeconfig: try fixture.kubeconfig(user: "ops", token: "ops-token"))
            do {
                _ = try await client.list(ConfigMap.self)
                Issue.record("expected 401: no token was sent")
            } catch let error as KubeError {
                #expect(error.category == .unauthorized)
                #expect(error.message.contains("no credentials were sent"), "\(error.message)")
                #expect(error.message.contains("https://"), "\(error.message)")
                #expect(!error.message.contains("ops-token"))
            }
        }
    }
}

import Foundation
import KubeEmulator
import Logging
import Synchronization
import Testing
import TestSupport

@testable import KubeAPI

/// Collects log records in memory.
final class LogCapture: Sendable {
    private let lines = Mutex<[String]>([])

    var text: String { lines.withLock { $0.joined(separator: "\n") } }

    func logger() -> Logger {
        var logger = Logger(label: "test") { _ in CapturingHandler(capture: self) }
        logger.logLevel = .trace
        return logger
    }

    func append(_ line: String) { lines.withLock { $0.append(line) } }

    struct CapturingHandler: LogHandler {
        let capture: LogCapture
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let fields = (event.metadata ?? [:]).map { "\($0.key)=\($0.value)" }.sorted().joined(
                separator: " ")
            capture.append("\(event.level) \(event.message) \(fields)")
        }
    }
}

/// What goes on the wire and into the logs: headers, field manager, keep-alive, proxy, and
/// never a credential or secret in a log line.
@Suite struct RequestShapeTests {
    @Test func userAgentFieldManagerAndHeadersOnTheWire() async throws {
        let listener = try SilentListener()
        listener.acceptConnections()
        defer { listener.stop() }
        var configuration = ClientConfiguration(
            transport: TransportConfiguration(
                server: "http://127.0.0.1:\(listener.port)", requestTimeout: .milliseconds(800)),
            authentication: .bearerToken(Sensitive("wire-token")))
        configuration.retryPolicy = .none
        let client = try KubeClient(configuration: configuration)
        _ = try? await client.create(ConfigMap(name: "shape"))
        let request = try #require(listener.requests.first)
        #expect(
            request.hasPrefix(
                "POST /api/v1/namespaces/default/configmaps?fieldManager=beluga-secrets HTTP/1.1\r\n"))
        #expect(request.contains("\r\nUser-Agent: beluga-secrets/\(KubeAPIVersion.version) (linux/"))
        #expect(!request.contains("wire-token"), "no credential over plain HTTP (PlainHTTPCredentialsTests)")
        #expect(request.contains("\r\nContent-Type: application/json\r\n"))
        #expect(request.contains("\r\nAccept: application/json\r\n"))
        #expect(request.contains("\"name\":\"shape\""))
    }

    @Test func basicAuthenticationHeader() async throws {
        let fixtures = try Fixtures()
        let path = try fixtures.write(
            "kubeconfig",
            kubeconfigText(
                server: "https://127.0.0.1:6443", userBody: "    username: admin\n    password: s3cret\n"))
        let configuration = try ClientConfiguration.load(
            .init(
                kubeconfig: path, environment: isolatedEnvironment(home: "/nonexistent-home"),
                allowInCluster: false))
        let credentials = try await Authenticator(configuration: configuration).credentials()
        let expected = Data("admin:s3cret".utf8).base64EncodedString()
        #expect(credentials.authorization == "Basic \(expected)")
    }

    @Test func debugLogsNameRequestsButNeverCredentialsOrValues() async throws {
        // TLS, so that the token is sent (and could leak into a log line).
        try await withEmulator(.init(tls: true, rolloutDelay: .milliseconds(50))) { fixture in
            var markers = LeakMarkers()
            let token = markers.make("token")
            let value = markers.make("value")
            fixture.emulator.setPolicy(
                AccessPolicy(users: [
                    .init(
                        info: UserInfo(name: "ops"), token: token,
                        rules: [AccessRule(verbs: ["*"], apiGroups: ["*"], resources: ["*"])])
                ]))
            let capture = LogCapture()
            var configuration = try ClientConfiguration.load(
                .init(
                    kubeconfig: try fixture.kubeconfig(user: "ops", token: token),
                    environment: isolatedEnvironment(home: "/nonexistent-home"), allowInCluster: false))
            configuration.retryPolicy = RetryPolicy(maximumAttempts: 3, initialBackoff: .milliseconds(10))
            let client = try KubeClient(configuration: configuration, logger: capture.logger())
            var secret = Secret(name: "logged")
            secret.set("api-key", Array(value.utf8))
            _ = try await client.create(secret)
            _ = try await client.get(Secret.self, name: "logged")
            fixture.emulator.faults.update {
                $0.errors = [.init(code: 503, count: 1, retryAfterSeconds: 0, match: .init(verbs: ["get"]))]
            }
            _ = try await client.get(Secret.self, name: "logged")
            _ = try? await client.get(Secret.self, name: "absent")

            let log = capture.text
            #expect(log.contains("method=POST path=/api/v1/namespaces/default/secrets status=201"))
            #expect(log.contains("path=/api/v1/namespaces/default/secrets/logged status=200"))
            #expect(log.contains("status=503"))
            #expect(log.contains("retrying request"))
            #expect(log.contains("status=404"))
            #expect(log.contains("duration_ms="))
            #expect(markers.leaks(in: log).isEmpty, "no token or secret value in the logs")
        }
    }

    @Test func connectionsAreReused() async throws {
        try await withEmulator { fixture in
            let client = try makeClient(kubeconfig: fixture.kubeconfigPath)
            for index in 0..<20 { _ = try await client.create(ConfigMap(name: "keep-\(index)")) }
            for _ in 0..<20 { _ = try await client.list(ConfigMap.self) }
            #expect(client.openedConnections == 1, "40 sequential requests over one kept-alive connection")
        }
    }

    @Test func proxyURLCarriesTheTraffic() async throws {
        let proxy = try SilentListener()
        proxy.acceptConnections()
        defer { proxy.stop() }
        let fixtures = try Fixtures()
        let path = try fixtures.write(
            "kubeconfig",
            kubeconfigText(
                server: "http://kubernetes.invalid:6443",
                clusterExtra: "    proxy-url: http://127.0.0.1:\(proxy.port)\n"))
        let client = try makeClient(kubeconfig: path) {
            $0.transport.requestTimeout = .milliseconds(800)
            $0.retryPolicy = .none
        }
        _ = try? await client.list(Secret.self)
        let request = try #require(proxy.requests.first)
        #expect(
            request.hasPrefix("GET http://kubernetes.invalid:6443/api/v1/namespaces/default/secrets HTTP/1.1")
        )
        #expect(!request.lowercased().contains("authorization:"), "the proxy sees no credential: \(request)")
    }
}

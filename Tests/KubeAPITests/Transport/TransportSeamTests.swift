import Foundation
import KubeEmulator
import Synchronization
import Testing
import TestSupport

@testable import KubeAPI

/// The seams of `KubeClient`: the transport behind it can be another one, and every request it
/// sends is reported once to its observer (the agent's request metric), retries included.
struct TransportSeamTests {
    /// Forwards to libcurl's transport, answering the first `conflicts` writes with 409 itself.
    final class ConflictingTransport: KubeTransport {
        let inner: any KubeTransport
        private let state: Mutex<(conflictsLeft: Int, sent: Int)>

        init(_ inner: any KubeTransport, conflicts: Int) {
            self.inner = inner
            state = Mutex((conflicts, 0))
        }

        var sent: Int { state.withLock { $0.sent } }

        func send(_ request: HTTPRequest, credentials: RequestCredentials) async throws(TransportError)
            -> HTTPResponse
        {
            let conflict = state.withLock { state in
                state.sent += 1
                guard request.method == .put, state.conflictsLeft > 0 else { return false }
                state.conflictsLeft -= 1
                return true
            }
            if conflict {
                let body =
                    #"{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"Conflict","code":409}"#
                return HTTPResponse(
                    head: HTTPResponseHead(status: 409, headers: ["content-type": "application/json"]),
                    body: Array(body.utf8))
            }
            return try await inner.send(request, credentials: credentials)
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

    @Test func aTransportInFrontOfLibcurlSeesEveryRequestAndTheObserverEveryAnswer() async throws {
        try await withEmulator { fixture in
            let configuration = try ClientConfiguration.load(
                .init(kubeconfig: fixture.kubeconfigPath, environment: [:], allowInCluster: false))
            let transport = ConflictingTransport(
                try CurlTransport(configuration: configuration.transport), conflicts: 2)
            let statuses = Mutex<[Int?]>([])
            let client = KubeClient(
                configuration: configuration, transport: transport,
                requestObserver: { status in statuses.withLock { $0.append(status) } })

            var created = try await client.create(ConfigMap(name: "seam"))
            #expect(try await client.getIfPresent(ConfigMap.self, name: "missing") == nil)
            created.data = ["k": "v"]
            // Two conflicts from the transport, then the API server's own answer.
            let written = try await ConflictRetry.agent.run(object: "ConfigMap default/seam") {
                (_: Int) async throws(KubeError) -> ConfigMap in
                try await client.replace(created)
            }
            #expect(written.data["k"] == "v")
            #expect(transport.sent == 5)
            #expect(statuses.withLock { $0 } == [201, 404, 409, 409, 200])
        }
    }
}

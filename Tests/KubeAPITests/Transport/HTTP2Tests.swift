import Foundation
import KubeEmulator
import Testing
import TestSupport

@testable import KubeAPI

/// Over TLS the client speaks HTTP/2, as it does with a real API server, and a watch goes on
/// when the server sends GOAWAY in the middle of it (as a server shutting down does).
@Suite struct HTTP2Tests {
    @Test func requestsGoOverHTTP2WithTLS() async throws {
        try await withEmulator(.init(tls: true, rolloutDelay: .milliseconds(50))) { fixture in
            let client = try makeClient(kubeconfig: fixture.kubeconfigPath)
            _ = try await client.create(ConfigMap(name: "over-h2"))
            _ = try await client.list(ConfigMap.self)
            _ = try await client.get(ConfigMap.self, name: "over-h2")
            let byProtocol = fixture.emulator.requestsByProtocol()
            #expect((byProtocol["HTTP/2"] ?? 0) >= 3, "\(byProtocol)")
            #expect(byProtocol["HTTP/1.1"] == nil, "\(byProtocol)")
        }
    }

    @Test func watchGoesOnOnANewConnectionAfterGoAway() async throws {
        try await withEmulator(
            .init(tls: true, rolloutDelay: .milliseconds(50), faults: FaultPlan(goAwayAfterWatchEvents: 1))
        ) { fixture in
            let client = try makeClient(kubeconfig: fixture.kubeconfigPath)
            let log = EventLog()
            let task = Task {
                for try await event in client.watch(
                    ConfigMap.self, options: WatchOptions(labelSelector: "app=h2"))
                {
                    log.append("\(event.kind.rawValue) \(event.object.name)")
                }
            }
            func labelled(_ name: String) -> ConfigMap {
                var map = ConfigMap(name: name)
                map.metadata.labels = ["app": "h2"]
                return map
            }
            _ = try await client.create(labelled("before"))
            try await eventually("the first event") { log.entries == ["ADDED before"] }
            // The server sent GOAWAY after that event and ended the watch; the client watches again,
            // from where it was, on a new connection.
            _ = try await client.create(labelled("after"))
            try await eventually("the event after the GOAWAY") { log.entries.count >= 2 }
            #expect(log.entries == ["ADDED before", "ADDED after"])
            #expect((fixture.emulator.connectionsByProtocol()["HTTP/2"] ?? 0) >= 2)
            #expect(fixture.emulator.requestsByProtocol()["HTTP/1.1"] == nil)
            task.cancel()
            _ = await task.result
            try await eventually("the watches to close") { await fixture.emulator.openWatchCount() == 0 }
        }
    }

    @Test func cancelledWatchEndsOnTheServer() async throws {
        try await withEmulator(.init(tls: true, rolloutDelay: .milliseconds(50))) { fixture in
            let client = try makeClient(kubeconfig: fixture.kubeconfigPath)
            let task = Task {
                for try await _ in client.watch(
                    ConfigMap.self, options: WatchOptions(labelSelector: "app=none"))
                {}
            }
            try await eventually("the watch to open") { await fixture.emulator.openWatchCount() == 1 }
            task.cancel()
            _ = await task.result
            // The stream is not left open on the HTTP/2 connection.
            try await eventually("the watch to end on the server") {
                await fixture.emulator.openWatchCount() == 0
            }
            _ = try await client.list(ConfigMap.self)
        }
    }
}

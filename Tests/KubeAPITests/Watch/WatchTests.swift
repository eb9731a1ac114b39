import Foundation
import KubeEmulator
import Synchronization
import Testing
import TestSupport

@testable import KubeAPI

/// Collects what a watch delivers, for assertions from the test task.
final class EventLog: Sendable {
    private let events = Mutex<[String]>([])

    func append(_ entry: String) { events.withLock { $0.append(entry) } }
    var entries: [String] { events.withLock { $0 } }
}

@Suite struct WatchTests {
    /// Consumes `stream` in the background into `log` as `KIND name[=value]`.
    func record(_ stream: AsyncThrowingStream<WatchEvent<ConfigMap>, any Error>, into log: EventLog) -> Task<
        Void, any Error
    > {
        Task {
            for try await event in stream {
                let value = event.object["value"].map { "=\($0)" } ?? ""
                log.append("\(event.kind.rawValue) \(event.object.name)\(value)")
            }
        }
    }

    @Test func deliversCurrentObjectsThenChanges() async throws {
        try await withEmulator { fixture in
            let client = try makeClient(kubeconfig: fixture.kubeconfigPath)
            var existing = ConfigMap(name: "existing")
            existing.metadata.labels = ["app": "beluga"]
            _ = try await client.create(existing)
            _ = try await client.create(ConfigMap(name: "unlabelled"))

            let log = EventLog()
            let task = record(
                client.watch(ConfigMap.self, options: WatchOptions(labelSelector: "app=beluga")), into: log)
            try await eventually("the initial list") { log.entries == ["ADDED existing"] }

            var created = ConfigMap(name: "new")
            created.metadata.labels = ["app": "beluga"]
            created["value"] = "1"
            created = try await client.create(created)
            created["value"] = "2"
            _ = try await client.replace(created)
            try await client.delete(ConfigMap.self, name: "new")
            try await eventually("three changes") { log.entries.count == 4 }
            #expect(log.entries == ["ADDED existing", "ADDED new=1", "MODIFIED new=2", "DELETED new=2"])

            task.cancel()

            _ = await task.result  // ended before the emulator stops

            try await eventually("the watches to close") { await fixture.emulator.openWatchCount() == 0 }
            try await eventually("the watch to close on the server") {
                await fixture.emulator.openWatchCount() == 0
            }
        }
    }

    @Test func survivesDroppedStreamsAndServerTimeouts() async throws {
        try await withEmulator(
            .init(rolloutDelay: .milliseconds(50), faults: FaultPlan(dropWatchAfterEvents: 1))
        ) { fixture in
            let client = try makeClient(kubeconfig: fixture.kubeconfigPath)
            let log = EventLog()
            let restarts = EventLog()
            var options = WatchOptions(serverTimeoutSeconds: 1)
            options.reconnectBackoff = RetryPolicy(maximumAttempts: .max, initialBackoff: .milliseconds(20))
            options.onRestart = { restarts.append($0.rawValue) }
            let task = record(client.watch(ConfigMap.self, options: options), into: log)
            try await eventually("the initial list") {
                let open = await fixture.emulator.openWatchCount()
                return log.entries.isEmpty && open == 1
            }
            for index in 0..<6 {
                var map = ConfigMap(name: "item-\(index)")
                map["value"] = "\(index)"
                _ = try await client.create(map)
                if index == 2 { try await Task.sleep(for: .milliseconds(1300)) }  // past a server time-out
            }
            try await eventually("every change despite the drops") { log.entries.count >= 6 }
            #expect(
                log.entries == (0..<6).map { "ADDED item-\($0)=\($0)" }, "in order, none twice, none lost")
            // Each drop after an event, and the server's time-out, ended a stream that was resumed
            // (the drop after the last event may be noticed after that event was delivered).
            try await eventually("a restart after each drop") { restarts.entries.count >= 6 }
            #expect(Set(restarts.entries).isSubset(of: ["ended", "failed"]), "\(restarts.entries)")
            task.cancel()
            _ = await task.result  // ended before the emulator stops
            try await eventually("the watches to close") { await fixture.emulator.openWatchCount() == 0 }
        }
    }

    @Test func bookmarksAreDeliveredWhenAsked() async throws {
        try await withEmulator(
            .init(rolloutDelay: .milliseconds(50), bookmarkInterval: .milliseconds(200))
        ) { fixture in
            let client = try makeClient(kubeconfig: fixture.kubeconfigPath)
            let created = try await client.create(ConfigMap(name: "marker"))
            let log = EventLog()
            let stream = client.watch(ConfigMap.self, options: WatchOptions(includeBookmarks: true))
            let task = Task {
                for try await event in stream {
                    log.append("\(event.kind.rawValue) \(event.object.resourceVersion ?? "")")
                }
            }
            try await eventually("a bookmark") { log.entries.contains { $0.hasPrefix("BOOKMARK ") } }
            #expect(log.entries.first == "ADDED \(created.resourceVersion ?? "")")
            let bookmark = log.entries.first { $0.hasPrefix("BOOKMARK ") } ?? ""
            #expect(
                Int(bookmark.dropFirst("BOOKMARK ".count)) ?? 0 >= Int(created.resourceVersion ?? "") ?? 1)
            task.cancel()
            _ = await task.result  // ended before the emulator stops
            try await eventually("the watches to close") { await fixture.emulator.openWatchCount() == 0 }
        }
    }

    @Test func expiredVersionRelistsAndReportsTheDifference() async throws {
        try await withEmulator { fixture in
            let client = try makeClient(kubeconfig: fixture.kubeconfigPath)
            var first = ConfigMap(name: "first")
            first["value"] = "a"
            first = try await client.create(first)
            let start = first.resourceVersion
            var second = ConfigMap(name: "second")
            second["value"] = "b"
            _ = try await client.create(second)
            await fixture.emulator.compactWatchHistory()

            let log = EventLog()
            let task = record(
                client.watch(ConfigMap.self, options: WatchOptions(resourceVersion: start)), into: log)
            try await eventually("the relist after 410") { log.entries.count >= 2 }
            #expect(Set(log.entries) == ["ADDED first=a", "ADDED second=b"])
            var third = ConfigMap(name: "third")
            third["value"] = "c"
            _ = try await client.create(third)
            try await eventually("the watch to continue") { log.entries.count == 3 }
            #expect(log.entries.last == "ADDED third=c")
            task.cancel()
            _ = await task.result  // ended before the emulator stops
            try await eventually("the watches to close") { await fixture.emulator.openWatchCount() == 0 }
        }
    }

    @Test func informerStaysCorrectThroughDropsAndCompaction() async throws {
        // Every stream ends after one event and the history holds one change, so reconnects
        // often find their version compacted (410) and must relist.
        try await withEmulator(
            .init(
                rolloutDelay: .milliseconds(50), watchHistoryLimit: 1,
                faults: FaultPlan(dropWatchAfterEvents: 1))
        ) { fixture in
            let client = try makeClient(kubeconfig: fixture.kubeconfigPath)
            let latest = Mutex<[String]>([])
            var options = WatchOptions(labelSelector: "app=beluga")
            options.reconnectBackoff = RetryPolicy(maximumAttempts: .max, initialBackoff: .milliseconds(20))
            let snapshots = client.informer(ConfigMap.self, options: options)
            let task = Task {
                for try await objects in snapshots {
                    latest.withLock { $0 = objects.map { "\($0.name)=\($0["value"] ?? "")" } }
                }
            }
            for index in 0..<8 {
                var map = ConfigMap(name: "m\(index)")
                map.metadata.labels = ["app": "beluga"]
                map["value"] = "v\(index)"
                _ = try await client.create(map)
            }
            for index in [1, 4, 6] { try await client.delete(ConfigMap.self, name: "m\(index)") }
            _ = try await client.patch(
                ConfigMap.self, name: "m0", patch: .merge(["data": ["value": "changed"]]))
            let expected = ["m0=changed", "m2=v2", "m3=v3", "m5=v5", "m7=v7"]
            try await eventually("the informer to converge", timeout: .seconds(30)) {
                latest.withLock { $0 } == expected
            }
            task.cancel()
            _ = await task.result  // ended before the emulator stops
            try await eventually("the watches to close") { await fixture.emulator.openWatchCount() == 0 }
        }
    }

    @Test func watchObjectFollowsOneNamedObject() async throws {
        try await withEmulator { fixture in
            let client = try makeClient(kubeconfig: fixture.kubeconfigPath)
            _ = try await client.create(ConfigMap(name: "neighbour"))
            let states = Mutex<[String]>([])
            let stream = client.watchObject(ConfigMap.self, name: "beluga-ai-config")
            let task = Task {
                for try await state in stream {
                    states.withLock {
                        $0.append(state.map { "present \($0["llmProvider"] ?? "")" } ?? "absent")
                    }
                }
            }
            try await eventually("the first state") { states.withLock { $0 } == ["absent"] }
            var map = ConfigMap(name: "beluga-ai-config")
            map["llmProvider"] = "openai"
            _ = try await client.create(map)
            try await eventually("creation") { states.withLock { $0.last } == "present openai" }
            _ = try await client.patch(ConfigMap.self, name: "neighbour", patch: .merge(["data": ["x": "y"]]))
            try await client.delete(ConfigMap.self, name: "beluga-ai-config")
            try await eventually("deletion") { states.withLock { $0.last } == "absent" }
            #expect(
                states.withLock { $0 } == ["absent", "present openai", "absent"], "the neighbour is not seen")
            task.cancel()
            _ = await task.result  // ended before the emulator stops
            try await eventually("the watches to close") { await fixture.emulator.openWatchCount() == 0 }
        }
    }

    @Test func forbiddenWatchEndsWithTheError() async throws {
        // TLS: the agent's token is sent to an https server only.
        try await withEmulator(.init(tls: true, rolloutDelay: .milliseconds(50))) { fixture in
            fixture.emulator.setPolicy(
                AccessPolicy(users: [
                    .init(
                        info: UserInfo(name: "agent"), token: "agent-token",
                        rules: [
                            AccessRule(
                                verbs: ["get", "list", "watch"], resources: ["configmaps"],
                                resourceNames: ["mine"])
                        ])
                ]))
            let client = try makeClient(
                kubeconfig: try fixture.kubeconfig(user: "agent", token: "agent-token"))
            // By name (field selector): allowed by resourceNames.
            let states = Mutex<[String]>([])
            let named = client.watchObject(ConfigMap.self, name: "mine")
            let task = Task {
                for try await state in named {
                    states.withLock { $0.append(state == nil ? "absent" : "present") }
                }
            }
            try await eventually("the named watch") { states.withLock { $0 } == ["absent"] }
            task.cancel()
            _ = await task.result  // ended before the emulator stops
            try await eventually("the watches to close") { await fixture.emulator.openWatchCount() == 0 }
            // Everything: refused, and the stream ends with the 403.
            do {
                for try await _ in client.watch(ConfigMap.self) {}
                Issue.record("expected 403")
            } catch let error as KubeError {
                #expect(error.category == .forbidden)
                #expect(error.message.contains("cannot list configmaps"), "\(error.message)")
            }
        }
    }
}

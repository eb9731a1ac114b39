import Foundation
import JSONValue
import KubeEmulator
import Testing
import TestSupport

/// Watch streams read by curl (an independent HTTP client): newline-delimited events, resume
/// from a resourceVersion, 410 after compaction, bookmarks, timeouts and selector transitions.
@Suite("watch")
struct WatchTests {
    let configMaps = "/api/v1/namespaces/default/configmaps"

    func watch(_ fixture: EmulatorFixture, _ query: String) throws -> RunningProcess {
        try RunningProcess(
            try ProcessRunner.which("curl"),
            [
                "-sN", "-H", "Authorization: Bearer \(fixture.emulator.adminToken)",
                fixture.emulator.url + configMaps + "?" + query,
            ])
    }

    static func events(_ text: String) -> [JSON] {
        text.split(separator: "\n").compactMap { try? JSON(parsing: String($0)) }
    }

    func create(_ fixture: EmulatorFixture, _ name: String, labels: JSON = [:]) async throws -> JSON {
        try await fixture.request(
            "POST", configMaps,
            body: [
                "apiVersion": "v1", "kind": "ConfigMap",
                "metadata": ["name": .string(name), "labels": labels], "data": ["k": "v"],
            ]
        ).json
    }

    @Test("a watch without resourceVersion lists first, then streams changes in order")
    func initialStateThenChanges() async throws {
        try await withEmulator { fixture in
            _ = try await create(fixture, "before")
            let stream = try watch(fixture, "watch=1")
            #expect(await stream.waitForOutput { Self.events($0).count == 1 })
            _ = try await create(fixture, "after")
            _ = try await fixture.request(
                "PATCH", "\(configMaps)/after", body: ["data": ["k": "w"]],
                contentType: "application/merge-patch+json")
            _ = try await fixture.request("DELETE", "\(configMaps)/before")
            #expect(await stream.waitForOutput { Self.events($0).count == 4 })
            let events = Self.events(stream.stdout)
            #expect(
                events.map { $0["type"]?.stringValue ?? "" } == ["ADDED", "ADDED", "MODIFIED", "DELETED"])
            #expect(
                events.map { $0[path: "object", "metadata", "name"]?.stringValue ?? "" } == [
                    "before", "after", "after", "before",
                ])
            #expect(events[0][path: "object", "kind"] == "ConfigMap")
            let versions = events.compactMap {
                Int($0[path: "object", "metadata", "resourceVersion"]?.stringValue ?? "")
            }
            #expect(versions == versions.sorted() && Set(versions).count == versions.count)
            await stream.stop()
        }
    }

    @Test("resuming from a resourceVersion replays only later changes; a compacted one gets 410")
    func resumeAndExpired() async throws {
        try await withEmulator { fixture in
            let first = try await create(fixture, "one")
            let version = first[path: "metadata", "resourceVersion"]?.stringValue ?? ""
            _ = try await create(fixture, "two")
            let resumed = try watch(fixture, "watch=true&resourceVersion=\(version)")
            #expect(await resumed.waitForOutput { Self.events($0).count == 1 })
            try await Task.sleep(for: .milliseconds(100))
            let events = Self.events(resumed.stdout)
            #expect(events.count == 1)
            #expect(events.first?[path: "object", "metadata", "name"] == "two")
            await resumed.stop()

            await fixture.emulator.compactWatchHistory()
            let expired = try watch(fixture, "watch=true&resourceVersion=\(version)")
            #expect(await expired.waitForExit())
            let error = Self.events(expired.stdout).first
            #expect(error?["type"] == "ERROR")
            #expect(error?[path: "object", "code"] == 410)
            #expect(error?[path: "object", "reason"] == "Expired")
            let message = error?[path: "object", "message"]?.stringValue ?? ""
            #expect(message.hasPrefix("too old resource version: \(version) ("), "\(message)")
        }
    }

    @Test("bookmarks arrive when allowed; timeoutSeconds ends the stream")
    func bookmarksAndTimeout() async throws {
        try await withEmulator(
            KubeEmulator.Options(bookmarkInterval: .milliseconds(100))
        ) { fixture in
            let created = try await create(fixture, "x")
            let version = created[path: "metadata", "resourceVersion"]?.stringValue ?? ""
            // Waits for the first bookmark on a long stream rather than counting those of a short
            // one: with every suite running beside it, the emulator's tasks may not run within a
            // second or two. The short stream below shows that timeoutSeconds ends a stream.
            let stream = try watch(
                fixture, "watch=1&allowWatchBookmarks=true&resourceVersion=\(version)&timeoutSeconds=60")
            #expect(
                await stream.waitForOutput(timeout: 30) {
                    Self.events($0).contains { $0["type"] == "BOOKMARK" }
                })
            await stream.stop()
            let bookmarks = Self.events(stream.stdout).filter { $0["type"] == "BOOKMARK" }
            #expect(bookmarks.count >= 1)
            #expect(bookmarks.first?[path: "object", "kind"] == "ConfigMap")
            #expect(bookmarks.first?[path: "object", "metadata", "resourceVersion"] == .string(version))
            let plain = try watch(fixture, "watch=1&resourceVersion=\(version)&timeoutSeconds=1")
            #expect(await plain.waitForExit(timeout: 30))
            #expect(Self.events(plain.stdout).isEmpty)
        }
    }

    @Test("selectors: an object leaving the selection is DELETED, one entering is ADDED")
    func selectorTransitions() async throws {
        try await withEmulator { fixture in
            _ = try await create(fixture, "moving", labels: ["tier": "web"])
            _ = try await create(fixture, "other", labels: ["tier": "db"])
            let stream = try watch(fixture, "watch=1&labelSelector=tier%3Dweb")
            #expect(await stream.waitForOutput { Self.events($0).count == 1 })
            _ = try await fixture.request(
                "PATCH", "\(configMaps)/moving", body: ["metadata": ["labels": ["tier": "db"]]],
                contentType: "application/merge-patch+json")
            _ = try await fixture.request(
                "PATCH", "\(configMaps)/other", body: ["metadata": ["labels": ["tier": "web"]]],
                contentType: "application/merge-patch+json")
            #expect(await stream.waitForOutput { Self.events($0).count == 3 })
            let events = Self.events(stream.stdout)
            #expect(
                events.map {
                    "\($0["type"]?.stringValue ?? "") \($0[path: "object", "metadata", "name"]?.stringValue ?? "")"
                } == [
                    "ADDED moving", "DELETED moving", "ADDED other",
                ])
            await stream.stop()
            let named = try watch(fixture, "watch=1&fieldSelector=metadata.name%3Dother")
            #expect(await named.waitForOutput { Self.events($0).count == 1 })
            _ = try await create(fixture, "unrelated")
            try await Task.sleep(for: .milliseconds(100))
            #expect(Self.events(named.stdout).count == 1)
            await named.stop()
        }
    }

    @Test("a watch whose client goes away is closed on the server")
    func clientDisconnectClosesWatch() async throws {
        try await withEmulator { fixture in
            let stream = try watch(fixture, "watch=1")
            _ = try await create(fixture, "x")
            #expect(await stream.waitForOutput { Self.events($0).count == 1 })
            await stream.stop()
            var open = 1
            for _ in 0..<100 {
                open = await fixture.emulator.openWatchCount()
                if open == 0 { break }
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(open == 0)
        }
    }
}

import Foundation
import JSONValue
import KubeEmulator
import Synchronization
import Testing
import TestSupport

@testable import KubeAPI

@Suite struct PodLogTests {
    @Test func readsAndFollowsAContainerLog() async throws {
        try await withEmulator { fixture in
            let client = try makeClient(kubeconfig: fixture.kubeconfigPath)
            _ = try await client.create(
                Pod(
                    json: [
                        "apiVersion": "v1", "kind": "Pod", "metadata": ["name": "agent-0"],
                        "spec": ["containers": [["name": "agent", "image": "beluga-secrets:1"]]],
                    ]))
            let fixtures = try Fixtures()
            let logFile = try fixtures.write("agent.log", "first line\nsecond line\n")
            fixture.emulator.attachPodLog(namespace: "default", pod: "agent-0", path: logFile)

            let text = try await client.podLogs(name: "agent-0", options: PodLogOptions(container: "agent"))
            #expect(text == "first line\nsecond line\n")
            let tail = try await client.podLogs(name: "agent-0", options: PodLogOptions(tailLines: 1))
            #expect(tail == "second line\n")

            let lines = Mutex<[String]>([])
            let follow = client.followPodLogs(name: "agent-0")
            let task = Task { for try await line in follow { lines.withLock { $0.append(line) } } }
            try await eventually("the existing lines") { lines.withLock { $0.count } == 2 }
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: logFile))
            try handle.seekToEnd()
            try handle.write(contentsOf: Data("third line\n".utf8))
            try handle.close()
            try await eventually("the appended line") {
                lines.withLock { $0 } == ["first line", "second line", "third line"]
            }
            task.cancel()
            _ = await task.result  // ended before the emulator stops

            do {
                _ = try await client.podLogs(name: "missing-pod")
                Issue.record("expected notFound")
            } catch let error as KubeError {
                #expect(error.category == .notFound)
            }
        }
    }
}

import Foundation
import JSONValue
import KubeAPI
import Testing
import TestSupport

/// Keys' maximum ages with the real agent: when a key's current version passes its maximum
/// age, the agent notices on its own (no change in the cluster wakes it), writes one audit
/// record `key.overdue` and one Warning Event `KeyOverdue`, and never again for that version,
/// not even after a restart; a maximum age it cannot read is refused and the last good one kept.
@Suite struct KeyAgeTests {
    /// The agent's audit records of `event` in what it printed.
    static func records(_ event: String, in output: String) -> [JSON] {
        output.split(separator: "\n").compactMap { line in
            guard line.contains("\"event\":\"\(event)\""), let json = try? JSON(parsing: String(line)) else {
                return nil
            }
            return json["event"]?.stringValue == event ? json : nil
        }
    }

    /// The Events with `reason` in the namespace.
    static func events(_ reason: String, _ workstation: Workstation) async throws -> [JSON] {
        let result = try await workstation.kubectl(["get", "events", "-o", "json"])
        try #require(result.status == 0, "\(result.stderr)")
        return (try JSON(parsing: result.stdout)["items"]?.arrayValue ?? []).filter {
            $0["reason"]?.stringValue == reason
        }
    }

    /// The agent's status part `key-age`.
    static func keyAgeStatus(_ workstation: Workstation) async throws -> JSON? {
        let result = try await workstation.kubectl([
            "get", "configmap", "beluga-ai-secrets-status", "-o", "json",
        ])
        guard result.status == 0,
            let text = try JSON(parsing: result.stdout)[path: "data", "key-age"]?.stringValue
        else { return nil }
        return try JSON(parsing: text)
    }

    @Test func anOverdueKeyIsReportedOncePerVersionAcrossRestarts() async throws {
        try await withStarted(try await Workstation.start(publish: false)) { workstation in
            var markers = LeakMarkers()
            // The maximum age is set before the key: the key is young when the agent applies it,
            // and only the agent's own wake-up can find it overdue later.
            expectSuccess(try await workstation.run(["max-age", "openai-api-key", "15s"]))
            try await withStarted(try workstation.startAgent()) { agent in
                try await eventually("the agent publishes its keys") {
                    try await workstation.kubectl(["get", "configmap", "beluga-secrets-public-key"]).status
                        == 0
                }
                let set = try await workstation.run(
                    ["set", "openai-api-key", "--wait-for", "applied", "--timeout", "120s"],
                    stdin: markers.make("value"))
                expectSuccess(set)
                try await eventually("the agent reports the key overdue", timeout: .seconds(180)) {
                    !Self.records("key.overdue", in: agent.stdout).isEmpty
                }
                let record = try #require(Self.records("key.overdue", in: agent.stdout).first)
                #expect(record["key"] == "openai-api-key")
                #expect(record["version"] == 1)
                #expect(record["reason"]?.stringValue?.contains("older than its maximum age 15s") == true)
                try await eventually("the Warning Event is recorded") {
                    !(try await Self.events("KeyOverdue", workstation)).isEmpty
                }
                let status = try #require(try await Self.keyAgeStatus(workstation))
                #expect(status[path: "openai-api-key", "overdueVersion"] == 1)
                #expect(status[path: "openai-api-key", "maxAgeSeconds"] == 15)

                // Another change makes the agent reconcile again: nothing new about the key.
                expectSuccess(
                    try await workstation.run(
                        ["set", "anthropic-api-key", "--wait-for", "applied", "--timeout", "120s"],
                        stdin: markers.make("other")))
                #expect(Self.records("key.overdue", in: agent.stdout).count == 1)
                #expect(markers.leaks(in: agent.stdout + agent.stderr).isEmpty)
            }

            // A new agent takes over: it reads the report from the status and does not repeat it.
            try await withStarted(try workstation.startAgent(identity: "agent-b")) { agent in
                expectSuccess(
                    try await workstation.run(
                        ["set", "anthropic-api-key", "--wait-for", "applied", "--timeout", "120s"],
                        stdin: markers.make("third")))
                #expect(Self.records("key.overdue", in: agent.stdout).isEmpty, "\(agent.stdout)")
                let events = try await Self.events("KeyOverdue", workstation)
                #expect(events.count == 1)
                #expect(events.first?["count"]?.intValue ?? 1 == 1)
                #expect(events.first?["type"] == "Warning")

                // A maximum age the agent cannot read: refused as bad input, the last good one kept.
                expectSuccess(
                    try await workstation.kubectl([
                        "annotate", "--overwrite", "configmap", "beluga-ai-secrets-sealed",
                        #"beluga-ai.io/key-max-age={"openai-api-key":"soon"}"#,
                    ]))
                try await eventually("the agent refuses the maximum age") {
                    Self.records("input.rejected", in: agent.stdout).contains {
                        $0["reason"]?.stringValue?.contains("beluga-ai.io/key-max-age") == true
                    }
                }
                let kept = try #require(try await Self.keyAgeStatus(workstation))
                #expect(kept[path: "openai-api-key", "maxAgeSeconds"] == 15)
                #expect(markers.leaks(in: agent.stdout + agent.stderr).isEmpty)
            }
        }
    }
}

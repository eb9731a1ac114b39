import Foundation
import JSONValue
import KubeEmulator
import Testing
import TestSupport

/// core/v1 and events.k8s.io/v1 Events share one storage, as on a real server.
@Suite("events")
struct EventsTests {
    @Test("an event written through either API is read through both")
    func twoViews() async throws {
        try await withEmulator { fixture in
            let core: JSON = [
                "apiVersion": "v1", "kind": "Event", "metadata": ["name": "e1"],
                "involvedObject": ["kind": "Secret", "name": "s", "namespace": "default"],
                "reason": "Rejected",
                "message": "bad envelope", "type": "Warning", "count": 2, "source": ["component": "agent"],
            ]
            #expect(
                try await fixture.request("POST", "/api/v1/namespaces/default/events", body: core).status
                    == 201)
            let viewed = try await fixture.request(
                "GET", "/apis/events.k8s.io/v1/namespaces/default/events/e1"
            )
            .json
            #expect(viewed["apiVersion"] == "events.k8s.io/v1")
            #expect(viewed["note"] == "bad envelope")
            #expect(viewed["regarding"] == ["kind": "Secret", "name": "s", "namespace": "default"])
            #expect(viewed["deprecatedCount"] == 2)
            #expect(viewed["deprecatedSource"] == ["component": "agent"])

            let incomplete: JSON = [
                "apiVersion": "events.k8s.io/v1", "kind": "Event", "metadata": ["name": "e2"], "note": "x",
            ]
            let refused = try await fixture.request(
                "POST", "/apis/events.k8s.io/v1/namespaces/default/events", body: incomplete)
            #expect(refused.status == 422)
            let message = refused.json["message"]?.stringValue ?? ""
            #expect(message.hasPrefix("Event.events.k8s.io \"e2\" is invalid:"), "\(message)")
            var complete = incomplete
            complete["eventTime"] = "2024-05-01T10:00:00.000000Z"
            complete["reportingController"] = "beluga-ai.io/agent"
            complete["reportingInstance"] = "agent-0"
            complete["action"] = "Reconcile"
            complete["reason"] = "Rotated"
            complete["type"] = "Normal"
            complete["regarding"] = ["kind": "Secret", "name": "s", "namespace": "default"]
            #expect(
                try await fixture.request(
                    "POST", "/apis/events.k8s.io/v1/namespaces/default/events", body: complete
                ).status
                    == 201)
            let listed = try await fixture.kubectl([
                "get", "events", "-o", "jsonpath={range .items[*]}{.message}{\"\\n\"}{end}",
            ])
            #expect(
                listed.stdout.split(separator: "\n").sorted() == ["bad envelope", "x"], "\(listed.stderr)")
            let missing = try await fixture.request(
                "GET", "/apis/events.k8s.io/v1/namespaces/default/events/nope")
            #expect(missing.json["message"] == "events.events.k8s.io \"nope\" not found")
            #expect(missing.json[path: "details", "group"] == "events.k8s.io")
        }
    }
}

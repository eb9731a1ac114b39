import Foundation
import JSONValue
import KubeEmulator
import Testing
import TestSupport

/// The edges real API servers enforce on lists and updates: consistent pages, compacted
/// continue tokens, resourceVersions from the future, `resourceVersionMatch`, create routes,
/// and Leases that must name the version they replace.
@Suite("List and update edges")
struct ListAndUpdateEdgesTests {
    let configMaps = "/api/v1/namespaces/default/configmaps"
    let leases = "/apis/coordination.k8s.io/v1/namespaces/default/leases"

    func configMap(_ name: String) -> JSON {
        ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": .string(name)], "data": ["k": "v"]]
    }

    func names(_ list: JSON) -> [String] {
        (list["items"]?.arrayValue ?? []).compactMap { $0[path: "metadata", "name"]?.stringValue }
    }

    @Test("a POST to an object's URL is 405, not a create")
    func postToObjectURL() async throws {
        try await withEmulator { fixture in
            let answer = try await fixture.request("POST", "\(configMaps)/a", body: configMap("a"))
            #expect(answer.status == 405)
            #expect(answer.json["reason"] == "MethodNotAllowed")
            #expect(try await fixture.emulator.object("configmaps", namespace: "default", name: "a") == nil)
        }
    }

    @Test("resourceVersionMatch needs a resourceVersion and no continue token (422)")
    func resourceVersionMatchRules() async throws {
        try await withEmulator { fixture in
            let bare = try await fixture.request("GET", "\(configMaps)?resourceVersionMatch=NotOlderThan")
            #expect(bare.status == 422)
            #expect(
                bare.json["message"]
                    == "ListOptions.meta.k8s.io \"\" is invalid: resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided"
            )
            let unknown = try await fixture.request(
                "GET", "\(configMaps)?resourceVersion=1&resourceVersionMatch=Newest")
            #expect(unknown.status == 422)
            #expect(
                unknown.json[path: "details", "causes"]?[0]?["message"]
                    == "Unsupported value: \"Newest\": supported values: \"Exact\", \"NotOlderThan\", \"\"")
            let exactZero = try await fixture.request(
                "GET", "\(configMaps)?resourceVersion=0&resourceVersionMatch=Exact")
            #expect(exactZero.status == 422)
            #expect(try await fixture.request("GET", "\(configMaps)?resourceVersion=0").status == 200)
        }
    }

    @Test("a list at a resourceVersion not reached yet waits, then answers 504")
    func futureResourceVersionTimesOut() async throws {
        try await withEmulator(.init(freshnessWait: .milliseconds(100))) { fixture in
            let current = await fixture.emulator.currentResourceVersion()
            let answer = try await fixture.request("GET", "\(configMaps)?resourceVersion=\(current + 5)")
            #expect(answer.status == 504)
            #expect(answer.json["reason"] == "Timeout")
            // The emulator may write on its own meanwhile (its controllers), so the current
            // version it names is at least the one read before the request, and still short.
            let prefix = "Too large resource version: \(current + 5), current: "
            let message = answer.json["message"]?.stringValue ?? ""
            #expect(message.hasPrefix(prefix), "\(message)")
            let named = Int(message.dropFirst(prefix.count)) ?? -1
            #expect(named >= current && named < current + 5, "\(message)")
            #expect(answer.json[path: "details", "causes"]?[0]?["reason"] == "ResourceVersionTooLarge")
            #expect(answer.headers["retry-after"] == "1")
        }
    }

    @Test("a list at a resourceVersion not reached yet answers once a write reaches it")
    func futureResourceVersionAnswersWhenReached() async throws {
        // The wait is long enough for the write below on any machine: the test never relies
        // on the wait running out.
        try await withEmulator(.init(freshnessWait: .seconds(120))) { fixture in
            let next = await fixture.emulator.currentResourceVersion() + 1
            let waiting = Task { try await fixture.request("GET", "\(configMaps)?resourceVersion=\(next)") }
            _ = try await fixture.request("POST", configMaps, body: configMap("later"))
            let answer = try await waiting.value
            #expect(answer.status == 200)
            #expect(names(answer.json) == ["later"])
        }
    }

    @Test("pages after the first show the list as it was at the first page's resourceVersion")
    func consistentPages() async throws {
        try await withEmulator { fixture in
            for name in ["a", "b", "c"] {
                #expect(try await fixture.request("POST", configMaps, body: configMap(name)).status == 201)
            }
            let first = try await fixture.request("GET", "\(configMaps)?limit=1")
            #expect(names(first.json) == ["a"])
            let token = first.json[path: "metadata", "continue"]?.stringValue ?? ""
            #expect(try await fixture.request("DELETE", "\(configMaps)/b").status == 200)
            #expect(try await fixture.request("POST", configMaps, body: configMap("d")).status == 201)
            let rest = try await fixture.request("GET", "\(configMaps)?continue=\(token)")
            #expect(rest.status == 200)
            #expect(names(rest.json) == ["b", "c"])
            #expect(
                rest.json[path: "metadata", "resourceVersion"]
                    == first.json[path: "metadata", "resourceVersion"])
        }
    }

    @Test("resourceVersionMatch=Exact lists the objects as they were then; compacted: 410")
    func exactList() async throws {
        try await withEmulator { fixture in
            let created = try await fixture.request("POST", configMaps, body: configMap("a")).json
            let then = created[path: "metadata", "resourceVersion"]?.stringValue ?? ""
            let patched = try await fixture.request(
                "PATCH", "\(configMaps)/a", body: ["data": ["k": "changed"]],
                contentType: "application/merge-patch+json")
            #expect(patched.status == 200)
            #expect(try await fixture.request("POST", configMaps, body: configMap("b")).status == 201)
            let exact = try await fixture.request(
                "GET", "\(configMaps)?resourceVersion=\(then)&resourceVersionMatch=Exact")
            #expect(exact.status == 200)
            #expect(names(exact.json) == ["a"])
            #expect(exact.json["items"]?[0]?[path: "data", "k"] == "v")
            #expect(exact.json[path: "metadata", "resourceVersion"] == .string(then))

            await fixture.emulator.compactWatchHistory()
            let compacted = try await fixture.request(
                "GET", "\(configMaps)?resourceVersion=\(then)&resourceVersionMatch=Exact")
            #expect(compacted.status == 410)
            #expect(compacted.json["message"] == "The resourceVersion for the provided list is too old.")
        }
    }

    @Test("a continue token from before a compaction gets 410 Expired and a token to go on")
    func continueAfterCompaction() async throws {
        try await withEmulator { fixture in
            for name in ["a", "b", "c"] {
                #expect(try await fixture.request("POST", configMaps, body: configMap(name)).status == 201)
            }
            let first = try await fixture.request("GET", "\(configMaps)?limit=1")
            let token = first.json[path: "metadata", "continue"]?.stringValue ?? ""
            await fixture.emulator.compactWatchHistory()

            let expired = try await fixture.request("GET", "\(configMaps)?limit=1&continue=\(token)")
            #expect(expired.status == 410)
            #expect(expired.json["reason"] == "Expired")
            let message = expired.json["message"]?.stringValue ?? ""
            #expect(
                message.hasPrefix(
                    "The provided continue parameter is too old to display a consistent list result."))
            // The offered token continues after "a", at the latest revision.
            let offered = expired.json[path: "metadata", "continue"]?.stringValue ?? ""
            #expect(!offered.isEmpty)
            let rest = try await fixture.request("GET", "\(configMaps)?continue=\(offered)")
            #expect(rest.status == 200)
            #expect(names(rest.json) == ["b", "c"])
        }
    }

    @Test("a Lease update must carry its resourceVersion (422 without); PUT may still create")
    func leaseUpdatesNeedAResourceVersion() async throws {
        try await withEmulator { fixture in
            var lease: JSON = [
                "apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": ["name": "leader"],
                "spec": ["holderIdentity": "one", "leaseDurationSeconds": 15],
            ]
            // Leases may be created with a PUT (create on update), without a version.
            let created = try await fixture.request("PUT", "\(leases)/leader", body: lease)
            #expect(created.status == 201)
            lease[path: "spec", "holderIdentity"] = "two"
            let blind = try await fixture.request("PUT", "\(leases)/leader", body: lease)
            #expect(blind.status == 422)
            #expect(
                blind.json["message"]
                    == "leases.coordination.k8s.io \"leader\" is invalid: metadata.resourceVersion: Invalid value: 0x0: must be specified for an update"
            )
            #expect(blind.json["details"]?["kind"] == "leases")
            lease[path: "metadata", "resourceVersion"] = created.json[path: "metadata", "resourceVersion"]
            let conditional = try await fixture.request("PUT", "\(leases)/leader", body: lease)
            #expect(conditional.status == 200)
            #expect(conditional.json[path: "spec", "holderIdentity"] == "two")
            // ConfigMaps still take unconditional updates.
            #expect(try await fixture.request("POST", configMaps, body: configMap("c")).status == 201)
            #expect(try await fixture.request("PUT", "\(configMaps)/c", body: configMap("c")).status == 200)
        }
    }

    @Test("Lease specs are validated: durations above 0, transitions not negative")
    func leaseSpecValidation() async throws {
        try await withEmulator { fixture in
            let lease: JSON = [
                "apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": ["name": "bad"],
                "spec": ["leaseDurationSeconds": 0, "leaseTransitions": -1],
            ]
            let answer = try await fixture.request("POST", leases, body: lease)
            #expect(answer.status == 422)
            #expect(
                answer.json["message"]
                    == "Lease.coordination.k8s.io \"bad\" is invalid: [spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0, spec.leaseTransitions: Invalid value: -1: must be greater than or equal to 0]"
            )
        }
    }
}

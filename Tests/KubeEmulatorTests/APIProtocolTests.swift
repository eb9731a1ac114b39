import Foundation
import JSONValue
import KubeEmulator
import Testing
import TestSupport

/// The API's wire behaviour, checked with plain HTTP requests: Status bodies, resourceVersion
/// and generation rules, selectors, pagination, deletecollection and dry runs.
@Suite("API protocol")
struct APIProtocolTests {
    let configMaps = "/api/v1/namespaces/default/configmaps"

    func configMap(_ name: String, _ data: JSON = ["k": "v"], labels: JSON? = nil) -> JSON {
        var object: JSON = [
            "apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": .string(name)], "data": data,
        ]
        if let labels { object[path: "metadata", "labels"] = labels }
        return object
    }

    @Test("NotFound and AlreadyExists are the real Status objects")
    func statusErrors() async throws {
        try await withEmulator { fixture in
            let missing = try await fixture.request("GET", "\(configMaps)/nope")
            #expect(missing.status == 404)
            #expect(missing.headers["content-type"] == "application/json")
            #expect(
                missing.json == [
                    "kind": "Status", "apiVersion": "v1", "metadata": [:], "status": "Failure",
                    "message": "configmaps \"nope\" not found", "reason": "NotFound",
                    "details": ["name": "nope", "kind": "configmaps"], "code": 404,
                ])
            #expect(try await fixture.request("POST", configMaps, body: configMap("a")).status == 201)
            let duplicate = try await fixture.request("POST", configMaps, body: configMap("a"))
            #expect(duplicate.status == 409)
            #expect(duplicate.json["reason"] == "AlreadyExists")
            #expect(duplicate.json["message"] == "configmaps \"a\" already exists")
            let deployment = try await fixture.request(
                "GET", "/apis/apps/v1/namespaces/default/deployments/x")
            #expect(deployment.json["message"] == "deployments.apps \"x\" not found")
            #expect(deployment.json["details"] == ["name": "x", "group": "apps", "kind": "deployments"])
            let unknown = try await fixture.request("GET", "/apis/example.com/v1/widgets")
            #expect(unknown.status == 404)
            #expect(unknown.json["message"] == "the server could not find the requested resource")
        }
    }

    @Test("resourceVersion: one counter, conflicts on stale writes, unchanged on no-op updates")
    func resourceVersions() async throws {
        try await withEmulator { fixture in
            let created = try await fixture.request("POST", configMaps, body: configMap("c")).json
            let first = Int(created[path: "metadata", "resourceVersion"]?.stringValue ?? "") ?? 0
            #expect(first > 0)
            #expect(created[path: "metadata", "generation"] == nil)
            var update = created
            update[path: "data", "k"] = "w"
            let updated = try await fixture.request("PUT", "\(configMaps)/c", body: update)
            #expect(updated.status == 200)
            let second = Int(updated.json[path: "metadata", "resourceVersion"]?.stringValue ?? "") ?? 0
            #expect(second > first)
            // The stale version is refused and nothing changes.
            update[path: "data", "k"] = "x"
            let stale = try await fixture.request("PUT", "\(configMaps)/c", body: update)
            #expect(stale.status == 409)
            #expect(stale.json["reason"] == "Conflict")
            #expect(
                stale.json["message"]
                    == "Operation cannot be fulfilled on configmaps \"c\": the object has been modified; please apply your changes to the latest version and try again"
            )
            // Writing the same content again is a no-op: same resourceVersion, no event.
            let same = try await fixture.request("PUT", "\(configMaps)/c", body: updated.json)
            #expect(
                same.json[path: "metadata", "resourceVersion"]
                    == updated.json[path: "metadata", "resourceVersion"])
            let patchNoop = try await fixture.request(
                "PATCH", "\(configMaps)/c", body: ["data": ["k": "w"]],
                contentType: "application/merge-patch+json")
            #expect(
                patchNoop.json[path: "metadata", "resourceVersion"]
                    == updated.json[path: "metadata", "resourceVersion"])
            // A patch carrying a stale resourceVersion conflicts too.
            let stalePatch = try await fixture.request(
                "PATCH", "\(configMaps)/c",
                body: ["metadata": ["resourceVersion": .string(String(first))], "data": ["k": "z"]],
                contentType: "application/merge-patch+json")
            #expect(stalePatch.status == 409)
            // Name mismatch between URL and body.
            var renamed = updated.json
            renamed[path: "metadata", "name"] = "other"
            let mismatch = try await fixture.request("PUT", "\(configMaps)/c", body: renamed)
            #expect(mismatch.status == 400)
            #expect(
                mismatch.json["message"]
                    == "the name of the object (other) does not match the name on the URL (c)")
        }
    }

    @Test("generation moves with spec changes only; status is written through its subresource")
    func generationAndStatus() async throws {
        try await withEmulator(KubeEmulator.Options(rolloutDelay: .seconds(30))) { fixture in
            let path = "/apis/apps/v1/namespaces/default/deployments"
            let deployment: JSON = [
                "apiVersion": "apps/v1", "kind": "Deployment", "metadata": ["name": "d"],
                "spec": [
                    "selector": ["matchLabels": ["app": "d"]],
                    "template": [
                        "metadata": ["labels": ["app": "d"]],
                        "spec": ["containers": [["name": "c", "image": "busybox:1.36"]]],
                    ],
                ],
                "status": ["replicas": 99],
            ]
            let created = try await fixture.request("POST", path, body: deployment)
            #expect(created.status == 201, "\(created.text)")
            #expect(created.json[path: "metadata", "generation"] == 1)
            #expect(created.json[path: "status", "replicas"] == nil)
            #expect(created.json[path: "spec", "replicas"] == 1)
            #expect(created.json[path: "spec", "strategy", "type"] == "RollingUpdate")
            let labeled = try await fixture.request(
                "PATCH", "\(path)/d", body: ["metadata": ["labels": ["x": "y"]]],
                contentType: "application/merge-patch+json")
            #expect(labeled.json[path: "metadata", "generation"] == 1)
            let scaled = try await fixture.request(
                "PATCH", "\(path)/d", body: ["spec": ["replicas": 3]],
                contentType: "application/strategic-merge-patch+json")
            #expect(scaled.json[path: "metadata", "generation"] == 2)
            var withStatus = scaled.json
            withStatus[path: "metadata", "resourceVersion"] = nil
            withStatus[path: "status", "replicas"] = 7
            withStatus[path: "spec", "replicas"] = 9
            let statusWrite = try await fixture.request("PUT", "\(path)/d/status", body: withStatus)
            #expect(statusWrite.status == 200, "\(statusWrite.text)")
            #expect(statusWrite.json[path: "status", "replicas"] == 7)
            #expect(statusWrite.json[path: "spec", "replicas"] == 3)
            #expect(statusWrite.json[path: "metadata", "generation"] == 2)
            let selectorChange = try await fixture.request(
                "PATCH", "\(path)/d", body: ["spec": ["selector": ["matchLabels": ["app": "e"]]]],
                contentType: "application/merge-patch+json")
            #expect(selectorChange.status == 422)
            let selectorMessage = selectorChange.json["message"]?.stringValue ?? ""
            #expect(selectorMessage.contains("spec.selector"), "\(selectorMessage)")
        }
    }

    @Test("label and field selectors, pagination with limit and continue")
    func selectorsAndPages() async throws {
        try await withEmulator { fixture in
            for index in 0..<5 {
                let labels: JSON = ["tier": index % 2 == 0 ? "web" : "db", "index": .string(String(index))]
                _ = try await fixture.request(
                    "POST", configMaps, body: configMap("c\(index)", labels: labels))
            }
            func names(_ answer: HTTPAnswer) -> [String] {
                (answer.json["items"]?.arrayValue ?? []).compactMap {
                    $0[path: "metadata", "name"]?.stringValue
                }
            }
            let web = try await fixture.request("GET", "\(configMaps)?labelSelector=tier%3Dweb")
            #expect(names(web) == ["c0", "c2", "c4"])
            #expect(web.json["kind"] == "ConfigMapList")
            #expect(web.json["items"]?[0]?["kind"] == nil)
            let set = try await fixture.request(
                "GET", "\(configMaps)?labelSelector=index%20in%20(1,3),tier!=web")
            #expect(names(set) == ["c1", "c3"])
            let byName = try await fixture.request("GET", "\(configMaps)?fieldSelector=metadata.name%3Dc3")
            #expect(names(byName) == ["c3"])
            let bad = try await fixture.request("GET", "\(configMaps)?fieldSelector=data.k%3Dv")
            #expect(bad.status == 400)
            #expect(bad.json["message"] == "field label not supported: data.k")
            let page1 = try await fixture.request("GET", "\(configMaps)?limit=2")
            #expect(names(page1) == ["c0", "c1"])
            #expect(page1.json[path: "metadata", "remainingItemCount"] == 3)
            let token = page1.json[path: "metadata", "continue"]?.stringValue ?? ""
            #expect(!token.isEmpty)
            let page2 = try await fixture.request("GET", "\(configMaps)?limit=2&continue=\(token)")
            #expect(names(page2) == ["c2", "c3"])
            let token2 = page2.json[path: "metadata", "continue"]?.stringValue ?? ""
            let page3 = try await fixture.request("GET", "\(configMaps)?limit=2&continue=\(token2)")
            #expect(names(page3) == ["c4"])
            #expect(page3.json[path: "metadata", "continue"] == nil)
            let all = try await fixture.request("GET", "/api/v1/configmaps")
            #expect(names(all).count == 5)
        }
    }

    @Test("deletecollection by selector, dry runs change nothing")
    func deleteCollectionAndDryRun() async throws {
        try await withEmulator { fixture in
            for index in 0..<4 {
                _ = try await fixture.request(
                    "POST", configMaps,
                    body: configMap("c\(index)", labels: ["drop": index < 3 ? "yes" : "no"]))
            }
            let dry = try await fixture.request("POST", "\(configMaps)?dryRun=All", body: configMap("ghost"))
            #expect(dry.status == 201)
            #expect(
                try await fixture.emulator.object("configmaps", namespace: "default", name: "ghost") == nil)
            let deleted = try await fixture.request("DELETE", "\(configMaps)?labelSelector=drop%3Dyes")
            #expect(deleted.status == 200)
            #expect(deleted.json["items"]?.arrayValue?.count == 3)
            let left = try await fixture.emulator.objects("configmaps", namespace: "default")
            #expect(left.map { $0[path: "metadata", "name"] } == ["c3"])
            let one = try await fixture.request("DELETE", "\(configMaps)/c3")
            #expect(one.json["status"] == "Success")
            #expect(one.json[path: "details", "name"] == "c3")
            #expect(one.json[path: "details", "kind"] == "configmaps")
        }
    }

    @Test("namespaces: lifecycle admission, protected names, deletion empties them")
    func namespaceLifecycle() async throws {
        try await withEmulator { fixture in
            let names = try await fixture.emulator.objects("namespaces").compactMap {
                $0[path: "metadata", "name"]?.stringValue
            }
            #expect(Set(names) == ["default", "kube-system", "kube-public", "kube-node-lease"])
            let protected = try await fixture.request("DELETE", "/api/v1/namespaces/default")
            #expect(protected.status == 403)
            #expect(
                protected.json["message"]
                    == "namespaces \"default\" is forbidden: this namespace may not be deleted")
            _ = try await fixture.request(
                "POST", "/api/v1/namespaces",
                body: ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": "temp"]])
            _ = try await fixture.request("POST", "/api/v1/namespaces/temp/configmaps", body: configMap("x"))
            let deleting = try await fixture.request("DELETE", "/api/v1/namespaces/temp")
            #expect(deleting.status == 200)
            #expect(deleting.json[path: "status", "phase"] == "Terminating")
            var gone = false
            for _ in 0..<100 {
                if try await fixture.emulator.object("namespaces", name: "temp") == nil {
                    gone = true
                    break
                }
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(gone)
            #expect(try await fixture.emulator.objects("configmaps", namespace: "temp").isEmpty)
            let missing = try await fixture.request(
                "POST", "/api/v1/namespaces/temp/configmaps", body: configMap("y"))
            #expect(missing.status == 404)
            #expect(missing.json["message"] == "namespaces \"temp\" not found")
        }
    }

    @Test("discovery: legacy and aggregated documents list the served resources")
    func discovery() async throws {
        try await withEmulator { fixture in
            let core = try await fixture.request("GET", "/api/v1").json
            let names = (core["resources"]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue }
            for name in [
                "namespaces", "secrets", "configmaps", "events", "pods", "pods/log", "serviceaccounts",
                "services",
            ] {
                #expect(names.contains(name), "\(name)")
            }
            let apps = try await fixture.request("GET", "/apis/apps/v1").json
            let appNames = (apps["resources"]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue }
            #expect(
                appNames.contains("deployments") && appNames.contains("replicasets")
                    && appNames.contains("deployments/scale"))
            let groups = try await fixture.request("GET", "/apis").json
            let groupNames = (groups["groups"]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue }
            for group in ["apps", "coordination.k8s.io", "events.k8s.io", "rbac.authorization.k8s.io"] {
                #expect(groupNames.contains(group), "\(group)")
            }
            let aggregated = try await fixture.request(
                "GET", "/apis",
                headers: [
                    "Accept":
                        "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json"
                ])
            #expect(
                aggregated.headers["content-type"]
                    == "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList")
            #expect(aggregated.json["kind"] == "APIGroupDiscoveryList")
            let version = try await fixture.request("GET", "/version").json
            #expect(version["gitVersion"] == "v1.32.0")
        }
    }
}

import Foundation
import JSONValue
import KubeEmulator
import Testing
import TestSupport

/// Server-side apply and field ownership, driven by `kubectl apply --server-side`.
@Suite("server-side apply")
struct ServerSideApplyTests {
    static let deployment = """
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: web
          labels: {app: web}
        spec:
          replicas: 2
          selector: {matchLabels: {app: web}}
          template:
            metadata: {labels: {app: web}}
            spec:
              containers:
              - name: web
                image: nginx:1.25
                env: [{name: MODE, value: fast}]
        """

    func managers(_ object: JSON?) -> [String] {
        (object?[path: "metadata", "managedFields"]?.arrayValue ?? []).map { entry in
            let subresource = entry["subresource"]?.stringValue.map { "/\($0)" } ?? ""
            return
                "\(entry["manager"]?.stringValue ?? "") \(entry["operation"]?.stringValue ?? "")\(subresource)"
        }.sorted()
    }

    @Test("apply creates, conflicts with another manager's value, --force-conflicts takes it over")
    func conflictsAndForce() async throws {
        try await withEmulator { fixture in
            let created = try await fixture.kubectl(
                ["apply", "--server-side", "-f", "-"], stdin: Self.deployment)
            #expect(created.stdout == "deployment.apps/web serverside-applied\n", "\(created.stderr)")
            var object = try await fixture.emulator.object("deployments", namespace: "default", name: "web")
            #expect(managers(object) == ["kubectl Apply"])
            let fields = object?[path: "metadata", "managedFields"]?[0]?["fieldsV1"]
            #expect(fields?[path: "f:spec", "f:replicas"] == [:])
            #expect(
                fields?[
                    path: "f:spec", "f:template", "f:spec", "f:containers", #"k:{"name":"web"}"#, "f:image"]
                    == [:])

            #expect(try await fixture.kubectl(["scale", "deployment/web", "--replicas=3"]).status == 0)
            object = try await fixture.emulator.object("deployments", namespace: "default", name: "web")
            #expect(managers(object) == ["kubectl Apply", "kubectl Update/scale"])
            let conflict = try await fixture.kubectl(
                ["apply", "--server-side", "-f", "-"], stdin: Self.deployment)
            #expect(conflict.status == 1)
            #expect(
                conflict.stderr.hasPrefix(
                    "error: Apply failed with 1 conflict: conflict with \"kubectl\" with subresource \"scale\" using apps/v1: .spec.replicas"
                ), "\(conflict.stderr)")
            object = try await fixture.emulator.object("deployments", namespace: "default", name: "web")
            #expect(object?[path: "spec", "replicas"] == 3)

            let forced = try await fixture.kubectl(
                ["apply", "--server-side", "--force-conflicts", "-f", "-"], stdin: Self.deployment)
            #expect(forced.status == 0, "\(forced.stderr)")
            object = try await fixture.emulator.object("deployments", namespace: "default", name: "web")
            #expect(object?[path: "spec", "replicas"] == 2)
            #expect(managers(object) == ["kubectl Apply"])
        }
    }

    @Test("fields dropped from the configuration are removed; equal values are co-owned")
    func removalAndSharedOwnership() async throws {
        try await withEmulator { fixture in
            _ = try await fixture.kubectl(
                ["apply", "--server-side", "--field-manager=helm", "-f", "-"], stdin: Self.deployment)
            // Another manager sets the same image value: no conflict, both own it.
            let same = """
                apiVersion: apps/v1
                kind: Deployment
                metadata: {name: web}
                spec:
                  template:
                    spec:
                      containers:
                      - name: web
                        image: nginx:1.25
                """
            let coOwner = try await fixture.kubectl(
                ["apply", "--server-side", "--field-manager=agent", "-f", "-"], stdin: same)
            #expect(coOwner.status == 0, "\(coOwner.stderr)")
            // helm stops setting env: it goes (nobody else owns it); the image stays (agent owns it).
            let withoutEnv = """
                apiVersion: apps/v1
                kind: Deployment
                metadata:
                  name: web
                  labels: {app: web}
                spec:
                  replicas: 2
                  selector: {matchLabels: {app: web}}
                  template:
                    metadata: {labels: {app: web}}
                    spec:
                      containers:
                      - name: web
                """
            let applied = try await fixture.kubectl(
                ["apply", "--server-side", "--field-manager=helm", "-f", "-"], stdin: withoutEnv)
            #expect(applied.status == 0, "\(applied.stderr)")
            let object = try await fixture.emulator.object("deployments", namespace: "default", name: "web")
            let container = object?[path: "spec", "template", "spec", "containers"]?[0]
            #expect(container?["env"] == nil)
            #expect(container?["image"] == "nginx:1.25")
            #expect(managers(object) == ["agent Apply", "helm Apply"])
        }
    }

    @Test("updates are recorded per manager; apply over the API needs a fieldManager")
    func updateManagersAndErrors() async throws {
        try await withEmulator { fixture in
            _ = try await fixture.kubectl(["create", "configmap", "c", "--from-literal=a=1"])
            _ = try await fixture.kubectl(["label", "configmap", "c", "team=x"])
            let object = try await fixture.emulator.object("configmaps", namespace: "default", name: "c")
            #expect(managers(object) == ["kubectl-create Update", "kubectl-label Update"])
            let label = object?[path: "metadata", "managedFields"]?.arrayValue?.first {
                $0["manager"] == "kubectl-label"
            }
            #expect(label?["fieldsV1"] == ["f:metadata": ["f:labels": [".": [:], "f:team": [:]]]])

            let configuration: JSON = [
                "apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "c"], "data": ["a": "2"],
            ]
            let missing = try await fixture.request(
                "PATCH", "/api/v1/namespaces/default/configmaps/c", body: configuration,
                contentType: "application/apply-patch+yaml")
            #expect(missing.status == 400)
            let conflict = try await fixture.request(
                "PATCH", "/api/v1/namespaces/default/configmaps/c?fieldManager=tool", body: configuration,
                contentType: "application/apply-patch+yaml")
            #expect(conflict.status == 409)
            #expect(conflict.json[path: "details", "causes", "0"] == nil)
            #expect(conflict.json[path: "details", "causes"]?[0]?["field"] == ".data.a")
            #expect(conflict.json[path: "details", "causes"]?[0]?["reason"] == "FieldManagerConflict")
            let created = try await fixture.request(
                "PATCH", "/api/v1/namespaces/default/configmaps/fresh?fieldManager=tool",
                body: [
                    "apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "fresh"],
                    "data": ["k": "v"],
                ],
                contentType: "application/apply-patch+yaml")
            #expect(created.status == 201)
            #expect(created.json[path: "data", "k"] == "v")
        }
    }
}

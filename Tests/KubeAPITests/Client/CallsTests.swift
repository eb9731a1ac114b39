import Foundation
import JSONValue
import KubeEmulator
import Testing
import TestSupport

@testable import KubeAPI

/// Typed and generic calls against the emulator over real HTTP.
@Suite struct CallsTests {
    @Test func secretRoundTripAndConflicts() async throws {
        try await withEmulator { fixture in
            let client = try makeClient(kubeconfig: fixture.kubeconfigPath)
            #expect(client.namespace == "default")

            var secret = Secret(name: "beluga-ai-secrets")
            secret.set("openai-api-key", Array("sk-one".utf8))
            secret.set("binary", [0, 255, 10])
            let created = try await client.create(secret)
            #expect(created.resourceVersion != nil)
            #expect(created.namespace == "default")

            var read = try await client.get(Secret.self, name: "beluga-ai-secrets")
            #expect(read.data["openai-api-key"] == Array("sk-one".utf8))
            #expect(read.data["binary"] == [0, 255, 10])

            // What other tools wrote survives a read-modify-write. (A field the API does not have
            // would not: a real server drops it, and the emulator refuses it.)
            read.json[path: "metadata", "annotations", "other-tool/keep"] = "yes"
            read.set("openai-api-key", Array("sk-two".utf8))
            let replaced = try await client.replace(read)
            #expect(replaced.data["openai-api-key"] == Array("sk-two".utf8))
            #expect(replaced.metadata.annotations["other-tool/keep"] == "yes")

            // A stale resourceVersion is a conflict; a second create is alreadyExists.
            do {
                _ = try await client.replace(created)
                Issue.record("expected a conflict")
            } catch let error as KubeError {
                #expect(error.category == .conflict)
                #expect(error.httpStatus == 409)
                #expect(error.message.contains("try again") || error.message.contains("retry"))
            }
            do {
                _ = try await client.create(secret)
                Issue.record("expected alreadyExists")
            } catch let error as KubeError {
                #expect(error.category == .alreadyExists)
                #expect(error.message.contains("already exists"))
            }

            try await client.delete(Secret.self, name: "beluga-ai-secrets")
            #expect(try await client.getIfPresent(Secret.self, name: "beluga-ai-secrets") == nil)
            do {
                _ = try await client.get(Secret.self, name: "beluga-ai-secrets", namespace: "default")
                Issue.record("expected notFound")
            } catch let error as KubeError {
                #expect(error.category == .notFound)
                #expect(error.exitCode == 2)
                #expect(error.message.contains("beluga-ai-secrets"))
                #expect(error.message.contains("namespace \"default\""))
            }
        }
    }

    @Test func validationErrorsAreInvalid() async throws {
        try await withEmulator { fixture in
            let client = try makeClient(kubeconfig: fixture.kubeconfigPath)
            var secret = Secret(name: "bad")
            secret.set("not a valid key!", [1])
            do {
                _ = try await client.create(secret)
                Issue.record("expected invalid")
            } catch let error as KubeError {
                #expect(error.category == .invalid)
                #expect(error.httpStatus == 422)
                #expect(error.exitCode == 6)
                #expect(error.message.contains("not a valid key!"))
            }
            do {
                _ = try await client.create(ConfigMap(name: "Not_DNS"))
                Issue.record("expected invalid")
            } catch let error as KubeError {
                #expect(error.category == .invalid)
            }
        }
    }

    @Test func listWithSelectorsAndPagination() async throws {
        try await withEmulator { fixture in
            let client = try makeClient(kubeconfig: fixture.kubeconfigPath, namespace: "team")
            _ = try await client.create(Namespace(name: "team"))
            for index in 0..<7 {
                var map = ConfigMap(name: "cm-\(index)")
                map.metadata.labels = ["app": "beluga", "parity": index % 2 == 0 ? "even" : "odd"]
                map["index"] = "\(index)"
                _ = try await client.create(map)
            }
            let even = try await client.list(
                ConfigMap.self, options: ListOptions(labelSelector: "app=beluga,parity=even"))
            #expect(even.items.map(\.name).sorted() == ["cm-0", "cm-2", "cm-4", "cm-6"])
            let named = try await client.list(ConfigMap.self, options: .named("cm-3"))
            #expect(named.items.map(\.name) == ["cm-3"])

            let firstPage = try await client.list(
                ConfigMap.self, options: ListOptions(labelSelector: "app=beluga", limit: 3))
            #expect(firstPage.items.count == 3)
            #expect(firstPage.continueToken != nil)
            let all = try await client.listAll(
                ConfigMap.self, options: ListOptions(labelSelector: "app=beluga", limit: 2))
            #expect(all.items.map(\.name).sorted() == (0..<7).map { "cm-\($0)" })
            #expect(all.resourceVersion != nil)

            let everywhere = try await client.list(ConfigMap.self, allNamespaces: true)
            #expect(everywhere.items.filter { $0.namespace == "team" }.count == 7)
        }
    }

    @Test func patchesOfEveryKind() async throws {
        try await withEmulator { fixture in
            let client = try makeClient(kubeconfig: fixture.kubeconfigPath)
            let deployment = Deployment(
                json: [
                    "apiVersion": "apps/v1", "kind": "Deployment",
                    "metadata": [
                        "name": "beluga-ai", "annotations": ["beluga-ai.io/reload": "beluga-ai-secrets"],
                    ],
                    "spec": [
                        "replicas": 2, "selector": ["matchLabels": ["app": "beluga"]],
                        "template": [
                            "metadata": ["labels": ["app": "beluga"]],
                            "spec": ["containers": [["name": "server", "image": "beluga-ai:1"]]],
                        ],
                    ],
                ])
            _ = try await client.create(deployment)

            let strategic = try await client.patch(
                Deployment.self, name: "beluga-ai",
                patch: .strategicMerge([
                    "spec": ["template": ["metadata": ["annotations": ["beluga-ai.io/content-hash": "h1"]]]]
                ]))
            #expect(strategic.templateAnnotations["beluga-ai.io/content-hash"] == "h1")
            #expect(strategic.json[path: "spec", "template", "spec", "containers"]?.arrayValue?.count == 1)

            let merged = try await client.patch(
                Deployment.self, name: "beluga-ai", patch: .merge(["spec": ["replicas": 3]]))
            #expect(merged.replicas == 3)
            #expect(merged.templateAnnotations["beluga-ai.io/content-hash"] == "h1")

            let jsonPatched = try await client.patch(
                Deployment.self, name: "beluga-ai",
                patch: .json([
                    ["op": "test", "path": "/spec/replicas", "value": 3],
                    [
                        "op": "replace",
                        "path": "/spec/template/metadata/annotations/beluga-ai.io~1content-hash",
                        "value": "h2",
                    ],
                ]))
            #expect(jsonPatched.templateAnnotations["beluga-ai.io/content-hash"] == "h2")

            do {
                _ = try await client.patch(
                    Deployment.self, name: "beluga-ai",
                    patch: .json([["op": "test", "path": "/spec/replicas", "value": 9]]))
                Issue.record("a failed JSON patch test must be refused")
            } catch let error as KubeError {
                #expect(error.category == .invalid || error.category == .conflict, "\(error.message)")
            }

            // Generic call by resource, same object.
            let generic: GenericObject = try await client.get(resource: .deployments, name: "beluga-ai")
            #expect(generic.json[path: "spec", "replicas"] == 3)
            let version = try await client.serverVersion()
            #expect(version["gitVersion"]?.stringValue?.hasPrefix("v1.") == true)
        }
    }

    @Test func leaseAndEventModels() async throws {
        try await withEmulator { fixture in
            let client = try makeClient(kubeconfig: fixture.kubeconfigPath)
            var lease = Lease(name: "beluga-secrets-agent")
            lease.holderIdentity = "agent-1"
            lease.leaseDurationSeconds = 15
            lease.acquireTime = KubeTime.microTime()
            lease.renewTime = KubeTime.microTime()
            let created = try await client.create(lease)
            #expect(created.holderIdentity == "agent-1")
            #expect(created.leaseDurationSeconds == 15)

            let configMap = try await client.create(ConfigMap(name: "beluga-ai-config"))
            let event = try await client.create(
                Event(
                    about: configMap, reason: "ConfigChanged", message: "llmProvider changed", type: .normal))
            #expect(event.name.hasPrefix("beluga-ai-config."))
            #expect(event.involvedObjectName == "beluga-ai-config")
            #expect(event.involvedObjectKind == "ConfigMap")
            #expect(event.reason == "ConfigChanged")
        }
    }
}

@Suite struct ApplyAndFieldManagerTests {
    @Test func serverSideApplyAndFieldManager() async throws {
        try await withEmulator { fixture in
            let client = try makeClient(kubeconfig: fixture.kubeconfigPath)
            let applied = try await client.patch(
                ConfigMap.self, name: "applied",
                patch: .apply([
                    "apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "applied"],
                    "data": ["a": "1"],
                ]))
            #expect(applied["a"] == "1")
            let managers = applied.metadata.json["managedFields"]?.arrayValue ?? []
            #expect(managers.contains { $0["manager"] == "beluga-secrets" && $0["operation"] == "Apply" })

            var map = ConfigMap(name: "written")
            map["b"] = "1"
            _ = try await client.create(map)
            let written = try await client.get(ConfigMap.self, name: "written")
            let writers = written.metadata.json["managedFields"]?.arrayValue ?? []
            #expect(writers.contains { $0["manager"] == "beluga-secrets" && $0["operation"] == "Update" })

            // Another manager owns `a` now: applying it again conflicts unless forced.
            let taken = try await fixture.kubectl(
                [
                    "patch", "configmap", "applied", "--type=merge", "-p", #"{"data":{"a":"2"}}"#,
                    "--field-manager=other",
                ])
            #expect(taken.status == 0, "\(taken.stderr)")
            let body: JSON = [
                "apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "applied"], "data": ["a": "3"],
            ]
            do {
                _ = try await client.patch(ConfigMap.self, name: "applied", patch: .apply(body))
                Issue.record("expected an apply conflict")
            } catch let error as KubeError {
                #expect(error.category == .conflict, "\(error.message)")
            }
            let forced = try await client.patch(
                ConfigMap.self, name: "applied", patch: .apply(body, force: true))
            #expect(forced["a"] == "3")
        }
    }
}

import Foundation
import JSONValue
import KubeEmulator
import Testing
import TestSupport

/// The installed kubectl, unmodified and with no special flags, against the emulator: each test
/// asserts what a real cluster would make kubectl print or store.
@Suite("kubectl against the emulator")
struct KubectlFidelityTests {
    @Test("create secret generic, then jsonpath reads the base64 value")
    func createSecretAndReadJSONPath() async throws {
        try await withEmulator { fixture in
            let created = try await fixture.kubectl([
                "create", "secret", "generic", "s", "--from-literal=a=b",
            ])
            #expect(created.status == 0, "\(created.stderr)")
            #expect(created.stdout == "secret/s created\n")
            let read = try await fixture.kubectl(["get", "secret", "s", "-o", "jsonpath={.data.a}"])
            #expect(read.stdout == "Yg==")
            let type = try await fixture.kubectl(["get", "secret", "s", "-o", "jsonpath={.type}"])
            #expect(type.stdout == "Opaque")
        }
    }

    @Test("create configmap and namespace, get -o json and -o yaml")
    func createConfigMapAndNamespace() async throws {
        try await withEmulator { fixture in
            #expect(try await fixture.kubectl(["create", "namespace", "team"]).status == 0)
            let created = try await fixture.kubectl([
                "create", "configmap", "settings", "-n", "team", "--from-literal=llmProvider=openai",
            ])
            #expect(created.status == 0, "\(created.stderr)")
            let json = try JSON(
                parsing: try await fixture.kubectl([
                    "get", "configmap", "settings", "-n", "team", "-o", "json",
                ])
                .stdout)
            #expect(json[path: "data", "llmProvider"] == "openai")
            #expect(json[path: "metadata", "namespace"] == "team")
            #expect(Int(json[path: "metadata", "resourceVersion"]?.stringValue ?? "") ?? 0 > 0)
            #expect(json[path: "metadata", "uid"]?.stringValue?.count == 36)
            let yaml = try await fixture.kubectl(["get", "configmap", "settings", "-n", "team", "-o", "yaml"])
            #expect(yaml.stdout.contains("llmProvider: openai"))
            // Creating in a namespace that does not exist fails as on a real cluster.
            let missing = try await fixture.kubectl(["create", "configmap", "x", "-n", "nowhere"])
            #expect(missing.status != 0)
            #expect(missing.stderr.contains("namespaces \"nowhere\" not found"))
        }
    }

    @Test("create deployment, rollout status, restart, history and the rollout count")
    func deploymentRollouts() async throws {
        try await withEmulator { fixture in
            let created = try await fixture.kubectl([
                "create", "deployment", "web", "--image=nginx:1.25", "--replicas=2",
            ])
            #expect(created.status == 0, "\(created.stderr)")
            let status = try await fixture.kubectl(["rollout", "status", "deployment/web", "--timeout=20s"])
            #expect(status.status == 0, "\(status.stderr)")
            #expect(status.stdout.contains("deployment \"web\" successfully rolled out"))
            #expect(await fixture.emulator.rollouts(namespace: "default", deployment: "web") == 0)

            let restarted = try await fixture.kubectl(["rollout", "restart", "deployment/web"])
            #expect(restarted.stdout == "deployment.apps/web restarted\n")
            let again = try await fixture.kubectl(["rollout", "status", "deployment/web", "--timeout=20s"])
            #expect(again.stdout.contains("successfully rolled out"), "\(again.stderr)")
            #expect(await fixture.emulator.rollouts(namespace: "default", deployment: "web") == 1)

            let history = try await fixture.kubectl(["rollout", "history", "deployment/web"])
            let revisions = history.stdout.split(separator: "\n").filter { $0.first?.isNumber == true }
            #expect(revisions.count == 2, "\(history.stdout)")
            let deployment = try JSON(
                parsing: try await fixture.kubectl(["get", "deploy", "web", "-o", "json"]).stdout)
            #expect(deployment[path: "metadata", "generation"] == 2)
            #expect(deployment[path: "status", "observedGeneration"] == 2)
            #expect(deployment[path: "status", "updatedReplicas"] == 2)
            #expect(deployment[path: "metadata", "annotations", "deployment.kubernetes.io/revision"] == "2")
            #expect(
                deployment[
                    path: "spec", "template", "metadata", "annotations", "kubectl.kubernetes.io/restartedAt"]
                    != nil)
            let sets = try await fixture.emulator.objects("replicasets", namespace: "default")
            #expect(sets.count == 2)

            // Scaling is not a rollout.
            #expect(try await fixture.kubectl(["scale", "deployment/web", "--replicas=3"]).status == 0)
            #expect(
                try await fixture.kubectl(["rollout", "status", "deployment/web", "--timeout=20s"]).status
                    == 0)
            #expect(await fixture.emulator.rollouts(namespace: "default", deployment: "web") == 1)
            let pods = try await fixture.emulator.objects("pods", namespace: "default")
            #expect(pods.count == 3)
        }
    }

    @Test("label and annotate, with kubectl's overwrite rule")
    func labelAndAnnotate() async throws {
        try await withEmulator { fixture in
            _ = try await fixture.kubectl(["create", "configmap", "c", "--from-literal=k=v"])
            #expect(
                try await fixture.kubectl(["label", "configmap", "c", "tier=web"]).stdout
                    == "configmap/c labeled\n")
            #expect(
                try await fixture.kubectl(["annotate", "configmap", "c", "owner=ops"]).stdout
                    == "configmap/c annotated\n")
            let refused = try await fixture.kubectl(["label", "configmap", "c", "tier=db"])
            #expect(refused.status != 0)
            #expect(refused.stderr.contains("already has a value (web)"))
            #expect(
                try await fixture.kubectl(["label", "configmap", "c", "tier=db", "--overwrite"]).status == 0)
            let selected = try await fixture.kubectl(["get", "configmaps", "-l", "tier=db", "-o", "name"])
            #expect(selected.stdout == "configmap/c\n")
            let none = try await fixture.kubectl(["get", "configmaps", "-l", "tier=web", "-o", "name"])
            #expect(none.stdout.isEmpty)
            let object = try await fixture.emulator.object("configmaps", namespace: "default", name: "c")
            #expect(object?[path: "metadata", "annotations", "owner"] == "ops")
            #expect(try await fixture.kubectl(["label", "configmap", "c", "tier-"]).status == 0)
            let unlabeled = try await fixture.emulator.object("configmaps", namespace: "default", name: "c")
            #expect(unlabeled?[path: "metadata", "labels", "tier"] == nil)
        }
    }

    @Test("patch: merge, JSON and strategic merge (containers merge by name)")
    func patchTypes() async throws {
        try await withEmulator { fixture in
            _ = try await fixture.kubectl([
                "create", "configmap", "c", "--from-literal=a=1", "--from-literal=b=2",
            ])
            let merge = try await fixture.kubectl([
                "patch", "configmap", "c", "--type=merge", "-p", #"{"data":{"a":null,"c":"3"}}"#,
            ])
            #expect(merge.status == 0, "\(merge.stderr)")
            var object = try await fixture.emulator.object("configmaps", namespace: "default", name: "c")
            #expect(object?["data"] == ["b": "2", "c": "3"])
            let json = try await fixture.kubectl([
                "patch", "configmap", "c", "--type=json", "-p",
                #"[{"op":"replace","path":"/data/b","value":"20"}]"#,
            ])
            #expect(json.status == 0, "\(json.stderr)")
            object = try await fixture.emulator.object("configmaps", namespace: "default", name: "c")
            #expect(object?[path: "data", "b"] == "20")
            let failedTest = try await fixture.kubectl([
                "patch", "configmap", "c", "--type=json", "-p",
                #"[{"op":"test","path":"/data/b","value":"nope"}]"#,
            ])
            #expect(failedTest.status != 0)

            _ = try await fixture.kubectl(["create", "deployment", "app", "--image=nginx:1.25"])
            let strategic = try await fixture.kubectl([
                "patch", "deployment", "app", "-p",
                #"{"spec":{"template":{"spec":{"containers":[{"name":"sidecar","image":"busybox:1.36"},{"name":"nginx","env":[{"name":"MODE","value":"x"}]}]}}}}"#,
            ])
            #expect(strategic.status == 0, "\(strategic.stderr)")
            let deployment = try await fixture.emulator.object(
                "deployments", namespace: "default", name: "app")
            let containers = deployment?[path: "spec", "template", "spec", "containers"]?.arrayValue ?? []
            #expect(containers.count == 2)
            let nginx = containers.first { $0["name"] == "nginx" }
            #expect(nginx?["image"] == "nginx:1.25")
            #expect(nginx?["env"] == [["name": "MODE", "value": "x"]])
            #expect(deployment?[path: "metadata", "generation"] == 2)
            let deleteDirective = try await fixture.kubectl([
                "patch", "deployment", "app", "-p",
                #"{"spec":{"template":{"spec":{"containers":[{"name":"sidecar","$patch":"delete"}]}}}}"#,
            ])
            #expect(deleteDirective.status == 0, "\(deleteDirective.stderr)")
            let after = try await fixture.emulator.object("deployments", namespace: "default", name: "app")
            #expect(after?[path: "spec", "template", "spec", "containers"]?.arrayValue?.count == 1)
        }
    }

    @Test("replace succeeds with the current resourceVersion and conflicts with a stale one")
    func replaceAndConflict() async throws {
        try await withEmulator { fixture in
            _ = try await fixture.kubectl(["create", "configmap", "c", "--from-literal=a=1"])
            let original = try await fixture.kubectl(["get", "configmap", "c", "-o", "json"])
            var object = try JSON(parsing: original.stdout)
            object[path: "data", "a"] = "2"
            let replaced = try await fixture.kubectl(["replace", "-f", "-"], stdin: object.jsonText)
            #expect(replaced.status == 0, "\(replaced.stderr)")
            #expect(replaced.stdout == "configmap/c replaced\n")
            // The same body again carries the old resourceVersion: a real server refuses it.
            object[path: "data", "a"] = "3"
            let stale = try await fixture.kubectl(["replace", "-f", "-"], stdin: object.jsonText)
            #expect(stale.status != 0)
            #expect(
                stale.stderr.contains(
                    "Operation cannot be fulfilled on configmaps \"c\": the object has been modified; please apply your changes to the latest version and try again"
                ), "\(stale.stderr)")
            let stored = try await fixture.emulator.object("configmaps", namespace: "default", name: "c")
            #expect(stored?[path: "data", "a"] == "2")
        }
    }

    @Test("apply -f twice: three-way merge removes what left the file")
    func clientSideApply() async throws {
        try await withEmulator { fixture in
            let first = """
                apiVersion: v1
                kind: ConfigMap
                metadata:
                  name: app-config
                  labels: {app: beluga}
                data:
                  llmProvider: openai
                  embeddingProvider: openai
                """
            let applied = try await fixture.kubectl(["apply", "-f", "-"], stdin: first)
            #expect(applied.status == 0, "\(applied.stderr)")
            #expect(applied.stdout == "configmap/app-config created\n")
            #expect(applied.stderr.isEmpty, "\(applied.stderr)")
            // Someone else adds a key; the next apply keeps it (it was never in the file).
            _ = try await fixture.kubectl([
                "patch", "configmap", "app-config", "--type=merge", "-p", #"{"data":{"extra":"kept"}}"#,
            ])
            let second = first.split(separator: "\n").filter { !$0.contains("embeddingProvider") }
                .joined(separator: "\n").replacingOccurrences(
                    of: "llmProvider: openai", with: "llmProvider: anthropic")
            let reapplied = try await fixture.kubectl(["apply", "-f", "-"], stdin: second)
            #expect(reapplied.stdout == "configmap/app-config configured\n", "\(reapplied.stderr)")
            let object = try await fixture.emulator.object(
                "configmaps", namespace: "default", name: "app-config")
            #expect(object?["data"] == ["llmProvider": "anthropic", "extra": "kept"])
            #expect(
                object?[path: "metadata", "annotations", "kubectl.kubernetes.io/last-applied-configuration"]
                    != nil)
            let unchanged = try await fixture.kubectl(["apply", "-f", "-"], stdin: second)
            #expect(unchanged.stdout == "configmap/app-config unchanged\n")
        }
    }

    @Test("delete, then get reports NotFound as a real server does")
    func deleteAndNotFound() async throws {
        try await withEmulator { fixture in
            _ = try await fixture.kubectl(["create", "configmap", "gone", "--from-literal=a=1"])
            let deleted = try await fixture.kubectl(["delete", "configmap", "gone"])
            #expect(deleted.stdout == "configmap \"gone\" deleted\n", "\(deleted.stderr)")
            let missing = try await fixture.kubectl(["get", "configmap", "gone"])
            #expect(missing.status == 1)
            #expect(missing.stderr == "Error from server (NotFound): configmaps \"gone\" not found\n")
            _ = try await fixture.kubectl(["create", "deployment", "web", "--image=nginx:1.25"])
            #expect(
                try await fixture.kubectl(["rollout", "status", "deployment/web", "--timeout=20s"]).status
                    == 0)
            #expect(try await fixture.kubectl(["delete", "deployment", "web"]).status == 0)
            // The garbage collector removes the ReplicaSet and pods the Deployment owned.
            var remaining = 1
            for _ in 0..<100 {
                remaining =
                    try await fixture.emulator.objects("replicasets").count
                    + fixture.emulator.objects("pods").count
                if remaining == 0 { break }
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(remaining == 0)
        }
    }

    @Test("get -w prints the change another client makes")
    func watchSeesChange() async throws {
        try await withEmulator { fixture in
            _ = try await fixture.kubectl(["create", "configmap", "watched", "--from-literal=a=1"])
            let watcher = try RunningProcess(
                try EmulatorFixture.kubectlPath(),
                ["get", "configmap", "watched", "-w", "-o", "jsonpath={.data.a}{\"\\n\"}"],
                environment: ["HOME": fixture.directory.path, "KUBECONFIG": fixture.kubeconfigPath])
            #expect(await watcher.waitForOutput { $0.contains("1\n") }, "\(watcher.stderr)")
            _ = try await fixture.kubectl([
                "patch", "configmap", "watched", "--type=merge", "-p", #"{"data":{"a":"2"}}"#,
            ])
            #expect(await watcher.waitForOutput { $0.contains("2\n") }, "\(watcher.stdout) \(watcher.stderr)")
            await watcher.stop()
        }
    }

    @Test("kubectl get prints the server's table columns")
    func tables() async throws {
        try await withEmulator { fixture in
            _ = try await fixture.kubectl([
                "create", "secret", "generic", "s", "--from-literal=a=1", "--from-literal=b=2",
            ])
            let secrets = try await fixture.kubectl(["get", "secrets"])
            let lines = secrets.stdout.split(separator: "\n").map {
                $0.split(separator: " ", omittingEmptySubsequences: true)
            }
            #expect(lines.first == ["NAME", "TYPE", "DATA", "AGE"], "\(secrets.stdout)")
            #expect(lines.dropFirst().first?.prefix(3) == ["s", "Opaque", "2"])
            _ = try await fixture.kubectl([
                "create", "deployment", "web", "--image=nginx:1.25", "--replicas=2",
            ])
            #expect(
                try await fixture.kubectl(["rollout", "status", "deployment/web", "--timeout=20s"]).status
                    == 0)
            let wide = try await fixture.kubectl(["get", "deployments", "-o", "wide"])
            let header = wide.stdout.split(separator: "\n").first.map { $0.split(separator: " ") } ?? []
            #expect(
                header == [
                    "NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE", "CONTAINERS", "IMAGES", "SELECTOR",
                ])
            #expect(wide.stdout.contains("2/2"))
            #expect(wide.stdout.contains("app=web"))
            let services = try await fixture.kubectl(["get", "services"])
            #expect(services.stdout.contains("kubernetes   ClusterIP   10.96.0.1"), "\(services.stdout)")
            let empty = try await fixture.kubectl(["get", "configmaps", "-n", "kube-public"])
            #expect(empty.stderr == "No resources found in kube-public namespace.\n")
        }
    }

    @Test("unknown fields: refused by kubectl's strict validation, dropped with --validate=false")
    func unknownFields() async throws {
        try await withEmulator { fixture in
            let manifest = """
                apiVersion: apps/v1
                kind: Deployment
                metadata: {name: typo}
                spec:
                  replica: 2
                  selector: {matchLabels: {app: typo}}
                  template:
                    metadata: {labels: {app: typo}}
                    spec:
                      containers: [{name: web, image: "nginx:1.25", imagePolicy: Always}]
                """
            let refused = try await fixture.kubectl(["apply", "-f", "-"], stdin: manifest)
            #expect(refused.status == 1)
            #expect(
                refused.stderr.contains(
                    "Deployment in version \"v1\" cannot be handled as a Deployment: strict decoding error: unknown field \"spec.replica\", unknown field \"spec.template.spec.containers[0].imagePolicy\""
                ), "\(refused.stderr)")
            #expect(
                try await fixture.emulator.object("deployments", namespace: "default", name: "typo") == nil)
            let lenient = try await fixture.kubectl(
                ["apply", "--validate=false", "-f", "-"], stdin: manifest)
            #expect(lenient.status == 0, "\(lenient.stderr)")
            let stored = try await fixture.emulator.object("deployments", namespace: "default", name: "typo")
            #expect(stored?[path: "spec", "replica"] == nil)
            #expect(stored?[path: "spec", "replicas"] == 1)
            #expect(stored?[path: "spec", "template", "spec", "containers"]?[0]?["imagePolicy"] == nil)
        }
    }

    @Test("422 Invalid with the real field causes")
    func validationErrors() async throws {
        try await withEmulator { fixture in
            let manifest = """
                apiVersion: v1
                kind: Secret
                metadata: {name: Bad_Name}
                stringData: {"bad key": x}
                """
            let refused = try await fixture.kubectl(["create", "-f", "-"], stdin: manifest)
            #expect(refused.status != 0)
            #expect(refused.stderr.contains("The Secret \"Bad_Name\" is invalid:"), "\(refused.stderr)")
            #expect(
                refused.stderr.contains(
                    "metadata.name: Invalid value: \"Bad_Name\": a lowercase RFC 1123 subdomain"))
            #expect(
                refused.stderr.contains(
                    "data[bad key]: Invalid value: \"bad key\": a valid config key must consist"))
            #expect(try await fixture.emulator.objects("secrets").isEmpty)
        }
    }
}

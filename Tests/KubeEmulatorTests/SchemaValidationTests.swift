import Foundation
import JSONValue
import KubeEmulator
import Testing
import TestSupport

/// Write bodies decoded by the API's published schemas, as the real server decodes them into
/// its Go types: wrong types refused (400), unknown fields under each `fieldValidation`,
/// required fields (422), times written as the server writes them, quantities; and the same
/// schemas served to `kubectl explain`.
@Suite("schemas")
struct SchemaValidationTests {
    let deployments = "/apis/apps/v1/namespaces/default/deployments"
    let leases = "/apis/coordination.k8s.io/v1/namespaces/default/leases"
    let autoscalers = "/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers"

    static func start(_ validation: FieldValidation = .strict) async throws -> EmulatorFixture {
        let schemas = try #require(
            OpenAPISchemas.standard, "the schemas come from the test venv: run `make python-deps`")
        return try await EmulatorFixture.start(
            .init(rolloutDelay: .milliseconds(50), schemas: schemas, defaultFieldValidation: validation))
    }

    func deployment(replicas: JSON = 1, container: JSON = ["name": "app", "image": "nginx"]) -> JSON {
        [
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": ["name": "web"],
            "spec": [
                "replicas": replicas, "selector": ["matchLabels": ["app": "web"]],
                "template": [
                    "metadata": ["labels": ["app": "web"]], "spec": ["containers": [container]],
                ],
            ],
        ]
    }

    func autoscaler(extra: JSON) -> JSON {
        var spec: JSON = [
            "scaleTargetRef": ["apiVersion": "apps/v1", "kind": "Deployment", "name": "web"],
            "minReplicas": 1, "maxReplicas": 3,
        ]
        for (key, value) in extra.objectValue ?? [:] { spec[key] = value }
        return [
            "apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": ["name": "web"],
            "spec": spec,
        ]
    }

    @Test("a value of the wrong type is refused as Go's decoder refuses it")
    func wrongTypes() async throws {
        try await withStarted(try await Self.start()) { fixture in
            let replicas = try await fixture.request("POST", deployments, body: deployment(replicas: "2"))
            #expect(replicas.status == 400)
            #expect(
                replicas.json["message"]
                    == "Deployment in version \"v1\" cannot be handled as a Deployment: json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32"
            )
            let port = try await fixture.request(
                "POST", deployments,
                body: deployment(container: [
                    "name": "app", "image": "nginx", "ports": [["containerPort": 80.5]],
                ]))
            #expect(
                port.json["message"]
                    == "Deployment in version \"v1\" cannot be handled as a Deployment: json: cannot unmarshal number 80.5 into Go struct field ContainerPort.spec.template.spec.containers.ports.containerPort of type int32"
            )
            let lease: JSON = [
                "apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": ["name": "l"],
                "spec": ["leaseDurationSeconds": "15"],
            ]
            let duration = try await fixture.request("POST", leases, body: lease)
            #expect(duration.status == 400)
            #expect(
                duration.json["message"]
                    == "Lease in version \"v1\" cannot be handled as a Lease: json: cannot unmarshal string into Go struct field LeaseSpec.spec.leaseDurationSeconds of type int32"
            )
            #expect(try await fixture.emulator.object("leases", namespace: "default", name: "l") == nil)
        }
    }

    @Test("unknown fields: Strict refuses, Warn warns and drops, Ignore drops")
    func unknownFields() async throws {
        try await withStarted(try await Self.start(.warn)) { fixture in
            let body = autoscaler(extra: ["foo": 1])
            let strict = try await fixture.request(
                "POST", "\(autoscalers)?fieldValidation=Strict", body: body)
            #expect(strict.status == 400)
            #expect(
                strict.json["message"]
                    == "HorizontalPodAutoscaler in version \"v2\" cannot be handled as a HorizontalPodAutoscaler: strict decoding error: unknown field \"spec.foo\""
            )
            let warned = try await fixture.request("POST", "\(autoscalers)?fieldValidation=Warn", body: body)
            #expect(warned.status == 201)
            #expect(warned.headers["warning"] == "299 - \"unknown field \\\"spec.foo\\\"\"")
            #expect(warned.json[path: "spec", "foo"] == nil)
            #expect(try await fixture.request("DELETE", "\(autoscalers)/web").status == 200)
            let ignored = try await fixture.request(
                "POST", "\(autoscalers)?fieldValidation=Ignore", body: body)
            #expect(ignored.status == 201)
            #expect(ignored.headers["warning"] == nil)
            #expect(ignored.json[path: "spec", "foo"] == nil)
            // Nothing said: the emulator's default (Warn here, as a real server).
            #expect(try await fixture.request("DELETE", "\(autoscalers)/web").status == 200)
            let unsaid = try await fixture.request("POST", autoscalers, body: body)
            #expect(unsaid.status == 201)
            #expect(unsaid.headers["warning"] != nil)
        }
    }

    @Test("the emulator's default is Strict: a write that would only be warned about fails")
    func strictByDefault() async throws {
        try await withStarted(try await Self.start()) { fixture in
            let unsaid = try await fixture.request("POST", autoscalers, body: autoscaler(extra: ["foo": 1]))
            #expect(unsaid.status == 400)
            #expect(
                unsaid.json["message"]?.stringValue?.hasSuffix(
                    "strict decoding error: unknown field \"spec.foo\"") == true)
            let nested = try await fixture.request(
                "POST", deployments,
                body: deployment(container: ["name": "app", "image": "nginx", "imagee": "typo"]))
            #expect(
                nested.json["message"]?.stringValue?.hasSuffix(
                    "unknown field \"spec.template.spec.containers[0].imagee\"") == true, "\(nested.text)")
        }
    }

    @Test("kubectl sees the same: strict errors, and warnings with --validate=warn")
    func kubectl() async throws {
        try await withStarted(try await Self.start()) { fixture in
            let manifest = """
                apiVersion: coordination.k8s.io/v1
                kind: Lease
                metadata:
                  name: typo
                spec:
                  holderIdentity: a
                  leaseDurationSecond: 15
                """
            let strict = try await fixture.kubectl(["apply", "-f", "-"], stdin: manifest)
            #expect(strict.status != 0)
            #expect(strict.stderr.contains("unknown field \"spec.leaseDurationSecond\""), "\(strict.stderr)")
            let warned = try await fixture.kubectl(["apply", "--validate=warn", "-f", "-"], stdin: manifest)
            #expect(warned.status == 0, "\(warned.stderr)")
            #expect(
                warned.stderr.contains("Warning: unknown field \"spec.leaseDurationSecond\""),
                "\(warned.stderr)")
        }
    }

    @Test("fields the schema requires are reported as the server's validation does (422)")
    func requiredFields() async throws {
        try await withStarted(try await Self.start()) { fixture in
            let nameless = try await fixture.request(
                "POST", deployments, body: deployment(container: ["image": "nginx"]))
            #expect(nameless.status == 422)
            #expect(
                nameless.json["message"]
                    == "Deployment.apps \"web\" is invalid: spec.template.spec.containers[0].name: Required value"
            )
        }
    }

    @Test("times: garbage refused, offsets written in UTC, MicroTime with exactly six digits")
    func times() async throws {
        try await withStarted(try await Self.start()) { fixture in
            func lease(_ name: String, renewTime: String) -> JSON {
                [
                    "apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                    "metadata": ["name": .string(name)],
                    "spec": ["holderIdentity": "a", "renewTime": .string(renewTime)],
                ]
            }
            let garbage = try await fixture.request("POST", leases, body: lease("g", renewTime: "garbage"))
            #expect(garbage.status == 400)
            #expect(
                garbage.json["message"]
                    == "Lease in version \"v1\" cannot be handled as a Lease: parsing time \"garbage\" as \"2006-01-02T15:04:05.000000Z07:00\": cannot parse \"garbage\" as \"2006\""
            )
            let seconds = try await fixture.request(
                "POST", leases, body: lease("s", renewTime: "2024-05-01T10:00:00Z"))
            #expect(seconds.status == 400)
            #expect(
                seconds.json["message"]?.stringValue?.hasSuffix("cannot parse \"Z\" as \".000000\"") == true,
                "\(seconds.text)")
            let offset = try await fixture.request(
                "POST", leases, body: lease("o", renewTime: "2024-05-01T10:00:00.123456+02:00"))
            #expect(offset.status == 201, "\(offset.text)")
            #expect(offset.json[path: "spec", "renewTime"] == "2024-05-01T08:00:00.123456Z")

            let event: JSON = [
                "apiVersion": "v1", "kind": "Event", "metadata": ["name": "e"],
                "involvedObject": ["kind": "Lease", "name": "o", "namespace": "default"],
                "reason": "Tested", "firstTimestamp": "2024-05-01T10:00:00.5+00:00",
            ]
            let created = try await fixture.request("POST", "/api/v1/namespaces/default/events", body: event)
            #expect(created.status == 201, "\(created.text)")
            #expect(created.json["firstTimestamp"] == "2024-05-01T10:00:00Z")
            let month = try await fixture.request(
                "POST", leases, body: lease("m", renewTime: "2024-13-01T00:00:00.000000Z"))
            #expect(
                month.json["message"]?.stringValue?.hasSuffix(
                    "parsing time \"2024-13-01T00:00:00.000000Z\": month out of range") == true)
        }
    }

    @Test("quantities and int-or-strings are decoded by their own rules")
    func quantities() async throws {
        try await withStarted(try await Self.start()) { fixture in
            let cpu = try await fixture.request(
                "POST", deployments,
                body: deployment(container: [
                    "name": "app", "image": "nginx", "resources": ["limits": ["cpu": "lots"]],
                ]))
            #expect(cpu.status == 400)
            #expect(
                cpu.json["message"]?.stringValue?.hasSuffix(
                    "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
                ) == true,
                "\(cpu.text)")
            let good = try await fixture.request(
                "POST", deployments,
                body: deployment(container: [
                    "name": "app", "image": "nginx", "resources": ["limits": ["cpu": "500m", "memory": 1e9]],
                    "readinessProbe": ["httpGet": ["port": "http"]],
                ]))
            #expect(good.status == 201, "\(good.text)")
        }
    }

    @Test("kubectl explain shows the schemas' descriptions")
    func explain() async throws {
        try await withStarted(try await Self.start()) { fixture in
            let replicas = try await fixture.kubectl(["explain", "deployment.spec.replicas"])
            #expect(replicas.status == 0, "\(replicas.stderr)")
            #expect(replicas.stdout.contains("Number of desired pods"), "\(replicas.stdout)")
            let lease = try await fixture.kubectl(["explain", "lease.spec"])
            #expect(lease.stdout.contains("renewTime"), "\(lease.stdout)")
            #expect(lease.stdout.contains("leaseDurationSeconds\t<integer>"), "\(lease.stdout)")
        }
    }

    @Test("without schemas the emulator still serves, with the kinds' own rules")
    func withoutSchemas() async throws {
        try await withEmulator(.init(rolloutDelay: .milliseconds(50), schemas: nil)) { fixture in
            let created = try await fixture.request("POST", deployments, body: deployment())
            #expect(created.status == 201)
            let secret: JSON = [
                "apiVersion": "v1", "kind": "Secret", "metadata": ["name": "s"], "data": ["k": "!!"],
            ]
            #expect(
                try await fixture.request("POST", "/api/v1/namespaces/default/secrets", body: secret).status
                    == 400)
        }
    }
}

import Foundation
import JSONValue
import KubeEmulator
import Testing
import TestSupport

/// Authentication and authorization over TLS, seen through kubectl: bearer tokens, client
/// certificates, service account tokens, the policy file and RBAC objects stored in the cluster.
@Suite("authentication and authorization")
struct AuthTests {
    static let policy = """
        users:
          - name: alice
            token: alice-token
            rules:
              - verbs: [get, list, watch]
                resources: [secrets]
                resourceNames: [visible]
                namespaces: [default]
              - verbs: [create]
                resources: [configmaps]
                resourceNames: [never-matches]
          - serviceAccount: default/agent
            token: agent-token
            rules:
              - verbs: [get, patch]
                apiGroups: [apps]
                resources: [deployments, deployments/status]
          - name: carol
            groups: [auditors]
        groups:
          - name: auditors
            rules:
              - verbs: [get, list]
                resources: [configmaps]
        """

    static func start() async throws -> EmulatorFixture {
        try await EmulatorFixture.start(
            KubeEmulator.Options(
                policy: try AccessPolicy(yaml: policy), tls: true, rolloutDelay: .milliseconds(50)))
    }

    @Test("denied calls give kubectl's usual Forbidden message; resourceNames follow RBAC")
    func forbiddenMessages() async throws {
        try await withStarted(try await Self.start()) { fixture in
            _ = try await fixture.kubectl(["create", "secret", "generic", "visible", "--from-literal=a=1"])
            _ = try await fixture.kubectl(["create", "secret", "generic", "hidden", "--from-literal=a=1"])
            let alice = try fixture.kubeconfig(user: "alice", token: "alice-token")
            let allowed = try await fixture.kubectl(
                ["get", "secret", "visible", "-o", "name"], kubeconfig: alice)
            #expect(allowed.stdout == "secret/visible\n", "\(allowed.stderr)")
            let denied = try await fixture.kubectl(["get", "secret", "hidden"], kubeconfig: alice)
            #expect(denied.status == 1)
            #expect(
                denied.stderr
                    == "Error from server (Forbidden): secrets \"hidden\" is forbidden: User \"alice\" cannot get resource \"secrets\" in API group \"\" in the namespace \"default\"\n"
            )
            // resourceNames match list only with a metadata.name field selector.
            let list = try await fixture.kubectl(["get", "secrets"], kubeconfig: alice)
            #expect(
                list.stderr
                    == "Error from server (Forbidden): secrets is forbidden: User \"alice\" cannot list resource \"secrets\" in API group \"\" in the namespace \"default\"\n"
            )
            let pinned = try await fixture.kubectl(
                ["get", "secrets", "--field-selector", "metadata.name=visible", "-o", "name"],
                kubeconfig: alice)
            #expect(pinned.stdout == "secret/visible\n", "\(pinned.stderr)")
            // ... and never create.
            let create = try await fixture.kubectl(
                ["create", "configmap", "never-matches"], kubeconfig: alice)
            #expect(
                create.stderr.contains("User \"alice\" cannot create resource \"configmaps\""),
                "\(create.stderr)"
            )
            let otherNamespace = try await fixture.kubectl(
                ["get", "secret", "visible", "-n", "kube-system"], kubeconfig: alice)
            #expect(otherNamespace.stderr.contains("in the namespace \"kube-system\""))
            let clusterScope = try await fixture.kubectl(["get", "namespaces"], kubeconfig: alice)
            #expect(
                clusterScope.stderr.contains(
                    "cannot list resource \"namespaces\" in API group \"\" at the cluster scope"))
            let canI = try await fixture.kubectl(
                ["auth", "can-i", "get", "secrets/visible"], kubeconfig: alice)
            #expect(canI.stdout == "yes\n")
            let cannot = try await fixture.kubectl(
                ["auth", "can-i", "delete", "secrets/visible"], kubeconfig: alice)
            #expect(cannot.stdout == "no\n")
        }
    }

    @Test("unknown tokens and missing credentials are 401 over TLS")
    func unauthorized() async throws {
        try await withStarted(try await Self.start()) { fixture in
            let wrong = try fixture.kubeconfig(user: "mallory", token: "not-a-token")
            let result = try await fixture.kubectl(["get", "configmaps"], kubeconfig: wrong)
            #expect(result.status == 1)
            #expect(
                result.stderr.contains(
                    "error: You must be logged in to the server (the server has asked for the client to provide credentials)"
                ),
                "\(result.stderr)")
            let curl = try await ProcessRunner.runDetached(
                try ProcessRunner.which("curl"), ["-sk", fixture.emulator.url + "/api/v1/namespaces"])
            #expect(
                (try? JSON(parsing: curl.stdout))
                    == [
                        "kind": "Status", "apiVersion": "v1", "metadata": [:], "status": "Failure",
                        "message": "Unauthorized",
                        "reason": "Unauthorized", "code": 401,
                    ])
        }
    }

    @Test("client certificates: CN is the user, O the groups")
    func clientCertificates() async throws {
        try await withStarted(try await Self.start()) { fixture in
            _ = try await fixture.kubectl(["create", "configmap", "shared", "--from-literal=a=1"])
            let carol = try fixture.kubeconfig(certificateUser: "carol", groups: ["auditors"])
            let whoami = try await fixture.kubectl(
                ["auth", "whoami", "-o", "jsonpath={.status.userInfo.username}"], kubeconfig: carol)
            #expect(whoami.stdout == "carol", "\(whoami.stderr)")
            let read = try await fixture.kubectl(
                ["get", "configmap", "shared", "-o", "jsonpath={.data.a}"], kubeconfig: carol)
            #expect(read.stdout == "1", "\(read.stderr)")
            let write = try await fixture.kubectl(["delete", "configmap", "shared"], kubeconfig: carol)
            #expect(write.stderr.contains("User \"carol\" cannot delete resource \"configmaps\""))
            let admin = try fixture.kubeconfig(certificateUser: "root", groups: ["system:masters"])
            #expect(
                try await fixture.kubectl(["delete", "configmap", "shared"], kubeconfig: admin).status == 0)
        }
    }

    @Test("service accounts: policy tokens, issued tokens and RoleBindings in the cluster")
    func serviceAccountsAndStoredRBAC() async throws {
        try await withStarted(try await Self.start()) { fixture in
            _ = try await fixture.kubectl(["create", "deployment", "web", "--image=nginx:1.25"])
            let agent = try fixture.kubeconfig(user: "agent", token: "agent-token")
            let whoami = try await fixture.kubectl(
                ["auth", "whoami", "-o", "jsonpath={.status.userInfo.username}"], kubeconfig: agent)
            #expect(whoami.stdout == "system:serviceaccount:default:agent")
            #expect(
                try await fixture.kubectl(["rollout", "restart", "deployment/web"], kubeconfig: agent).status
                    == 0
            )
            let secrets = try await fixture.kubectl(["get", "secrets"], kubeconfig: agent)
            #expect(
                secrets.stderr.contains(
                    "User \"system:serviceaccount:default:agent\" cannot list resource \"secrets\""))

            // A token issued for another service account gets exactly what its RoleBinding grants.
            _ = try await fixture.kubectl(["create", "serviceaccount", "reader"])
            let token = try await fixture.kubectl(["create", "token", "reader"])
            #expect(token.status == 0, "\(token.stderr)")
            let reader = try fixture.kubeconfig(
                user: "reader", token: token.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
            #expect(try await fixture.kubectl(["get", "pods"], kubeconfig: reader).status == 1)
            _ = try await fixture.kubectl([
                "create", "role", "pod-reader", "--verb=get,list", "--resource=pods",
            ])
            let binding = try await fixture.kubectl([
                "create", "rolebinding", "read-pods", "--role=pod-reader", "--serviceaccount=default:reader",
            ])
            #expect(binding.status == 0, "\(binding.stderr)")
            let pods = try await fixture.kubectl(["get", "pods", "-o", "name"], kubeconfig: reader)
            #expect(pods.status == 0, "\(pods.stderr)")
            let elsewhere = try await fixture.kubectl(
                ["get", "pods", "-n", "kube-system"], kubeconfig: reader)
            #expect(elsewhere.status == 1)
        }
    }
}

import Foundation
import JSONValue
import KubeEmulator
import Testing
import TestSupport

/// Impersonation seen through kubectl (`--as`, `--as-group`): the request runs as the user
/// named, once the requester may `impersonate` it, so checking Roles by impersonation gives the
/// answers the impersonated user would get.
@Suite("impersonation")
struct ImpersonationTests {
    static let policy = """
        users:
          - name: alice
            token: alice-token
            rules:
              - verbs: [get]
                resources: [configmaps]
                namespaces: [default]
          - name: support
            token: support-token
            rules:
              - verbs: [impersonate]
                resources: [users]
                resourceNames: [alice]
              - verbs: [impersonate]
                resources: [serviceaccounts]
                namespaces: [default]
          - name: nobody
            token: nobody-token
        """

    static func start() async throws -> EmulatorFixture {
        try await EmulatorFixture.start(
            KubeEmulator.Options(
                policy: try AccessPolicy(yaml: policy), tls: true, rolloutDelay: .milliseconds(50)))
    }

    @Test("auth can-i --as answers for the impersonated user, not the admin")
    func canIAs() async throws {
        try await withStarted(try await Self.start()) { fixture in
            let get = try await fixture.kubectl(["auth", "can-i", "get", "configmaps", "--as=alice"])
            #expect(get.stdout == "yes\n", "\(get.stderr)")
            let delete = try await fixture.kubectl(["auth", "can-i", "delete", "configmaps", "--as=alice"])
            #expect(delete.stdout == "no\n", "\(delete.stderr)")
            let secrets = try await fixture.kubectl(["auth", "can-i", "list", "secrets", "--as=alice"])
            #expect(secrets.stdout == "no\n")
            let whoami = try await fixture.kubectl(["auth", "whoami", "--as=alice", "-o", "json"])
            let info = (try? JSON(parsing: Array(whoami.stdout.utf8))) ?? .null
            #expect(info[path: "status", "userInfo", "username"] == "alice", "\(whoami.stderr)")
            #expect(info[path: "status", "userInfo", "groups"] == ["system:authenticated"])
        }
    }

    @Test("requests with --as run as that user: its rules, its Forbidden messages, its counts")
    func requestsRunAsTheUser() async throws {
        try await withStarted(try await Self.start()) { fixture in
            _ = try await fixture.kubectl(["create", "configmap", "settings", "--from-literal=a=1"])
            let read = try await fixture.kubectl(["get", "configmap", "settings", "-o", "name", "--as=alice"])
            #expect(read.stdout == "configmap/settings\n", "\(read.stderr)")
            let write = try await fixture.kubectl(["delete", "configmap", "settings", "--as=alice"])
            #expect(
                write.stderr
                    == "Error from server (Forbidden): configmaps \"settings\" is forbidden: User \"alice\" cannot delete resource \"configmaps\" in API group \"\" in the namespace \"default\"\n"
            )
            let counts = fixture.emulator.requestCounts()
            #expect(counts.count(verb: "delete", resource: "configmaps", user: "alice", code: 403) == 1)
        }
    }

    @Test("impersonating needs the impersonate verb on that user, group or service account")
    func impersonateIsAuthorized() async throws {
        try await withStarted(try await Self.start()) { fixture in
            let support = try fixture.kubeconfig(user: "support", token: "support-token")
            let asAlice = try await fixture.kubectl(
                ["auth", "can-i", "get", "configmaps", "--as=alice"], kubeconfig: support)
            #expect(asAlice.stdout == "yes\n", "\(asAlice.stderr)")
            let asBob = try await fixture.kubectl(["get", "configmaps", "--as=bob"], kubeconfig: support)
            #expect(
                asBob.stderr
                    == "Error from server (Forbidden): users \"bob\" is forbidden: User \"support\" cannot impersonate resource \"users\" in API group \"\" at the cluster scope\n"
            )
            let asGroup = try await fixture.kubectl(
                ["get", "configmaps", "--as=alice", "--as-group=system:masters"], kubeconfig: support)
            #expect(
                asGroup.stderr.contains(
                    "groups \"system:masters\" is forbidden: User \"support\" cannot impersonate resource \"groups\" in API group \"\" at the cluster scope"
                ), "\(asGroup.stderr)")
            let nobody = try fixture.kubeconfig(user: "nobody", token: "nobody-token")
            let denied = try await fixture.kubectl(
                ["auth", "can-i", "get", "pods", "--as=alice"], kubeconfig: nobody)
            #expect(denied.status != 0)
            #expect(
                denied.stderr.contains("User \"nobody\" cannot impersonate resource \"users\""),
                "\(denied.stderr)")
        }
    }

    @Test("a service account is impersonated with its groups; RoleBindings to it apply")
    func serviceAccounts() async throws {
        try await withStarted(try await Self.start()) { fixture in
            _ = try await fixture.kubectl([
                "create", "role", "reader", "--verb=get,list", "--resource=secrets",
            ])
            _ = try await fixture.kubectl(
                ["create", "rolebinding", "agent-reads", "--role=reader", "--serviceaccount=default:agent"])
            let support = try fixture.kubeconfig(user: "support", token: "support-token")
            let account = "system:serviceaccount:default:agent"
            let list = try await fixture.kubectl(
                ["auth", "can-i", "list", "secrets", "--as=\(account)"], kubeconfig: support)
            #expect(list.stdout == "yes\n", "\(list.stderr)")
            let update = try await fixture.kubectl(
                ["auth", "can-i", "update", "secrets", "--as=\(account)"], kubeconfig: support)
            #expect(update.stdout == "no\n")
            let whoami = try await fixture.kubectl(
                ["auth", "whoami", "--as=\(account)", "-o", "json"], kubeconfig: support)
            let info = (try? JSON(parsing: Array(whoami.stdout.utf8))) ?? .null
            #expect(
                info[path: "status", "userInfo", "groups"]
                    == ["system:serviceaccounts", "system:serviceaccounts:default", "system:authenticated"],
                "\(whoami.stderr)")
            // Accounts in other namespaces are not covered by support's rule.
            let elsewhere = try await fixture.kubectl(
                ["get", "secrets", "--as=system:serviceaccount:kube-system:agent"], kubeconfig: support)
            #expect(
                elsewhere.stderr.contains(
                    "serviceaccounts \"agent\" is forbidden: User \"support\" cannot impersonate resource \"serviceaccounts\" in API group \"\" in the namespace \"kube-system\""
                ), "\(elsewhere.stderr)")
        }
    }

    @Test("groups without a user are refused")
    func groupsNeedAUser() async throws {
        try await withEmulator { fixture in
            let answer = try await fixture.request(
                "GET", "/api/v1/namespaces", headers: ["Impersonate-Group": "developers"])
            #expect(answer.status == 500)
            #expect(answer.json["message"]?.stringValue?.hasSuffix("without impersonating a user") == true)
        }
    }
}

import Foundation
import JSONValue
import KubeAPI
import Sealing
import Testing
import TestSupport

/// Three emulated clusters, each with its own agent keys, named by the contexts `a`, `b` and
/// `c` of one kubeconfig (plus `gone`, a server nothing listens on); the CLI runs with the first
/// workstation's configuration folder, so the agent identities are pinned per cluster there.
final class Fleet: TestScoped {
    let clusters: [Workstation]
    let kubeconfig: String

    private init(clusters: [Workstation], kubeconfig: String) {
        self.clusters = clusters
        self.kubeconfig = kubeconfig
    }

    /// `count` clusters (the contexts' first letters), with the test's agent keys published
    /// unless `publish` is false (a real agent publishes its own).
    static func start(count: Int = 3, publish: Bool = true) async throws -> Fleet {
        var clusters: [Workstation] = []
        do {
            for _ in 0..<count { clusters.append(try await Workstation.start(publish: publish)) }
        } catch {
            for cluster in clusters { await cluster.stop() }
            throw error
        }
        let names = Array(["a", "b", "c"].prefix(count))
        var text = "apiVersion: v1\nkind: Config\nclusters:\n"
        for (name, cluster) in zip(names, clusters) {
            text += "- name: \(name)\n  cluster: {server: \"\(cluster.fixture.emulator.url)\"}\n"
        }
        text += "- name: gone\n  cluster: {server: \"http://127.0.0.1:9\"}\nusers:\n"
        for (name, cluster) in zip(names, clusters) {
            text += "- name: \(name)\n  user: {token: \(cluster.fixture.emulator.adminToken)}\n"
        }
        text += "- name: gone\n  user: {token: t}\ncontexts:\n"
        for name in names + ["gone"] {
            text += "- name: \(name)\n  context: {cluster: \(name), user: \(name), namespace: default}\n"
        }
        text += "current-context: a\n"
        let path = clusters[0].home.file("fleet-kubeconfig")
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        return Fleet(clusters: clusters, kubeconfig: path)
    }

    func stop() async {
        for cluster in clusters { await cluster.stop() }
    }

    /// Whether the cluster's sealed store holds `key` (false when there is no store).
    func stores(_ cluster: Workstation, _ key: String) async throws -> Bool {
        let result = try await cluster.kubectl(["get", "configmap", "beluga-ai-secrets-sealed", "-o", "json"])
        guard result.status == 0 else { return false }
        return try JSON(parsing: result.stdout)[path: "data", key] != nil
    }

    var a: Workstation { clusters[0] }
    var b: Workstation { clusters[1] }
    var c: Workstation { clusters[2] }

    /// Runs the CLI with the fleet's kubeconfig and the first workstation's configuration.
    func run(_ arguments: [String], stdin: String? = nil, environment: [String: String] = [:]) async throws
        -> ProcessResult
    {
        try await a.run(arguments, stdin: stdin, kubeconfig: kubeconfig, environment: environment)
    }
}

/// `--context` several times and `--all-contexts`: one value typed once lands in every cluster,
/// sealed to each cluster's own agent; a failing cluster or one whose agent identity changed is
/// reported alone; `list` shows drift; no value appears in any output.
@Suite struct MultiClusterTests {
    /// The table row of `context` in a summary.
    func row(_ output: String, _ context: String) -> String {
        output.split(separator: "\n").map(String.init).first { $0.hasPrefix(context + " ") } ?? ""
    }

    @Test func oneValueLandsInEveryClusterAndFailuresStayWithTheirCluster() async throws {
        try await withStarted(try await Fleet.start()) { fleet in
            var markers = LeakMarkers()
            var outputs: [ProcessResult] = []
            // Pin c's agent, then let another agent identity appear there.
            let pin = try await fleet.run(["set", "warm-up", "--context", "c"], stdin: markers.make("warm"))
            outputs.append(pin)
            expectSuccess(pin)
            try await fleet.c.publishKeys(identity: SigningKeyPair.generate())

            let value = markers.make("shared")
            let set = try await fleet.run(
                [
                    "set", "openai-api-key", "--context", "a", "--context", "b", "--context", "c",
                    "--context", "gone",
                ],
                stdin: value)
            outputs.append(set)
            // The most severe code: 6 (c's changed identity) before 5 (gone is unreachable).
            expectFailure(
                set, status: 6, mentioning: ["2 of 4 clusters failed", "c: exit 6", "gone: exit 5"])
            // Each cluster got the value sealed to its own agent's key.
            #expect(try await fleet.a.openStored("openai-api-key") == value)
            #expect(try await fleet.b.openStored("openai-api-key") == value)
            #expect(try await !fleet.stores(fleet.c, "openai-api-key"))
            #expect(try await fleet.stores(fleet.c, "warm-up"))
            #expect(row(set.stdout, "a").contains("stored"))
            #expect(row(set.stdout, "a").contains(" 1 "))
            #expect(row(set.stdout, "b").contains("stored"))
            #expect(row(set.stdout, "c").contains("failed"))
            #expect(row(set.stdout, "gone").contains("failed"))
            #expect(row(set.stdout, "gone").contains("cannot connect"))
            #expect(set.stderr.contains("c: error: "))
            // Equal values under the same namespace and Secret: equal fingerprints everywhere.
            let binding = try SecretBinding(
                namespace: "default", secret: "beluga-ai-secrets", key: "openai-api-key")
            let print = Fingerprint(of: SecureBytes(Array(value.utf8)), binding: binding).text
            #expect(row(set.stdout, "a").contains(print))
            #expect(row(set.stdout, "b").contains(print))

            // The same as data.
            let json = try await fleet.run(
                [
                    "rotate", "openai-api-key", "--context", "a", "--context", "b", "-o", "json",
                    "--from-env", "V",
                ],
                environment: ["V": markers.make("rotated")])
            outputs.append(json)
            expectSuccess(json)
            let summary = try JSON(parsing: json.stdout)
            #expect(summary["exitCode"] == 0)
            #expect(summary["clusters"]?.arrayValue?.map { $0["context"]?.stringValue } == ["a", "b"])
            #expect(summary["clusters"]?.arrayValue?.allSatisfy { $0["version"] == 2 } == true)

            for output in outputs {
                #expect(
                    markers.leaks(in: output.stdout + output.stderr).isEmpty,
                    "\(output.stdout)\(output.stderr)")
            }
        }
    }

    @Test func directWritesFollowEveryRolloutOnItsOwnLines() async throws {
        try await withStarted(try await Fleet.start()) { fleet in
            var markers = LeakMarkers()
            let value = markers.make("direct")
            let set = try await fleet.run(
                ["set", "openai-api-key", "--direct", "--wait", "--context", "a", "--context", "b"],
                stdin: value)
            expectSuccess(set)
            #expect(try await fleet.a.secretValue("openai-api-key") == value)
            #expect(try await fleet.b.secretValue("openai-api-key") == value)
            for context in ["a", "b"] {
                let lines = set.stderr.split(separator: "\n").filter { $0.hasPrefix("\(context): ") }
                #expect(
                    lines.contains { $0.contains("written into Secret default/beluga-ai-secrets") },
                    "\(set.stderr)")
                #expect(lines.contains { $0.contains("successfully rolled out") }, "\(set.stderr)")
                #expect(row(set.stdout, context).contains("written"))
            }
            #expect(markers.leaks(in: set.stdout + set.stderr).isEmpty)
        }
    }

    @Test func listShowsDriftWithoutValues() async throws {
        try await withStarted(try await Fleet.start()) { fleet in
            var markers = LeakMarkers()
            var outputs: [ProcessResult] = []
            let same = markers.make("same")
            outputs.append(
                try await fleet.run(
                    ["set", "openai-api-key", "--context", "a", "--context", "b"], stdin: same))
            outputs.append(
                try await fleet.run(["set", "other-key", "--context", "a"], stdin: markers.make("x")))
            outputs.append(
                try await fleet.run(["set", "other-key", "--context", "b"], stdin: markers.make("y")))
            outputs.append(
                try await fleet.run(["set", "other-key", "--context", "c"], stdin: markers.make("z")))
            for output in outputs { expectSuccess(output) }

            let list = try await fleet.run(["list", "--context", "a", "--context", "b", "--context", "c"])
            outputs.append(list)
            expectSuccess(list)
            let lines = list.stdout.split(separator: "\n").map(String.init)
            #expect(
                lines.first?.split(separator: " ", omittingEmptySubsequences: true) == [
                    "KEY", "DRIFT", "a", "b", "c",
                ])
            let openai = try #require(lines.first { $0.hasPrefix("openai-api-key ") })
            #expect(openai.contains("missing"))
            #expect(openai.hasSuffix("-"))
            let other = try #require(lines.first { $0.hasPrefix("other-key ") })
            #expect(other.contains("different"))

            let data = try await fleet.run(["list", "--context", "a", "--context", "b", "-o", "json"])
            outputs.append(data)
            expectSuccess(data)
            let json = try JSON(parsing: data.stdout)
            let keys = try #require(json["keys"]?.arrayValue)
            let shared = try #require(keys.first { $0["key"] == "openai-api-key" })
            #expect(shared["drift"] == "same")
            #expect(
                shared[path: "clusters", "a", "fingerprint"] == shared[path: "clusters", "b", "fingerprint"])
            #expect(shared[path: "clusters", "a", "version"] == 1)
            #expect(keys.first { $0["key"] == "other-key" }?["drift"] == "different")

            // A cluster that cannot be read is named; the others are still compared.
            let partial = try await fleet.run(["list", "--context", "a", "--context", "gone"])
            outputs.append(partial)
            expectFailure(partial, status: 5, mentioning: ["gone: exit 5"])
            #expect(partial.stdout.contains("openai-api-key"))

            for output in outputs {
                #expect(markers.leaks(in: output.stdout + output.stderr).isEmpty)
            }
        }
    }

    @Test func allContextsNeedsAConfirmationAndOneContextStaysAsBefore() async throws {
        try await withStarted(try await Fleet.start()) { fleet in
            // Not a terminal: refused without --yes, nothing written anywhere.
            let refused = try await fleet.run(["set", "openai-api-key", "--all-contexts"], stdin: "sk-x")
            expectFailure(refused, status: 1, mentioning: ["--yes"])
            #expect(try await !fleet.stores(fleet.a, "openai-api-key"))
            let mixed = try await fleet.run(
                ["set", "openai-api-key", "--all-contexts", "--context", "a", "--yes"], stdin: "sk-x")
            expectFailure(mixed, status: 1, mentioning: ["cannot be combined"])
            let typo = try await fleet.run(
                ["set", "openai-api-key", "--context", "a", "--context", "bb"], stdin: "sk-x")
            expectFailure(typo, status: 1, mentioning: ["context \"bb\""])
            #expect(try await !fleet.stores(fleet.a, "openai-api-key"))

            // With --yes every context is tried (gone fails, the three clusters take the value).
            let all = try await fleet.run(
                ["set", "openai-api-key", "--all-contexts", "--yes"], stdin: "sk-all")
            expectFailure(all, status: 5, mentioning: ["1 of 4 clusters failed"])
            for cluster in fleet.clusters {
                #expect(try await cluster.openStored("openai-api-key") == "sk-all")
            }

            // One context: the output of today, no summary.
            let one = try await fleet.run(["set", "openai-api-key", "--context", "b"], stdin: "sk-one")
            expectSuccess(one)
            #expect(one.stdout.hasPrefix("openai-api-key: version 2 sealed to kid"))
            #expect(!one.stdout.contains("CONTEXT"))

            // A command that works on one cluster refuses several.
            let get = try await fleet.run([
                "config", "get", "llmProvider", "--context", "a", "--context", "b",
            ])
            expectFailure(get, status: 1, mentioning: ["one cluster at a time"])
        }
    }

    @Test func everyClusterAuditRecordOfOneChangeNamesTheSameChangeID() async throws {
        try await withStarted(try await Fleet.start(count: 2, publish: false)) { fleet in
            try await withStarted(try fleet.a.startAgent(identity: "agent-a")) { agentA in
                try await withStarted(try fleet.b.startAgent(identity: "agent-b")) { agentB in
                    for cluster in fleet.clusters {
                        try await eventually("the agent publishes its keys") {
                            try await cluster.kubectl(["get", "configmap", "beluga-secrets-public-key"])
                                .status == 0
                        }
                    }
                    var markers = LeakMarkers()
                    let value = markers.make("audited")
                    let set = try await fleet.run(
                        [
                            "set", "openai-api-key", "--context", "a", "--context", "b", "--wait",
                            "--timeout",
                            "120s", "-o", "json",
                        ], stdin: value)
                    expectSuccess(set)
                    let summary = try JSON(parsing: set.stdout)
                    let change = try #require(summary["change"]?.stringValue)
                    #expect(change.count == 16)
                    #expect(
                        summary["clusters"]?.arrayValue?.allSatisfy { $0["outcome"] == "applied" } == true)
                    #expect(try await fleet.a.secretValue("openai-api-key") == value)
                    #expect(try await fleet.b.secretValue("openai-api-key") == value)
                    // --wait followed each cluster on lines of its own.
                    for context in ["a", "b"] {
                        #expect(
                            set.stderr.contains("\(context): openai-api-key: the agent applied version 1"),
                            "\(set.stderr)")
                        #expect(
                            set.stderr.contains(
                                "\(context): deployment \"beluga-ai\" successfully rolled out"))
                    }
                    // Each agent's record of the change names the id.
                    for agent in [agentA, agentB] {
                        let named = await agent.waitForOutput(timeout: 120) { output in
                            output.split(separator: "\n").contains { line in
                                line.contains("\"event\":\"secret.created\"")
                                    && line.contains("\"change\":\"\(change)\"")
                            }
                        }
                        #expect(named, "\(agent.stdout)")
                    }
                    #expect(
                        markers.leaks(in: set.stdout + set.stderr + agentA.stdout + agentB.stdout).isEmpty)
                }
            }
        }
    }

    @Test func rollbackDeleteConfigAndRestartRunInEveryClusterToo() async throws {
        try await withStarted(try await Fleet.start(count: 2)) { fleet in
            var markers = LeakMarkers()
            var outputs: [ProcessResult] = []
            let both = ["--context", "a", "--context", "b"]
            outputs.append(try await fleet.run(["set", "openai-api-key"] + both, stdin: markers.make("one")))
            let second = markers.make("two")
            outputs.append(try await fleet.run(["rotate", "openai-api-key"] + both, stdin: second))
            for output in outputs { expectSuccess(output) }

            // Rollback in both, and in an unreachable one: the two are done, the third reported.
            let rollback = try await fleet.run(
                ["rollback", "openai-api-key"] + both + ["--context", "gone"])
            outputs.append(rollback)
            expectFailure(rollback, status: 5, mentioning: ["1 of 3 clusters failed", "gone: exit 5"])
            for context in ["a", "b"] {
                #expect(row(rollback.stdout, context).contains("done"), "\(rollback.stdout)")
                #expect(row(rollback.stdout, context).contains("version 3 restores version 1"))
            }
            #expect(try await fleet.a.openStored("openai-api-key") != second)
            #expect(try await fleet.b.sealedVersions()[path: "openai-api-key", "rollbackOf"] == 1)
            // One change id for the rollback, in both clusters' version records and its summary.
            let rollbackChange = try await fleet.a.sealedVersions()[path: "openai-api-key", "change"]?
                .stringValue
            #expect(rollbackChange?.count == 16)
            #expect(
                try await fleet.b.sealedVersions()[path: "openai-api-key", "change"]?.stringValue
                    == rollbackChange)
            #expect(rollbackChange.map { rollback.stdout.contains("change \($0)") } == true)

            // Settings, as data.
            let config = try await fleet.run(
                ["config", "set", "llmProvider", "openai"] + both + ["-o", "json"])
            outputs.append(config)
            expectSuccess(config)
            #expect(try JSON(parsing: config.stdout)["clusters"]?.arrayValue?.count == 2)
            for cluster in fleet.clusters {
                let value = try await cluster.kubectl([
                    "get", "configmap", "beluga-ai-config", "-o", "jsonpath={.data.llmProvider}",
                ])
                #expect(value.stdout == "openai")
            }
            let unset = try await fleet.run(["config", "unset", "llmProvider"] + both)
            outputs.append(unset)
            expectSuccess(unset)

            let restart = try await fleet.run(["restart", "--dry-run"] + both)
            outputs.append(restart)
            expectSuccess(restart)
            #expect(row(restart.stdout, "a").contains("dry run"))

            let delete = try await fleet.run(["delete", "openai-api-key"] + both)
            outputs.append(delete)
            expectSuccess(delete)
            for cluster in fleet.clusters { #expect(try await !fleet.stores(cluster, "openai-api-key")) }
            // The deletion's tombstones name one change id, not the rollback's.
            let deleteChange = try await fleet.a.sealedVersions()[path: "openai-api-key", "change"]?
                .stringValue
            #expect(deleteChange?.count == 16)
            #expect(deleteChange != rollbackChange)
            #expect(
                try await fleet.b.sealedVersions()[path: "openai-api-key", "change"]?.stringValue
                    == deleteChange)

            for output in outputs {
                #expect(markers.leaks(in: output.stdout + output.stderr).isEmpty)
            }
        }
    }

    @Test func getAndStatusShowEveryClusterInASectionOrOneDocument() async throws {
        try await withStarted(try await Fleet.start(count: 2)) { fleet in
            var markers = LeakMarkers()
            var outputs: [ProcessResult] = []
            let both = ["--context", "a", "--context", "b"]
            let set = try await fleet.run(
                ["set", "openai-api-key", "--context", "a"], stdin: markers.make("only-a"))
            outputs.append(set)
            expectSuccess(set)

            // b does not hold the key: its section says so, and the command exits 2.
            let get = try await fleet.run(["get", "openai-api-key"] + both)
            outputs.append(get)
            expectFailure(get, status: 2, mentioning: ["1 of 2 clusters failed", "b: exit 2"])
            let sections = get.stdout.components(separatedBy: "==> ")
            #expect(sections.count == 3, "\(get.stdout)")
            #expect(sections[1].hasPrefix("a <==\nKey:"))
            #expect(sections[1].contains("Version:         1"))
            #expect(sections[2].hasPrefix("b <==\nerror: key \"openai-api-key\" not found"))

            let data = try await fleet.run(["get", "openai-api-key", "-o", "json"] + both)
            outputs.append(data)
            let json = try JSON(parsing: data.stdout)
            let clusters = try #require(json["clusters"]?.arrayValue)
            #expect(clusters.first?[path: "data", "version"] == 1)
            #expect(clusters.last?["exitCode"] == 2)

            let reveal = try await fleet.run(["get", "openai-api-key", "--reveal"] + both)
            outputs.append(reveal)
            expectFailure(reveal, status: 1, mentioning: ["--reveal prints one cluster's value"])
            #expect(reveal.stdout.isEmpty)

            let status = try await fleet.run(["status"] + both + ["--context", "gone"])
            outputs.append(status)
            expectFailure(status, status: 5, mentioning: ["gone: exit 5"])
            #expect(status.stdout.contains("==> a <==\nNamespace:    default"))
            #expect(status.stdout.contains("==> b <==\nNamespace:    default"))
            #expect(status.stdout.contains("==> gone <==\nerror: cannot connect"))

            for output in outputs {
                #expect(markers.leaks(in: output.stdout + output.stderr).isEmpty)
            }
        }
    }

    @Test func twoProcessesPinningTwoClustersAtOnceKeepBothPins() async throws {
        try await withStarted(try await Fleet.start(count: 2)) { fleet in
            var markers = LeakMarkers()
            let value = markers.make("pinned-twice")
            let folder = fleet.a.configFolder
            try FileManager.default.createDirectory(
                atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            // Hold the pins' lock while two processes pin a cluster each: both must wait for it,
            // then each changes the file as the other left it.
            let lockPath = folder + "/known-agents.json.lock"
            let lock = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
            try #require(lock >= 0 && flock(lock, LOCK_EX) == 0)
            var held = true
            defer { if held { close(lock) } }
            async let first = fleet.run(["set", "openai-api-key", "--context", "a"], stdin: value)
            async let second = fleet.run(["set", "openai-api-key", "--context", "b"], stdin: value)
            var status = stat()
            try #require(stat(lockPath, &status) == 0)
            let inode = ":\(status.st_ino) "
            // /proc/locks lists a process blocked on a lock with "->" before its lock's line.
            try await eventually("both processes wait for the pins' lock", timeout: .seconds(120)) {
                let locks = (try? String(contentsOfFile: "/proc/locks", encoding: .utf8)) ?? ""
                return locks.split(separator: "\n").filter { $0.contains("->") && $0.contains(inode) }.count
                    == 2
            }
            close(lock)
            held = false
            let runs = try await [first, second]
            for run in runs {
                expectSuccess(run)
                #expect(markers.leaks(in: run.stdout + run.stderr).isEmpty)
            }
            let pins = try JSON(
                parsing: String(contentsOfFile: folder + "/known-agents.json", encoding: .utf8))
            let servers = Set((pins["agents"]?.arrayValue ?? []).compactMap { $0["server"]?.stringValue })
            #expect(servers == [fleet.a.fixture.emulator.url, fleet.b.fixture.emulator.url], "\(pins)")
        }
    }

    @Test func aClusterAnsweringFiveHundredFailsAloneAndChangesNothingThere() async throws {
        try await withStarted(try await Fleet.start(count: 2)) { fleet in
            var markers = LeakMarkers()
            // Every ConfigMap request of cluster b fails with 500, however often it is retried.
            fleet.b.fixture.emulator.faults.update {
                $0.errors = [.init(code: 500, match: .init(resources: ["configmaps"]))]
            }
            let value = markers.make("five-hundred")
            let set = try await fleet.run(
                ["set", "openai-api-key", "--context", "a", "--context", "b", "-o", "json"], stdin: value)
            expectFailure(set, status: 5, mentioning: ["1 of 2 clusters failed", "b: exit 5"])
            let summary = try JSON(parsing: set.stdout)
            #expect(summary["exitCode"] == 5)
            let clusters = try #require(summary["clusters"]?.arrayValue)
            #expect(clusters.first?["outcome"] == "stored")
            #expect(clusters.last?["outcome"] == "failed")
            #expect(try await fleet.a.openStored("openai-api-key") == value)
            fleet.b.fixture.emulator.faults.update { $0.errors = [] }
            #expect(try await !fleet.stores(fleet.b, "openai-api-key"))
            #expect(markers.leaks(in: set.stdout + set.stderr).isEmpty)
        }
    }
}

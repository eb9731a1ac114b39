import Foundation
import Testing
import TimeFormat
import TestSupport

@testable import KubeAPI

/// Exec credential plugins written as small shell scripts, run through the same code a
/// request uses.
@Suite struct ExecPluginTests {
    static let v1 = "client.authentication.k8s.io/v1"

    func authenticator(
        _ command: String, args: [String] = [], env: [(name: String, value: String)] = [],
        apiVersion: String = v1, mode: ExecPluginConfiguration.InteractiveMode = .never,
        // Generous: a shell script may take many seconds to start on a loaded machine. Tests of
        // the time limit itself pass their own.
        timeout: Duration = .seconds(120),
        installHint: String? = nil
    ) -> Authenticator {
        var configuration = ClientConfiguration(
            transport: TransportConfiguration(server: "https://127.0.0.1:1"),
            authentication: .exec(
                ExecPluginConfiguration(
                    apiVersion: apiVersion, command: command, args: args, env: env, installHint: installHint,
                    provideClusterInfo: true, interactiveMode: mode)),
            identity: .init(context: "ctx", cluster: "c1", user: "alice", source: "/tmp/kubeconfig"))
        configuration.execPluginTimeout = timeout
        return Authenticator(configuration: configuration)
    }

    /// A plugin that counts its runs in `count` and prints `token`, with the expiry written
    /// in the file `expiry` when there is one (so tests control it without racing the clock).
    func tokenPlugin(_ fixtures: Fixtures, token: String, apiVersion: String = v1) throws -> String {
        try fixtures.script(
            "plugin.sh",
            """
            echo run >> "\(fixtures.path)/count"
            printf '%s\\n' "$@" > "\(fixtures.path)/args"
            env > "\(fixtures.path)/env"
            expiry=""
            if [ -f "\(fixtures.path)/expiry" ]; then expiry=",\\"expirationTimestamp\\":\\"$(cat "\(fixtures.path)/expiry")\\""; fi
            cat <<JSON
            {"apiVersion":"\(apiVersion)","kind":"ExecCredential","status":{"token":"\(token)"$expiry}}
            JSON
            """)
    }

    func runs(_ fixtures: Fixtures) -> Int { fixtures.read("count").split(separator: "\n").count }

    @Test func tokenArgsEnvAndExecInfoReachThePlugin() async throws {
        let fixtures = try Fixtures()
        let plugin = try tokenPlugin(fixtures, token: "exec-token-1")
        let auth = authenticator(
            plugin, args: ["get-token", "--cluster", "c1"], env: [("PLUGIN_REGION", "eu-1")])
        let credentials = try await auth.credentials()
        #expect(credentials.authorization == "Bearer exec-token-1")
        #expect(fixtures.read("args") == "get-token\n--cluster\nc1\n")
        let env = fixtures.read("env")
        #expect(env.contains("PLUGIN_REGION=eu-1"))
        let execInfo =
            env.split(separator: "\n").first { $0.hasPrefix("KUBERNETES_EXEC_INFO=") }.map(String.init) ?? ""
        #expect(execInfo.contains("\"interactive\":false"))
        #expect(execInfo.contains("\"apiVersion\":\"client.authentication.k8s.io/v1\""))
        #expect(
            execInfo.contains("\"server\":\"https://127.0.0.1:1\""), "provideClusterInfo passes the cluster")
    }

    @Test func v1beta1IsSupported() async throws {
        let fixtures = try Fixtures()
        let beta = "client.authentication.k8s.io/v1beta1"
        let plugin = try tokenPlugin(fixtures, token: "beta-token", apiVersion: beta)
        let credentials = try await authenticator(plugin, apiVersion: beta, mode: .ifAvailable).credentials()
        #expect(credentials.authorization == "Bearer beta-token")
    }

    @Test func credentialIsCachedUntilItExpires() async throws {
        let fixtures = try Fixtures()
        try fixtures.write("expiry", KubeTime.time(.now() + .seconds(3600)))
        let auth = authenticator(try tokenPlugin(fixtures, token: "cached"))
        async let first = auth.credentials()
        async let second = auth.credentials()
        _ = try await (first, second)
        _ = try await auth.credentials()
        #expect(
            runs(fixtures) == 1, "concurrent and later requests share one run while the credential is valid")
        #expect(await auth.renewAfterUnauthorized())
        try fixtures.write("expiry", KubeTime.time(.now() - .seconds(60)))
        _ = try await auth.credentials()
        #expect(runs(fixtures) == 2, "a refused credential runs the plugin again")
        _ = try await auth.credentials()
        #expect(runs(fixtures) == 3, "an expired credential runs the plugin again")
        try fixtures.write("expiry", "2030-01-01T00:00:00.123456Z")
        _ = try await auth.credentials()
        _ = try await auth.credentials()
        #expect(
            runs(fixtures) == 4,
            "the expired one is replaced once; a fractional-second expiry parses and caches")
    }

    @Test func noExpirationMeansCachedUntilRefused() async throws {
        let fixtures = try Fixtures()
        let auth = authenticator(try tokenPlugin(fixtures, token: "forever"))
        for _ in 0..<3 { _ = try await auth.credentials() }
        #expect(runs(fixtures) == 1)
    }

    @Test func clientCertificateFromThePlugin() async throws {
        let fixtures = try Fixtures()
        let plugin = try fixtures.script(
            "cert.sh",
            """
            echo '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"clientCertificateData":"CERT","clientKeyData":"KEY"}}'
            """)
        let credentials = try await authenticator(plugin).credentials()
        #expect(credentials.authorization == nil)
        #expect(credentials.clientCertificate == Array("CERT".utf8))
        #expect(credentials.clientKey == Array("KEY".utf8))
    }

    func expectFailure(
        _ auth: Authenticator, containing fragments: [String], notContaining secrets: [String] = []
    ) async {
        do {
            _ = try await auth.credentials()
            Issue.record("expected the plugin to fail")
        } catch {
            #expect(error.category == .configuration)
            for fragment in fragments { #expect(error.message.contains(fragment), "\(error.message)") }
            for secret in secrets { #expect(!error.message.contains(secret), "\(error.message)") }
            #expect(error.message.contains("user \"alice\""), "\(error.message)")
        }
    }

    @Test func missingPlugin() async throws {
        await expectFailure(
            authenticator("beluga-no-such-plugin", installHint: "Install it with: brew install beluga-auth"),
            containing: ["\"beluga-no-such-plugin\"", "not found on PATH", "brew install beluga-auth"])
        let fixtures = try Fixtures()
        await expectFailure(
            authenticator(fixtures.path + "/bin/absent"), containing: ["does not exist or is not executable"])
    }

    /// What a plugin prints is never repeated (docs/kube-api.md): not its last error line (it
    /// may hold a one-time code or a token), not a field of its answer.
    @Test func failingPluginsOutputIsNotRepeated() async throws {
        let fixtures = try Fixtures()
        var markers = LeakMarkers()
        let secret = markers.make("plugin-stderr")
        let plugin = try fixtures.script(
            "fail.sh", "echo 'error: your session expired, run login' >&2\necho 'token \(secret)' >&2\nexit 3"
        )
        await expectFailure(
            authenticator(plugin), containing: ["failed with exit status 3", "run it yourself"],
            notContaining: [secret, "session expired"])
        let wrongVersion = try fixtures.script(
            "version.sh",
            "echo '{\"apiVersion\":\"\(secret)\",\"kind\":\"ExecCredential\",\"status\":{\"token\":\"t\"}}'")
        await expectFailure(authenticator(wrongVersion), containing: ["apiVersion"], notContaining: [secret])
        let badTime = try fixtures.script(
            "time.sh",
            "echo '{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\",\"status\":{\"token\":\"t\",\"expirationTimestamp\":\"\(secret)\"}}'"
        )
        await expectFailure(
            authenticator(badTime), containing: ["expirationTimestamp"], notContaining: [secret])
    }

    @Test func garbageOutput() async throws {
        let fixtures = try Fixtures()
        var markers = LeakMarkers()
        let secret = markers.make("plugin")
        let plugin = try fixtures.script("garbage.sh", "echo 'token=\(secret) this is not json'")
        await expectFailure(
            authenticator(plugin), containing: ["not an ExecCredential"], notContaining: [secret])
        let wrongVersion = try fixtures.script(
            "wrong.sh",
            "echo '{\"apiVersion\":\"client.authentication.k8s.io/v1beta1\",\"kind\":\"ExecCredential\",\"status\":{\"token\":\"\(secret)\"}}'"
        )
        await expectFailure(authenticator(wrongVersion), containing: ["apiVersion"], notContaining: [secret])
        let empty = try fixtures.script(
            "empty.sh",
            "echo '{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\",\"status\":{}}'"
        )
        await expectFailure(
            authenticator(empty), containing: ["neither status.token nor a client certificate"])
        let badTime = try fixtures.script(
            "time.sh",
            "echo '{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\",\"status\":{\"token\":\"\(secret)\",\"expirationTimestamp\":\"tomorrow\"}}'"
        )
        await expectFailure(
            authenticator(badTime), containing: ["expirationTimestamp"], notContaining: [secret])
    }

    @Test func hangingPluginIsStopped() async throws {
        let fixtures = try Fixtures()
        let plugin = try fixtures.script("hang.sh", "exec sleep 300")
        let started = ContinuousClock.now
        await expectFailure(
            authenticator(plugin, timeout: .seconds(1)), containing: ["did not finish within 1 s"])
        #expect(ContinuousClock.now - started < .seconds(120), "stopped long before the plugin would end")
    }

    @Test func alwaysInteractiveNeedsATerminal() async throws {
        guard isatty(STDIN_FILENO) == 0 else { return }  // only meaningful without a terminal
        let fixtures = try Fixtures()
        let plugin = try tokenPlugin(fixtures, token: "x")
        await expectFailure(
            authenticator(plugin, mode: .always), containing: ["needs a terminal", "interactiveMode"])
        #expect(runs(fixtures) == 0)
    }

    // MARK: - How the plugin is started

    @Test func thePluginStartsWithNothingOfThisProcessButItsEnvironment() async throws {
        let fixtures = try Fixtures()
        // A descriptor without close-on-exec, and an ignored signal: neither may reach the plugin.
        let leaked = open("/dev/null", O_RDONLY)
        #expect(leaked >= 0)
        let high: Int32 = 200
        #expect(dup2(leaked, high) == high)
        close(leaked)
        defer { close(high) }
        let previous = signal(SIGPIPE, SIG_IGN)
        defer { signal(SIGPIPE, previous) }
        let plugin = try fixtures.script(
            "clean.sh",
            """
            # Read by the shell itself, first: a command it starts would see the shell's mask
            # while the shell blocks every signal to fork it.
            while read -r field value; do
                case "$field" in SigIgn:|SigBlk:) echo "$field $value" >> "\(fixtures.path)/signals" ;; esac
            done < /proc/$$/status
            if [ -e /proc/$$/fd/\(high) ]; then echo open > "\(fixtures.path)/fd"; else echo closed > "\(fixtures.path)/fd"; fi
            echo "$BELUGA_TEST_PLUGIN_VARIABLE" > "\(fixtures.path)/variable"
            env | grep -c '^BELUGA_TEST_PLUGIN_VARIABLE=' > "\(fixtures.path)/definitions"
            read line || echo end-of-input > "\(fixtures.path)/stdin"
            echo '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"clean"}}'
            """)
        setenv("BELUGA_TEST_PLUGIN_VARIABLE", "from-the-parent", 1)
        defer { unsetenv("BELUGA_TEST_PLUGIN_VARIABLE") }
        let auth = authenticator(plugin, env: [("BELUGA_TEST_PLUGIN_VARIABLE", "from-the-kubeconfig")])
        #expect(try await auth.credentials().authorization == "Bearer clean")
        #expect(fixtures.read("fd") == "closed\n", "a descriptor of this process reached the plugin")
        // glibc's posix_spawn itself ignores its two internal signals (32 and 33) in the child;
        // none of the standard ones may be ignored or blocked.
        let masks = fixtures.read("signals").split(separator: "\n").map {
            UInt64($0.split(separator: " ").last ?? "", radix: 16) ?? .max
        }
        #expect(masks.count == 2 && masks.allSatisfy { $0 & 0x7FFF_FFFF == 0 }, "\(fixtures.read("signals"))")
        #expect(fixtures.read("variable") == "from-the-kubeconfig\n", "the kubeconfig's env wins")
        #expect(fixtures.read("definitions") == "1\n", "one definition of a variable")
        #expect(fixtures.read("stdin") == "end-of-input\n", "standard input is empty")
    }

    @Test func aStoppedPluginTakesWhatItStartedWithIt() async throws {
        let fixtures = try Fixtures()
        let plugin = try fixtures.script(
            "spawner.sh",
            """
            sleep 300 &
            echo $! > "\(fixtures.path)/child"
            wait
            """)
        await expectFailure(
            authenticator(plugin, timeout: .seconds(2)), containing: ["did not finish within 2 s"])
        let child = try #require(
            Int32(fixtures.read("child").trimmingCharacters(in: .whitespacesAndNewlines)))
        // Killed with its process group: gone, or a zombie until whoever adopted it reaps it.
        try await eventually("the plugin's own child ends") {
            guard let stat = try? String(contentsOfFile: "/proc/\(child)/stat", encoding: .utf8) else {
                return true
            }
            return stat.split(separator: ")").last?.split(separator: " ").first == "Z"
        }
    }

    /// A program still open for writing cannot be executed (ETXTBSY); on a busy machine that is
    /// a child forked by another thread that has not reached its exec yet. It is started once
    /// the writer is gone, not reported as missing.
    @Test func aPluginStillOpenForWritingStartsOnceItIsClosed() async throws {
        let fixtures = try Fixtures()
        let plugin = try tokenPlugin(fixtures, token: "busy")
        let writer = open(plugin, O_WRONLY | O_CLOEXEC)
        try #require(writer >= 0)
        let closer = Thread {
            usleep(1_000_000)
            close(writer)
        }
        closer.start()
        #expect(try await authenticator(plugin).credentials().authorization == "Bearer busy")
        #expect(runs(fixtures) == 1)
    }

    @Test func outputKeptOpenByAGrandchildDoesNotHoldTheCredentialBack() async throws {
        let fixtures = try Fixtures()
        // The background sleep holds standard output open long after the plugin has ended.
        let plugin = try fixtures.script(
            "lingering.sh",
            """
            sleep 120 &
            echo $! > "\(fixtures.path)/child"
            echo '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"lingering"}}'
            """)
        let started = ContinuousClock.now
        #expect(
            try await authenticator(plugin, timeout: .seconds(100)).credentials().authorization
                == "Bearer lingering")
        #expect(
            ContinuousClock.now - started < .seconds(100), "the credential came before the grandchild ended")
        if let child = Int32(fixtures.read("child").trimmingCharacters(in: .whitespacesAndNewlines)) {
            kill(child, SIGKILL)
        }
    }
}

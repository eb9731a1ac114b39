import Foundation
import Testing
import TestSupport

/// kubectl's global options (`--kubeconfig`, `--context`, `-n/--namespace`, `--request-timeout`)
/// before the command, as kubectl users write them, mean what they mean after it: the same
/// output, errors and exit status, whatever the case.
@Suite struct GlobalOptionsTests {
    /// A kubeconfig with the emulator's admin in two contexts: `kube-emulator` (namespace
    /// `default`, current) and `other` (namespace `other`).
    func twoContexts(_ workstation: Workstation) throws -> String {
        let emulator = workstation.fixture.emulator
        let text = """
            apiVersion: v1
            kind: Config
            clusters:
            - name: kube-emulator
              cluster:
                server: \(emulator.url)
            users:
            - name: admin
              user:
                token: \(emulator.adminToken)
            contexts:
            - name: kube-emulator
              context: {cluster: kube-emulator, user: admin, namespace: default}
            - name: other
              context: {cluster: kube-emulator, user: admin, namespace: other}
            current-context: kube-emulator

            """
        let path = workstation.home.file("two-contexts")
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// Runs `before` (globals first) and `after` (globals after the command path) and expects
    /// the very same result.
    func expectSame(
        _ workstation: Workstation, globals: [String], command: [String], rest: [String] = [],
        stdin: String? = nil, sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> ProcessResult {
        let before = try await workstation.run(globals + command + rest, stdin: stdin)
        let after = try await workstation.run(command + globals + rest, stdin: stdin)
        let line = (globals + command + rest).joined(separator: " ")
        #expect(
            before.status == after.status, "\(line): \(before.stderr) / \(after.stderr)",
            sourceLocation: sourceLocation)
        // Ages (`9s`, `10s`) tick between the two runs, and a wider age widens its column: neither
        // is what is compared.
        func withoutAges(_ text: String) -> String {
            text.replacingOccurrences(of: #"\b[0-9]+[smhd]\b"#, with: "AGE", options: .regularExpression)
                .replacingOccurrences(of: " +", with: " ", options: .regularExpression)
        }
        #expect(
            withoutAges(before.stdout) == withoutAges(after.stdout), "\(line)", sourceLocation: sourceLocation
        )
        #expect(before.stderr == after.stderr, "\(line)", sourceLocation: sourceLocation)
        return before
    }

    @Test func globalOptionsBeforeTheCommandMeanWhatTheyMeanAfterIt() async throws {
        try await withStarted(try await Workstation.start()) { workstation in
            let kubeconfig = try twoContexts(workstation)
            for namespace in ["ai", "other"] {
                _ = try await workstation.kubectl(["create", "namespace", namespace])
            }
            // A key written with the namespace first lands in that namespace.
            let set = try await workstation.run(
                ["-n", "ai", "set", "openai-api-key", "--direct", "--from-env", "VALUE"],
                environment: ["VALUE": "sk-global-options"])
            #expect(set.status == 0, "\(set.stderr)")
            let listed = try await expectSame(workstation, globals: ["-n", "ai"], command: ["list"])
            #expect(listed.status == 0 && listed.stdout.contains("openai-api-key"), "\(listed.stderr)")
            let elsewhere = try await workstation.run(["list"])
            #expect(!elsewhere.stdout.contains("openai-api-key"), "not in namespace default")

            let cases: [(globals: [String], command: [String], rest: [String])] = [
                (["--namespace", "ai"], ["list"], []),
                (["--namespace=ai"], ["list"], []),
                (["-n=ai"], ["list", "-o", "json"], []),
                (["-n", "ai", "--request-timeout", "20s"], ["get"], ["openai-api-key"]),
                (["--request-timeout=20s"], ["config", "list"], []),
                (["--kubeconfig", kubeconfig, "--context", "other"], ["config", "list"], []),
                (["--kubeconfig=\(kubeconfig)", "--context=other", "-n", "ai"], ["list"], []),
                (["-n", "ai"], ["get"], ["--", "openai-api-key"]),
                (["-n", "ai"], ["keys", "show"], []),
                // A namespace named like a command.
                (["-n", "list"], ["list"], []),
                // The same errors: a namespace the API server would refuse, a bad duration, a
                // missing value, an option the command does not take, an unknown context.
                (["-n", "Bad_Namespace"], ["list"], []),
                (["--request-timeout", "0"], ["list"], []),
                (["--request-timeout", "soon"], ["list"], []),
                (["-n", "--context", "other"], ["list"], []),
                (["--kubeconfig", kubeconfig, "--context", "list"], ["list"], []),
                (["-n", "ai"], ["keygen"], ["--out", workstation.home.file("keys")]),
                (["--context", "other"], ["version"], []),
            ]
            for item in cases {
                _ = try await expectSame(
                    workstation, globals: item.globals, command: item.command, rest: item.rest)
            }
        }
    }

    @Test func oddLinesGetAnAnswerNotAGuess() async throws {
        try await withStarted(try await Workstation.start()) { workstation in
            // Options with no command after them.
            let alone = try await workstation.run(["-n", "ai"])
            #expect(alone.status == 1)
            #expect(alone.stderr.contains("must be followed by a command"), "\(alone.stderr)")
            // `-n list`: the namespace is "list", so no command follows (as kubectl reads it).
            let swallowed = try await workstation.run(["-n", "list"])
            #expect(swallowed.status == 1)
            #expect(swallowed.stderr.contains("must be followed by a command"), "\(swallowed.stderr)")
            // After `--` nothing moves.
            let terminated = try await workstation.run(["--", "-n", "ai", "list"])
            #expect(terminated.status == 1, "\(terminated.stderr)")
            // Help, with or without a command (run without the kubeconfig the workstation adds).
            func offline(_ arguments: [String]) throws -> ProcessResult {
                try ProcessRunner.run(Binaries.path("beluga-secrets"), arguments, timeout: 60)
            }
            let help = try offline(["-n", "ai", "--help"])
            #expect(help.status == 0 && help.stdout.contains("USAGE"), "\(help.stderr)")
            let helpCommand = try offline(["-n", "ai", "help", "list"])
            #expect(
                helpCommand.status == 0 && helpCommand.stdout.contains("--namespace"), "\(helpCommand.stderr)"
            )
            let listHelp = try offline(["-n", "ai", "list", "--help"])
            #expect(
                listHelp.status == 0 && listHelp.stdout.contains("--request-timeout"), "\(listHelp.stderr)")
            // An option that is not a global one is not moved: the parser names it.
            let unknown = try await workstation.run(["--secret-name", "x", "list"])
            #expect(unknown.status == 1 && unknown.stderr.contains("--secret-name"), "\(unknown.stderr)")
        }
    }

    @Test func helpSaysTheGlobalOptionsMayComeFirst() throws {
        let result = try ProcessRunner.run(Binaries.path("beluga-secrets"), ["--help"], timeout: 60)
        #expect(result.status == 0)
        let text = result.stdout.replacingOccurrences(of: "\n", with: " ")
            .split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
        #expect(text.contains("before the command as well as after it"), "\(result.stdout)")
        #expect(text.contains("--request-timeout"))
    }
}

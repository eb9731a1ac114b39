import Foundation
import Testing
import TestSupport

/// What the CLI trusts on the workstation: a configuration folder of the user's own, key files
/// that are regular files, key pairs written whole, and a process whose memory stays its own.
@Suite struct WorkstationSafetyTests {
    let folder: TemporaryDirectory
    var markers = LeakMarkers()

    init() throws {
        folder = try TemporaryDirectory(prefix: "beluga-safety")
    }

    var configFolder: String { folder.file("config/beluga-secrets") }

    func run(_ arguments: [String], stdin: String? = nil, timeout: Double = 60) throws -> ProcessResult {
        try ProcessRunner.run(
            Binaries.path("beluga-secrets"), arguments, stdin: stdin,
            environment: ["XDG_CONFIG_HOME": folder.file("config"), "HOME": folder.path], timeout: timeout)
    }

    /// A public key to seal to, outside the configuration folder.
    func publicKey() throws -> String {
        let result = try run(["keygen", "--out", folder.file("keys")])
        try #require(result.status == 0, "\(result.stderr)")
        return folder.file("keys/sealing.pub")
    }

    /// `seal`, which looks for the user's signing key in the configuration folder.
    mutating func seal(_ publicKey: String) throws -> ProcessResult {
        try run(
            ["seal", "openai-api-key", "-n", "prod", "--public-key", publicKey], stdin: markers.make("value"))
    }

    func expectRefused(
        _ result: ProcessResult, mentioning fragments: [String],
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(result.status == 1, "exit \(result.status): \(result.stderr)", sourceLocation: sourceLocation)
        #expect(result.stdout.isEmpty, sourceLocation: sourceLocation)
        let lines = result.stderr.split(separator: "\n")
        #expect(
            lines.count == 1 && result.stderr.hasPrefix("error: "), "\(result.stderr)",
            sourceLocation: sourceLocation)
        for fragment in fragments {
            #expect(result.stderr.contains(fragment), "\(result.stderr)", sourceLocation: sourceLocation)
        }
        #expect(markers.leaks(in: result.allOutput).isEmpty, sourceLocation: sourceLocation)
    }

    // MARK: - The configuration folder

    @Test mutating func aFolderOthersMayWriteIsRefusedWithTheFix() throws {
        let key = try publicKey()
        try FileManager.default.createDirectory(atPath: configFolder, withIntermediateDirectories: true)
        try #require(chmod(configFolder, 0o700) == 0)
        #expect(try seal(key).status == 0, "a folder of one's own is used")

        for mode in [0o777, 0o770, 0o702] as [mode_t] {
            try #require(chmod(configFolder, mode) == 0)
            expectRefused(try seal(key), mentioning: [configFolder, "chmod go-w \(configFolder)"])
        }
        try #require(chmod(configFolder, 0o755) == 0)
        #expect(try seal(key).status == 0, "readable by others is fine; writable is not")
    }

    @Test mutating func aFileInItOthersMayWriteIsRefused() throws {
        let key = try publicKey()
        try FileManager.default.createDirectory(atPath: configFolder, withIntermediateDirectories: true)
        try #require(chmod(configFolder, 0o700) == 0)
        let pins = configFolder + "/known-agents.json"
        try Data(#"{"agents":[]}"#.utf8).write(to: URL(fileURLWithPath: pins))
        try #require(chmod(pins, 0o666) == 0)
        expectRefused(try seal(key), mentioning: [pins, "chmod go-w \(pins)"])
        try #require(chmod(pins, 0o600) == 0)
        #expect(try seal(key).status == 0)
    }

    @Test mutating func symbolicLinksAreRefused() throws {
        let key = try publicKey()
        // The folder itself a link to a folder elsewhere (another user's, say).
        let elsewhere = folder.file("elsewhere")
        try FileManager.default.createDirectory(atPath: elsewhere, withIntermediateDirectories: true)
        try #require(chmod(elsewhere, 0o700) == 0)
        try FileManager.default.createDirectory(
            atPath: folder.file("config"), withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: configFolder, withDestinationPath: elsewhere)
        expectRefused(try seal(key), mentioning: [configFolder, "symbolic link"])

        // A link inside it, in place of the signing key.
        try FileManager.default.removeItem(atPath: configFolder)
        try FileManager.default.createDirectory(atPath: configFolder, withIntermediateDirectories: true)
        try #require(chmod(configFolder, 0o700) == 0)
        let signer = try run(["signer", "init"])
        try #require(signer.status == 0, "\(signer.stderr)")
        try FileManager.default.moveItem(
            atPath: configFolder + "/signer.key", toPath: folder.file("signer.key"))
        try FileManager.default.createSymbolicLink(
            atPath: configFolder + "/signer.key", withDestinationPath: folder.file("signer.key"))
        expectRefused(try seal(key), mentioning: [configFolder + "/signer.key", "symbolic link"])
    }

    @Test mutating func aFolderOrFileOfAnotherUserIsRefused() throws {
        guard geteuid() == 0 else { return }  // giving a file away takes root
        let key = try publicKey()
        try FileManager.default.createDirectory(atPath: configFolder, withIntermediateDirectories: true)
        try #require(chmod(configFolder, 0o700) == 0)
        let pins = configFolder + "/known-agents.json"
        try Data(#"{"agents":[]}"#.utf8).write(to: URL(fileURLWithPath: pins))
        try #require(chmod(pins, 0o600) == 0)
        try #require(chown(pins, 65534, 65534) == 0)
        expectRefused(try seal(key), mentioning: [pins, "uid 65534", "chown 0 \(pins)"])
        try #require(chown(pins, 0, 0) == 0)
        try #require(chown(configFolder, 65534, 65534) == 0)
        expectRefused(try seal(key), mentioning: [configFolder, "uid 65534", "chown -R 0 \(configFolder)"])
    }

    // MARK: - Key files

    /// A FIFO given as a key file is refused at once; before, opening it waited for a writer
    /// forever (the run's time limit turns a wait into a failure here).
    @Test mutating func aFIFOAsAKeyFileIsRefusedAtOnce() throws {
        _ = try publicKey()
        let fifo = folder.file("fifo")
        try #require(mkfifo(fifo, 0o600) == 0)
        let lines: [[String]] = [
            ["seal", "openai-api-key", "-n", "prod", "--public-key", fifo],
            ["unseal", "openai-api-key", "-n", "prod", "--private-key", fifo],
            [
                "seal", "openai-api-key", "-n", "prod", "--public-key", folder.file("keys/sealing.pub"),
                "--signer-key", fifo,
            ],
            ["audit", "--verify", "--file", folder.file("keys/sealing.pub"), "--identity-key", fifo],
        ]
        for line in lines {
            do {
                let result = try run(line, stdin: "bs1.x", timeout: 60)
                #expect(result.status != 0, "\(line)")
                #expect(result.stderr.contains("FIFO"), "\(line): \(result.stderr)")
                #expect(result.stderr.contains(fifo), "\(line): \(result.stderr)")
            } catch let timeout as ProcessTimeout {
                Issue.record("\(line.joined(separator: " ")) waited on the FIFO: \(timeout)")
            }
        }
    }

    /// A keygen that cannot complete leaves neither file: here the public key's place is taken by
    /// a folder, which only shows when the files are put in place.
    @Test func keygenWritesBothFilesOrNeither() throws {
        let keys = folder.file("pair")
        try FileManager.default.createDirectory(
            atPath: keys + "/sealing.pub/taken", withIntermediateDirectories: true)
        let result = try run(["keygen", "--out", keys, "--force"])
        #expect(result.status == 1, "\(result.stderr)")
        #expect(result.stderr.contains(keys + "/sealing.pub"), "\(result.stderr)")
        let left = try FileManager.default.contentsOfDirectory(atPath: keys)
        #expect(left == ["sealing.pub"], "no sealing.key without its sealing.pub, no temporary file: \(left)")

        let signer = try run(["signer", "init"])
        #expect(signer.status == 0, "\(signer.stderr)")
        let again = try run(["keygen", "--out", folder.file("fresh")])
        #expect(again.status == 0)
        #expect(
            try FileManager.default.contentsOfDirectory(atPath: folder.file("fresh")).sorted()
                == ["sealing.key", "sealing.pub"])
    }

    // MARK: - The process

    /// The agent (the same executable and start as the CLI) sets its core size limit to 0 before
    /// anything else, seen from outside while it runs as another user (here `nobody`, when the
    /// tests run as root).
    @Test func theCLIAndTheAgentCannotBeDumped() async throws {
        // A world-readable place the agent can run from: it keeps trying to reach a server that
        // refuses connections.
        let place = folder.file("shared")
        try FileManager.default.createDirectory(atPath: place, withIntermediateDirectories: true)
        try #require(chmod(folder.path, 0o755) == 0 && chmod(place, 0o755) == 0)
        let fifo = place + "/records"
        try #require(mkfifo(fifo, 0o666) == 0)
        let kubeconfig = place + "/kubeconfig"
        try Data(
            """
            apiVersion: v1
            kind: Config
            clusters: [{name: c, cluster: {server: "http://127.0.0.1:9"}}]
            users: [{name: u, user: {}}]
            contexts: [{name: x, context: {cluster: c, user: u, namespace: default}}]
            current-context: x

            """.utf8
        ).write(to: URL(fileURLWithPath: kubeconfig))
        try #require(chmod(kubeconfig, 0o644) == 0)

        let binary = try Binaries.path("beluga-secrets")
        let runAsOther = geteuid() == 0
        for arguments in [
            ["agent", "--kubeconfig", kubeconfig, "--health-addr", "127.0.0.1:0", "--identity", "dump-test"]
        ] {
            let process =
                runAsOther
                ? try RunningProcess(
                    "/usr/bin/setpriv",
                    ["--reuid=65534", "--regid=65534", "--clear-groups", binary] + arguments,
                    environment: ["HOME": place])
                : try RunningProcess(binary, arguments, environment: ["HOME": place])
            let pid = process.processIdentifier
            let expectedUser: uid_t = runAsOther ? 65534 : geteuid()
            var coreLimit = ""
            var owner: uid_t = .max
            var user: uid_t = .max
            let hardened = await poll(timeout: .seconds(60)) {
                guard let limits = try? String(contentsOfFile: "/proc/\(pid)/limits", encoding: .utf8),
                    let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
                else { return false }
                coreLimit =
                    limits.split(separator: "\n").first { $0.hasPrefix("Max core file size") }
                    .map { $0.split(separator: " ").suffix(3).joined(separator: " ") } ?? ""
                user =
                    status.split(separator: "\n").first { $0.hasPrefix("Uid:") }
                    .flatMap { $0.split(separator: "\t").dropFirst().first }.flatMap { uid_t($0) } ?? .max
                var info = stat()
                // An undumpable process's /proc files (environ, mem) belong to root, whatever
                // its user; the /proc/<pid> folder itself keeps the user's ownership.
                owner = stat("/proc/\(pid)/environ", &info) == 0 ? info.st_uid : .max
                return user == expectedUser && coreLimit == "0 0 bytes" && (!runAsOther || owner == 0)
            }
            let output = process.stderr
            await process.stop()
            #expect(
                hardened,
                "\(arguments[0]): uid \(user), /proc owner \(owner), core limit \(coreLimit); \(output)")
        }
    }
}

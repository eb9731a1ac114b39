import Foundation
import Testing
import TestSupport

/// The commands that need no cluster, run as real processes: keygen, seal, unseal,
/// fingerprint, version.
@Suite struct OfflineCommandsTests {
    let folder: TemporaryDirectory
    var markers = LeakMarkers()

    init() throws {
        folder = try TemporaryDirectory(prefix: "beluga-cli")
    }

    @discardableResult
    func run(_ arguments: [String], stdin: String? = nil, environment: [String: String] = [:]) throws
        -> ProcessResult
    {
        // A configuration folder of its own, so a signing key of the user running the tests
        // does not change what seal prints.
        try ProcessRunner.run(
            Binaries.path("beluga-secrets"), arguments, stdin: stdin,
            environment: ["XDG_CONFIG_HOME": folder.file("config")].merging(environment) { _, new in new },
            timeout: 30)
    }

    /// A key pair in `dir` (default: the test's folder), returning its key id.
    func keygen(_ dir: String? = nil) throws -> String {
        let result = try run(["keygen", "--out", dir ?? folder.file("keys")])
        try #require(result.status == 0, "keygen failed: \(result.stderr)")
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func seal(
        _ value: String, key: String = "openai-api-key", namespace: String = "prod", extra: [String] = []
    ) throws -> String {
        let result = try run(
            ["seal", key, "--public-key", folder.file("keys/sealing.pub"), "-n", namespace] + extra,
            stdin: value)
        try #require(result.status == 0, "seal failed: \(result.stderr)")
        return result.stdout
    }

    func unseal(
        _ envelope: String, key: String = "openai-api-key", namespace: String = "prod", extra: [String] = []
    )
        throws -> ProcessResult
    {
        try run(
            ["unseal", "--private-key", folder.file("keys/sealing.key"), "-n", namespace, key] + extra,
            stdin: envelope)
    }

    /// Checks a refusal: the documented exit code, exactly one line `error: …` on standard error,
    /// nothing on standard output, and no value or key material anywhere.
    func expectRefusal(
        _ result: ProcessResult, status: Int32, mentioning: String? = nil,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        #expect(
            result.status == status, "exit \(result.status), stderr: \(result.stderr)",
            sourceLocation: sourceLocation)
        let lines = result.stderr.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(
            lines.count == 2 && lines[1].isEmpty, "one line expected: \(result.stderr)",
            sourceLocation: sourceLocation)
        #expect(result.stderr.hasPrefix("error: "), sourceLocation: sourceLocation)
        #expect(result.stdout.isEmpty, "stdout: \(result.stdout)", sourceLocation: sourceLocation)
        if let mentioning {
            #expect(
                result.stderr.contains(mentioning), "\(result.stderr) should mention \(mentioning)",
                sourceLocation: sourceLocation)
        }
        try expectNoLeak(result, sourceLocation: sourceLocation)
    }

    func expectNoLeak(_ result: ProcessResult, sourceLocation: SourceLocation = #_sourceLocation) throws {
        #expect(
            markers.leaks(in: result.allOutput).isEmpty, "a value leaked: \(result.allOutput)",
            sourceLocation: sourceLocation)
        let privateKeyPath = folder.file("keys/sealing.key")
        if FileManager.default.fileExists(atPath: privateKeyPath) {
            let privateKey = try String(contentsOfFile: privateKeyPath, encoding: .utf8).trimmingCharacters(
                in: .newlines)
            #expect(
                !result.allOutput.contains(privateKey), "the private key leaked",
                sourceLocation: sourceLocation)
            #expect(
                !result.allOutput.contains(privateKey.dropLast(4)), "the private key leaked",
                sourceLocation: sourceLocation)
        }
    }

    private func permissions(_ path: String) throws -> Int {
        try (FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int) ?? -1
    }

    // MARK: - Happy paths

    @Test mutating func keygenSealUnsealRoundTrip() throws {
        let kid = try keygen()
        #expect(kid.count == 16 && kid.allSatisfy { $0.isHexDigit && !$0.isUppercase })
        #expect(try permissions(folder.file("keys")) == 0o700)
        #expect(try permissions(folder.file("keys/sealing.key")) == 0o600)
        #expect(try permissions(folder.file("keys/sealing.pub")) == 0o644)

        let secret = markers.make("roundtrip")
        let envelope = try seal(secret + "\n")
        #expect(envelope.hasPrefix("bs1.\(kid)."))
        #expect(envelope.hasSuffix("\n") && envelope.filter { $0 == "\n" }.count == 1)
        #expect(markers.leaks(in: envelope).isEmpty)

        let opened = try unseal(envelope)
        #expect(opened.status == 0, "\(opened.stderr)")
        #expect(opened.stdout == secret, "exactly the value, one trailing newline removed, none added")
        #expect(opened.stderr.isEmpty)
    }

    @Test mutating func standardInputLosesExactlyOneTrailingNewline() throws {
        _ = try keygen()
        for (input, expected) in [
            ("v\r\n", "v"), ("v\n\n", "v\n"), ("v", "v"), ("a\nb\n", "a\nb"), ("v\r", "v\r"),
        ] {
            let opened = try unseal(try seal(input))
            #expect(opened.stdout == expected, "input \(input.debugDescription)")
        }
    }

    @Test mutating func filesAreReadVerbatimAndEnvironmentVariablesToo() throws {
        _ = try keygen()
        let secret = markers.make("file") + "\n"
        try secret.write(toFile: folder.file("value.txt"), atomically: false, encoding: .utf8)
        let fromFile = try run([
            "seal", "openai-api-key", "--public-key", folder.file("keys/sealing.pub"), "-n", "prod",
            "--from-file", folder.file("value.txt"),
        ])
        #expect(fromFile.status == 0)
        #expect(try unseal(fromFile.stdout).stdout == secret, "the trailing newline of a file is kept")

        let envValue = markers.make("env")
        let fromEnv = try run(
            [
                "seal", "openai-api-key", "--public-key", folder.file("keys/sealing.pub"), "-n", "prod",
                "--from-env", "API_KEY",
            ],
            environment: ["API_KEY": envValue])
        #expect(fromEnv.status == 0, "\(fromEnv.stderr)")
        #expect(try unseal(fromEnv.stdout).stdout == envValue)
        try expectNoLeak(fromEnv)
        try expectNoLeak(fromFile)
    }

    @Test mutating func sealRecordsSecretAndSealerAndUnsealChecksThem() throws {
        _ = try keygen()
        let value = markers.make("other-secret")
        let envelope = try seal(value, extra: ["--secret", "other-secrets", "--sealed-by", "ci@pipeline"])
        #expect(try unseal(envelope, extra: ["--secret", "other-secrets"]).stdout == value)
        try expectRefusal(try unseal(envelope), status: 6, mentioning: "Secret")
    }

    @Test mutating func fingerprintsAreEqualForEqualValuesWhateverTheSource() throws {
        let value = markers.make("fp")
        try value.write(toFile: folder.file("v"), atomically: false, encoding: .utf8)
        let viaStdin = try run(["fingerprint", "openai-api-key", "-n", "prod"], stdin: value + "\n")
        let viaFile = try run([
            "fingerprint", "openai-api-key", "-n", "prod", "--from-file", folder.file("v"),
        ])
        let viaEnv = try run(
            ["fingerprint", "openai-api-key", "-n", "prod", "--from-env", "V"], environment: ["V": value])
        let otherKey = try run(["fingerprint", "anthropic-api-key", "-n", "prod"], stdin: value)
        let otherValue = try run(["fingerprint", "openai-api-key", "-n", "prod"], stdin: value + "x")
        for result in [viaStdin, viaFile, viaEnv, otherKey, otherValue] {
            #expect(result.status == 0)
            #expect(result.stdout.hasPrefix("fp1:") && result.stdout.count == 4 + 32 + 1)
            try expectNoLeak(result)
        }
        #expect(viaStdin.stdout == viaFile.stdout)
        #expect(viaStdin.stdout == viaEnv.stdout)
        #expect(viaStdin.stdout != otherKey.stdout)
        #expect(viaStdin.stdout != otherValue.stdout)
    }

    @Test func versionPrintsTheVersion() throws {
        let result = try run(["version"])
        #expect(result.status == 0)
        #expect(result.stdout.hasPrefix("beluga-secrets "))
    }

    // MARK: - Bad input of the issue, one by one

    @Test mutating func tamperedCiphertextIsRefused() throws {
        _ = try keygen()
        let envelope = try seal(markers.make("tamper")).trimmingCharacters(in: .newlines)
        var characters = Array(envelope)
        for offset in [30, characters.count / 2, characters.count - 2] {
            var altered = characters
            altered[offset] = altered[offset] == "A" ? "B" : "A"
            try expectRefusal(try unseal(String(altered)), status: 6, mentioning: "seal the value again")
        }
        characters.removeAll()
    }

    @Test mutating func truncatedEnvelopesAreRefused() throws {
        _ = try keygen()
        let envelope = try seal(markers.make("truncate")).trimmingCharacters(in: .newlines)
        for length in [3, 10, 21, 30, envelope.count - 5] {
            try expectRefusal(try unseal(String(envelope.prefix(length))), status: 6)
        }
        try expectRefusal(try unseal(""), status: 1, mentioning: "no envelope")
    }

    @Test mutating func wrongPrefixOrVersionIsRefused() throws {
        _ = try keygen()
        let envelope = try seal(markers.make("prefix")).trimmingCharacters(in: .newlines)
        try expectRefusal(try unseal("bs7." + envelope.dropFirst(4)), status: 6, mentioning: "version 7")
        try expectRefusal(
            try unseal("xy1." + envelope.dropFirst(4)), status: 6, mentioning: "not a sealed envelope")
        try expectRefusal(try unseal(markers.make("plain")), status: 6, mentioning: "not a sealed envelope")
    }

    @Test mutating func unknownKeyIDAndWrongPrivateKeyAreRefused() throws {
        let ourKid = try keygen()
        let otherKid = try keygen(folder.file("other"))
        let other = try run(
            ["seal", "openai-api-key", "--public-key", folder.file("other/sealing.pub"), "-n", "prod"],
            stdin: markers.make("other"))
        try expectRefusal(try unseal(other.stdout), status: 6, mentioning: otherKid)

        // The envelope relabelled with our key id: the private key does not open it.
        let relabelled = other.stdout.replacingOccurrences(of: otherKid, with: ourKid)
        try expectRefusal(try unseal(relabelled), status: 6, mentioning: "does not open")
    }

    @Test mutating func bindingMismatchesAreRefused() throws {
        _ = try keygen()
        let envelope = try seal(markers.make("binding"))
        try expectRefusal(
            try unseal(envelope, namespace: "staging"), status: 6, mentioning: "another namespace")
        try expectRefusal(
            try unseal(envelope, extra: ["--secret", "other"]), status: 6, mentioning: "another Secret")
        try expectRefusal(
            try unseal(envelope, key: "anthropic-api-key"), status: 6, mentioning: "another key")
    }

    @Test(arguments: ["bad/name", "..", "with space", String(repeating: "k", count: 254), "ключ"])
    mutating func invalidKeyNamesAreRefused(name: String) throws {
        _ = try keygen()
        let result = try run(
            ["seal", name, "--public-key", folder.file("keys/sealing.pub"), "-n", "prod"],
            stdin: markers.make("name"))
        try expectRefusal(result, status: 6, mentioning: "invalid key name")
        try expectRefusal(
            try run(["fingerprint", name, "-n", "prod"], stdin: "x"), status: 6,
            mentioning: "invalid key name")
    }

    @Test mutating func emptyValuesAreRefused() throws {
        _ = try keygen()
        for input in ["", "\n", "\r\n"] {
            let result = try run(
                ["seal", "k", "--public-key", folder.file("keys/sealing.pub"), "-n", "prod"], stdin: input)
            try expectRefusal(result, status: 6, mentioning: "empty")
        }
        try "".write(toFile: folder.file("empty"), atomically: false, encoding: .utf8)
        let fromFile = try run([
            "seal", "k", "--public-key", folder.file("keys/sealing.pub"), "-n", "prod", "--from-file",
            folder.file("empty"),
        ])
        try expectRefusal(fromFile, status: 6, mentioning: "empty")
    }

    @Test mutating func valuesOverOneMebibyteAreRefused() throws {
        _ = try keygen()
        let limit = 1024 * 1024
        let marker = markers.make("large")
        var large = Data(marker.utf8)
        large.append(Data(repeating: 0x61, count: limit + 1 - large.count))
        try large.write(to: URL(fileURLWithPath: folder.file("large")))
        let seal = ["seal", "k", "--public-key", folder.file("keys/sealing.pub"), "-n", "prod"]
        try expectRefusal(
            try run(seal + ["--from-file", folder.file("large")]), status: 6, mentioning: "1 MiB")
        try expectRefusal(
            try run(seal, stdin: String(decoding: large, as: UTF8.self)), status: 6, mentioning: "1 MiB")

        // Exactly 1 MiB is allowed.
        try large.prefix(limit).write(to: URL(fileURLWithPath: folder.file("largest")))
        let largest = try run(seal + ["--from-file", folder.file("largest")])
        #expect(largest.status == 0, "\(largest.stderr)")
        let opened = try unseal(largest.stdout, key: "k")
        #expect(opened.stdout.utf8.count == limit)
    }

    @Test mutating func publicKeyFilesOfTheWrongLengthAreRefused() throws {
        for length in [31, 33] {
            try (Data(repeating: 9, count: length).base64EncodedString() + "\n").write(
                toFile: folder.file("short.pub"), atomically: false, encoding: .utf8)
            let result = try run(
                ["seal", "k", "--public-key", folder.file("short.pub"), "-n", "prod"],
                stdin: markers.make("short"))
            try expectRefusal(result, status: 1, mentioning: "\(length) bytes")
        }
        let missing = try run(
            ["seal", "k", "--public-key", folder.file("absent.pub"), "-n", "prod"], stdin: "x")
        try expectRefusal(missing, status: 1, mentioning: folder.file("absent.pub"))
    }

    @Test(arguments: [0o640, 0o604, 0o644, 0o660])
    mutating func privateKeyFilesOthersCanReadAreRefused(permissions: Int) throws {
        _ = try keygen()
        let envelope = try seal(markers.make("insecure"))
        let path = folder.file("keys/sealing.key")
        try FileManager.default.setAttributes([.posixPermissions: permissions], ofItemAtPath: path)
        try expectRefusal(try unseal(envelope), status: 1, mentioning: "chmod 600 \(path)")
    }

    @Test mutating func keygenRefusesToOverwriteUnlessForced() throws {
        let first = try keygen()
        let publicKey = try String(contentsOfFile: folder.file("keys/sealing.pub"), encoding: .utf8)
        let again = try run(["keygen", "--out", folder.file("keys")])
        try expectRefusal(again, status: 1, mentioning: "--force")
        #expect(try String(contentsOfFile: folder.file("keys/sealing.pub"), encoding: .utf8) == publicKey)
        let forced = try run(["keygen", "--out", folder.file("keys"), "--force"])
        #expect(forced.status == 0)
        #expect(forced.stdout.trimmingCharacters(in: .newlines) != first)
        #expect(try permissions(folder.file("keys/sealing.key")) == 0o600)
    }

    @Test func usageErrorsAreOneLineWithExitCodeOne() throws {
        for arguments in [
            ["seal"], ["seal", "k", "--public-key", "p"], ["unseal", "k"], ["no-such-command"],
            ["seal", "k", "--public-key", "p", "-n", "prod", "--from-file", "a", "--from-env", "B"],
            ["seal", "k", "--public-key", "p", "-n", "prod", "--value", "sk-MARKER-argv"],
        ] {
            try expectRefusal(try run(arguments), status: 1)
        }
        try expectRefusal(
            try run(["fingerprint", "k", "-n", "prod", "--from-env", "UNSET_VARIABLE"]), status: 1,
            mentioning: "UNSET_VARIABLE")
        try expectRefusal(
            try run(["fingerprint", "k", "-n", "Prod_1"], stdin: "x"), status: 6, mentioning: "namespace")
        try expectRefusal(
            try run(["fingerprint", "k", "-n", "prod", "--secret", "Bad_Name"], stdin: "x"), status: 6,
            mentioning: "Secret name")
    }

    @Test func helpExitsCleanly() throws {
        let result = try run(["seal", "--help"])
        #expect(result.status == 0)
        #expect(result.stdout.contains("--from-file"))
    }
}

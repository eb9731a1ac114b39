import Foundation
import Testing
import TestSupport

/// `signer init/show`, signed sealing and `unseal --allowed-signer`, as real processes.
@Suite struct SignerCommandsTests {
    let folder: TemporaryDirectory
    var markers = LeakMarkers()

    init() throws {
        folder = try TemporaryDirectory(prefix: "beluga-signer")
        let keygen = try ProcessRunner.run(
            Binaries.path("beluga-secrets"), ["keygen", "--out", folder.file("keys")])
        try #require(keygen.status == 0)
    }

    /// Runs with `config` as the configuration folder of the user.
    @discardableResult
    func run(_ arguments: [String], stdin: String? = nil, config: String = "alice") throws -> ProcessResult {
        try ProcessRunner.run(
            Binaries.path("beluga-secrets"), arguments, stdin: stdin,
            environment: ["XDG_CONFIG_HOME": folder.file(config)], timeout: 30)
    }

    func signerInit(_ config: String = "alice") throws -> (id: String, publicKey: String) {
        let result = try run(["signer", "init"], config: config)
        try #require(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        try #require(lines.count == 3)
        return (
            String(lines[0].dropFirst("signer id:  ".count)), String(lines[1].dropFirst("public key: ".count))
        )
    }

    func seal(_ value: String, config: String = "alice", extra: [String] = []) throws -> String {
        let result = try run(
            ["seal", "openai-api-key", "--public-key", folder.file("keys/sealing.pub"), "-n", "prod"] + extra,
            stdin: value, config: config)
        try #require(result.status == 0, "\(result.stderr)")
        #expect(markers.leaks(in: result.allOutput).isEmpty)
        return result.stdout
    }

    func unseal(_ envelope: String, allowing signers: [String]) throws -> ProcessResult {
        try run(
            ["unseal", "--private-key", folder.file("keys/sealing.key"), "-n", "prod", "openai-api-key"]
                + signers.flatMap { ["--allowed-signer", folder.file("\($0)/beluga-secrets/signer.pub")] },
            stdin: envelope)
    }

    private func permissions(_ path: String) throws -> Int {
        try (FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int) ?? -1
    }

    func expectRefusal(
        _ result: ProcessResult, status: Int32, mentioning: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(result.status == status, "\(result.stderr)", sourceLocation: sourceLocation)
        #expect(result.stdout.isEmpty, sourceLocation: sourceLocation)
        #expect(
            result.stderr.hasPrefix("error: ") && result.stderr.filter { $0 == "\n" }.count == 1,
            sourceLocation: sourceLocation)
        #expect(result.stderr.contains(mentioning), "\(result.stderr)", sourceLocation: sourceLocation)
        #expect(markers.leaks(in: result.allOutput).isEmpty, sourceLocation: sourceLocation)
    }

    @Test func initWritesAPrivateKeyOnlyTheOwnerCanReadAndShowAgrees() throws {
        let (id, publicKey) = try signerInit()
        let config = folder.file("alice/beluga-secrets")
        #expect(try permissions(config) == 0o700)
        #expect(try permissions(config + "/signer.key") == 0o600)
        #expect(try permissions(config + "/signer.pub") == 0o644)
        #expect(id.count == 16)
        #expect(Data(base64Encoded: publicKey)?.count == 32)
        #expect(try String(contentsOfFile: config + "/signer.pub", encoding: .utf8) == publicKey + "\n")

        let show = try run(["signer", "show"])
        #expect(show.status == 0)
        #expect(
            show.stdout.contains("signer id:  \(id)\n") && show.stdout.contains("public key: \(publicKey)\n"))
        let privateKey = try String(contentsOfFile: config + "/signer.key", encoding: .utf8)
        #expect(!show.allOutput.contains(privateKey.trimmingCharacters(in: .newlines)))
        #expect(try run(["signer", "show", "--public-key-only"]).stdout == publicKey + "\n")
    }

    @Test func initRefusesToReplaceAKeyUnlessForced() throws {
        let first = try signerInit()
        expectRefusal(try run(["signer", "init"]), status: 1, mentioning: "--force")
        #expect(try run(["signer", "show", "--public-key-only"]).stdout == first.publicKey + "\n")
        let forced = try run(["signer", "init", "--force"])
        #expect(forced.status == 0)
        #expect(try run(["signer", "show", "--public-key-only"]).stdout != first.publicKey + "\n")
    }

    @Test func theConfigurationFolderDefaultsToDotConfigInHome() throws {
        let result = try ProcessRunner.run(
            Binaries.path("beluga-secrets"), ["signer", "init"],
            environment: ["HOME": folder.path, "XDG_CONFIG_HOME": ""])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(FileManager.default.fileExists(atPath: folder.file(".config/beluga-secrets/signer.key")))
    }

    @Test mutating func anInsecureSigningKeyIsRefused() throws {
        _ = try signerInit()
        let path = folder.file("alice/beluga-secrets/signer.key")
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: path)
        expectRefusal(try run(["signer", "show"]), status: 1, mentioning: "chmod 600 \(path)")
        let seal = try run(
            ["seal", "k", "--public-key", folder.file("keys/sealing.pub"), "-n", "prod"],
            stdin: markers.make("insecure"))
        expectRefusal(seal, status: 1, mentioning: "chmod 600 \(path)")
    }

    @Test mutating func sealSignsWhenASigningKeyExists() throws {
        let alice = try signerInit()
        let value = markers.make("signed")
        let envelope = try seal(value, extra: ["--version", "4"])
        #expect(envelope.hasPrefix("bs2.") && envelope.split(separator: ".")[2] == Substring(alice.id))
        let opened = try unseal(envelope, allowing: ["alice"])
        #expect(opened.status == 0, "\(opened.stderr)")
        #expect(opened.stdout == value)

        let unsigned = try seal(value, extra: ["--no-sign"])
        #expect(unsigned.hasPrefix("bs1."))
        expectRefusal(try unseal(unsigned, allowing: ["alice"]), status: 6, mentioning: "not signed")
        #expect(
            try unseal(unsigned, allowing: []).stdout == value,
            "without --allowed-signer, no signature is required")
    }

    @Test mutating func signaturesByOtherKeysOrTamperedOnesAreRefused() throws {
        _ = try signerInit("alice")
        let mallory = try signerInit("mallory")
        let value = markers.make("forged")
        let byMallory = try seal(value, config: "mallory")
        expectRefusal(
            try unseal(byMallory, allowing: ["alice"]), status: 6,
            mentioning: "\(mallory.id), which is not an allowed signer")
        #expect(try unseal(byMallory, allowing: ["alice", "mallory"]).stdout == value)

        let byAlice = try seal(value).trimmingCharacters(in: .newlines)
        var characters = Array(byAlice)
        let index = characters.count - 10
        characters[index] = characters[index] == "A" ? "B" : "A"
        expectRefusal(
            try unseal(String(characters), allowing: ["alice"]), status: 6, mentioning: "does not verify")
    }

    @Test func versionNeedsASignature() throws {
        let seal = ["seal", "k", "--public-key", folder.file("keys/sealing.pub"), "-n", "prod"]
        expectRefusal(
            try run(seal + ["--version", "2"], stdin: "x", config: "nobody"), status: 1,
            mentioning: "signer init")
        _ = try signerInit()
        expectRefusal(
            try run(seal + ["--version", "2", "--no-sign"], stdin: "x"), status: 1, mentioning: "--no-sign")
        expectRefusal(try run(seal + ["--version", "0"], stdin: "x"), status: 1, mentioning: "version")
    }
}

import Foundation
import Testing
import TestSupport

@testable import Sealing

@Suite struct KeyFileTests {
    private func mode(_ path: String) throws -> Int {
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        return (attributes[.posixPermissions] as? Int) ?? -1
    }

    @Test func privateKeysAreWrittenWithMode0600AndReadBack() throws {
        let folder = try TemporaryDirectory()
        let pair = SealingKeyPair.generate()
        try pair.writePrivateKey(to: folder.file("sealing.key"))
        try pair.publicKey.write(to: folder.file("sealing.pub"))
        #expect(try mode(folder.file("sealing.key")) == 0o600)
        #expect(try mode(folder.file("sealing.pub")) == 0o644)

        let content = try String(contentsOfFile: folder.file("sealing.key"), encoding: .utf8)
        #expect(content.hasSuffix("\n"))
        #expect(Data(base64Encoded: String(content.dropLast()))?.count == 32)

        let read = try SealingKeyPair.read(privateKeyFile: folder.file("sealing.key"))
        #expect(read.publicKey == pair.publicKey)
        #expect(try SealingPublicKey.read(from: folder.file("sealing.pub")) == pair.publicKey)
    }

    @Test func existingFilesAreNotOverwrittenUnlessReplacing() throws {
        let folder = try TemporaryDirectory()
        let path = folder.file("sealing.key")
        let first = SealingKeyPair.generate()
        try first.writePrivateKey(to: path)
        let second = SealingKeyPair.generate()
        #expect(throws: SealingError.keyFileExists(path: path, kind: .sealingPrivateKey)) {
            try second.writePrivateKey(to: path)
        }
        #expect(try SealingKeyPair.read(privateKeyFile: path).keyID == first.keyID)
        try second.writePrivateKey(to: path, replacing: true)
        #expect(try SealingKeyPair.read(privateKeyFile: path).keyID == second.keyID)
        #expect(try mode(path) == 0o600)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["sealing.key"])
    }

    @Test(arguments: [0o640, 0o604, 0o660, 0o644, 0o606, 0o610, 0o601])
    func privateKeyFilesOthersCanAccessAreRefused(permissions: Int) throws {
        let folder = try TemporaryDirectory()
        let path = folder.file("sealing.key")
        try SealingKeyPair.generate().writePrivateKey(to: path)
        try FileManager.default.setAttributes([.posixPermissions: permissions], ofItemAtPath: path)
        let error = #expect(throws: SealingError.self) { try SealingKeyPair.read(privateKeyFile: path) }
        #expect(error == .insecureKeyFile(path: path, kind: .sealingPrivateKey, mode: UInt32(permissions)))
        #expect(error?.description.contains("chmod 600 \(path)") == true)
        #expect(error?.description.contains(path) == true)
    }

    @Test(arguments: [0o600, 0o400])
    func ownerOnlyPrivateKeyFilesAreAccepted(permissions: Int) throws {
        let folder = try TemporaryDirectory()
        let path = folder.file("sealing.key")
        try SealingKeyPair.generate().writePrivateKey(to: path)
        try FileManager.default.setAttributes([.posixPermissions: permissions], ofItemAtPath: path)
        _ = try SealingKeyPair.read(privateKeyFile: path)
    }

    @Test(arguments: [31, 33, 64, 1])
    func keysOfTheWrongLengthAreRefused(length: Int) throws {
        let folder = try TemporaryDirectory()
        let path = folder.file("key")
        try (Data(repeating: 7, count: length).base64EncodedString() + "\n").write(
            toFile: path, atomically: false, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
        #expect(throws: SealingError.wrongKeyLength(path: path, kind: .sealingPublicKey, found: length)) {
            try SealingPublicKey.read(from: path)
        }
        #expect(throws: SealingError.wrongKeyLength(path: path, kind: .sealingPrivateKey, found: length)) {
            try SealingKeyPair.read(privateKeyFile: path)
        }
    }

    @Test(arguments: ["", "\n", "not base64 at all\n", "AAAA AAAA\n", String(repeating: "A", count: 5000)])
    func filesThatAreNotKeyFilesAreRefused(content: String) throws {
        let folder = try TemporaryDirectory()
        let path = folder.file("key")
        try content.write(toFile: path, atomically: false, encoding: .utf8)
        #expect(throws: SealingError.keyFileMalformed(path: path, kind: .sealingPublicKey)) {
            try SealingPublicKey.read(from: path)
        }
    }

    @Test func missingFilesAreReportedWithTheirPath() throws {
        let folder = try TemporaryDirectory()
        let path = folder.file("absent.pub")
        let error = #expect(throws: SealingError.self) { try SealingPublicKey.read(from: path) }
        #expect(error?.description.contains(path) == true)
        #expect(error?.description.contains("No such file") == true)
    }
}

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

/// A key pair's two files are written both or neither, and a key file is a regular file: a FIFO
/// (or a folder) given as a key is refused at once, never waited on.
@Suite struct KeyPairFilesTests {
    private func entries(_ folder: TemporaryDirectory) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
    }

    @Test func bothFilesAreWrittenWithNothingLeftBeside() throws {
        let folder = try TemporaryDirectory()
        let pair = SealingKeyPair.generate()
        try pair.writeFiles(privateKey: folder.file("sealing.key"), publicKey: folder.file("sealing.pub"))
        #expect(try entries(folder) == ["sealing.key", "sealing.pub"])
        #expect(try SealingKeyPair.read(privateKeyFile: folder.file("sealing.key")).keyID == pair.keyID)
        #expect(try SealingPublicKey.read(from: folder.file("sealing.pub")) == pair.publicKey)
        let attributes = try FileManager.default.attributesOfItem(atPath: folder.file("sealing.key"))
        #expect(attributes[.posixPermissions] as? Int == 0o600)
    }

    @Test func anExistingPublicKeyStopsThePairBeforeThePrivateKeyIsWritten() throws {
        let folder = try TemporaryDirectory()
        try SealingKeyPair.generate().publicKey.write(to: folder.file("sealing.pub"))
        let pair = SealingKeyPair.generate()
        #expect(throws: SealingError.keyFileExists(path: folder.file("sealing.pub"), kind: .sealingPublicKey))
        {
            try pair.writeFiles(privateKey: folder.file("sealing.key"), publicKey: folder.file("sealing.pub"))
        }
        #expect(
            try entries(folder) == ["sealing.pub"], "no private key without its public key, no temporary file"
        )
    }

    @Test func aReplacementThatCannotCompleteKeepsTheOldPair() throws {
        let folder = try TemporaryDirectory()
        let old = SealingKeyPair.generate()
        try old.writeFiles(privateKey: folder.file("sealing.key"), publicKey: folder.file("sealing.pub"))
        // Something that is not a key file in the public key's place.
        try FileManager.default.removeItem(atPath: folder.file("sealing.pub"))
        try FileManager.default.createDirectory(
            atPath: folder.file("sealing.pub/inside"), withIntermediateDirectories: true)
        let new = SealingKeyPair.generate()
        #expect(throws: SealingError.self) {
            try new.writeFiles(
                privateKey: folder.file("sealing.key"), publicKey: folder.file("sealing.pub"), replacing: true
            )
        }
        #expect(try SealingKeyPair.read(privateKeyFile: folder.file("sealing.key")).keyID == old.keyID)
        #expect(try entries(folder) == ["sealing.key", "sealing.pub"])

        try FileManager.default.removeItem(atPath: folder.file("sealing.pub"))
        try new.writeFiles(
            privateKey: folder.file("sealing.key"), publicKey: folder.file("sealing.pub"), replacing: true)
        #expect(try SealingKeyPair.read(privateKeyFile: folder.file("sealing.key")).keyID == new.keyID)
        #expect(try SealingPublicKey.read(from: folder.file("sealing.pub")) == new.publicKey)
        #expect(try entries(folder) == ["sealing.key", "sealing.pub"])
    }

    @Test func signerKeyPairsToo() throws {
        let folder = try TemporaryDirectory()
        let pair = SigningKeyPair.generate()
        try pair.writeFiles(privateKey: folder.file("signer.key"), publicKey: folder.file("signer.pub"))
        #expect(try SigningKeyPair.read(privateKeyFile: folder.file("signer.key")).signerID == pair.signerID)
        #expect(try SigningPublicKey.read(from: folder.file("signer.pub")) == pair.publicKey)
        #expect(throws: SealingError.self) {
            try SigningKeyPair.generate().writeFiles(
                privateKey: folder.file("signer.key"), publicKey: folder.file("signer.pub"))
        }
        #expect(try SigningKeyPair.read(privateKeyFile: folder.file("signer.key")).signerID == pair.signerID)
    }

    /// Opening a FIFO for reading waits for a writer; a key file read must not. The read runs on
    /// a thread of its own: should it block, the test opens the FIFO for writing itself (after a
    /// generous wait) so that it ends, and fails.
    @Test(arguments: [false, true])
    func aFIFOIsRefusedAtOnce(privateKey: Bool) async throws {
        let folder = try TemporaryDirectory()
        let path = folder.file(privateKey ? "sealing.key" : "sealing.pub")
        try #require(mkfifo(path, 0o600) == 0)
        let outcome = ThreadOutcome()
        Thread.detachNewThread {
            do {
                if privateKey {
                    _ = try SealingKeyPair.read(privateKeyFile: path)
                } else {
                    _ = try SealingPublicKey.read(from: path)
                }
                outcome.finish("read")
            } catch {
                outcome.finish("\(error)")
            }
        }
        let finished = await poll(timeout: .seconds(60)) { outcome.result != nil }
        if !finished {
            let writer = open(path, O_WRONLY | O_NONBLOCK)
            if writer >= 0 { close(writer) }
        }
        #expect(finished, "reading a FIFO as a key file blocked")
        let message = try #require(
            await poll(timeout: .seconds(60)) { outcome.result != nil } ? outcome.result : nil)
        #expect(message.contains("FIFO"), "\(message)")
        #expect(message.contains("not a regular file"), "\(message)")
    }
}

/// What a thread reports back.
final class ThreadOutcome: @unchecked Sendable {
    private let lock = NSLock()
    private var value: String?

    var result: String? { lock.withLock { value } }
    func finish(_ text: String) { lock.withLock { value = text } }
}

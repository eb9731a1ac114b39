import JSONValue
import Sealing
import Testing

@testable import SecretSync

/// A signature has one spelling: standard base64 whose unused trailing bits are zero. A text
/// with other trailing bits decodes to the same 64 bytes in a lenient decoder, so an edited line
/// would still verify; every signature the CLI and the agent read is refused in that form.
@Suite struct CanonicalSignatureTests {
    let identity = SigningKeyPair.generate()

    /// `text` with the unused low bits of its last character before the padding set: the same
    /// bytes to a lenient decoder, another text.
    static func nonCanonical(_ text: String) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
        var characters = Array(text)
        let padding = characters.reversed().prefix { $0 == "=" }.count
        precondition(padding > 0, "a 64-byte signature ends with ==")
        let index = characters.count - padding - 1
        let value = alphabet.firstIndex(of: characters[index]) ?? 0
        characters[index] = alphabet[value | 1]
        return String(characters)
    }

    @Test func theAlteredTextIsAnotherSpellingOfTheSameBytes() {
        let signature = identity.sign(Array("text".utf8))
        let text = SigningPublicKey.base64(signature: signature)
        let altered = Self.nonCanonical(text)
        #expect(altered != text)
        #expect(SigningPublicKey.signature(base64: text) == signature)
        #expect(SigningPublicKey.signature(base64: altered) == nil)
        #expect(SigningPublicKey.signature(base64: String(text.dropLast(2))) == nil, "padding is required")
        #expect(SigningPublicKey.signature(base64: text + "\n") == nil)
        #expect(SigningPublicKey.signature(base64: SigningPublicKey.base64(signature: [1, 2, 3])) == nil)
    }

    @Test func anAuditRecordWithAnotherSpellingOfItsSignatureDoesNotVerify() throws {
        let chain = AuditChain(namespace: "prod")
        let record = AuditRecord(
            event: .secretCreated, namespace: "prod", secret: "beluga-ai-secrets", key: "openai-api-key",
            version: 1, fingerprint: "fp1:1", sealedBy: "alice@ws")
        let line = try #require(
            chain.prepare([record], ts: "2026-01-01T00:00:00Z", agent: "agent-a", identity: identity).first)
        var log = AuditLog()
        log.read(line.text, source: "test.log")
        let entry = try #require(log.entries.first)
        #expect(AuditVerifier.signatureIsValid(entry, publicKey: identity.publicKey))

        let sig = try #require(entry.json["sig"]?.stringValue)
        var edited = AuditLog()
        edited.read(line.text.replacingOccurrences(of: sig, with: Self.nonCanonical(sig)), source: "test.log")
        let editedEntry = try #require(edited.entries.first)
        #expect(!AuditVerifier.signatureIsValid(editedEntry, publicKey: identity.publicKey))
    }

    @Test func aPublishedKeyWithAnotherSpellingOfItsSignatureIsNotSigned() {
        let key = SealingKeyPair.generate().publicKey
        let entry = PublishedSealingKey(
            signing: key, createdAt: "2026-01-01T00:00:00Z", state: .current, identity: identity)
        #expect(entry.isSigned(by: identity.publicKey))
        let altered = PublishedSealingKey(
            kid: entry.kid, publicKey: entry.publicKey, createdAt: entry.createdAt,
            signature: Self.nonCanonical(entry.signature), state: entry.state)
        #expect(!altered.isSigned(by: identity.publicKey))
    }

    @Test func aRollbackStatementWithAnotherSpellingOfItsSignatureIsRefused() throws {
        let binding = try SecretBinding(namespace: "prod", secret: "beluga-ai-secrets", key: "openai-api-key")
        let statement = RollbackStatement.sign(
            binding: binding, from: 3, to: 1, version: 4, envelope: "bs1.x", key: identity,
            at: "2026-01-01T00:00:00Z")
        var json = statement.json
        let path = UntrustedField.Path(object: "test", field: "rollback")
        #expect((try? RollbackStatement(untrusted: json, at: path)) != nil)
        let text = try #require(json["signature"]?.stringValue)
        json["signature"] = .string(Self.nonCanonical(text))
        #expect((try? RollbackStatement(untrusted: json, at: path)) == nil)
    }
}

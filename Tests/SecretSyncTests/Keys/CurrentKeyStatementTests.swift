import Foundation
import JSONValue
import Sealing
import Testing

@testable import SecretSync

/// Which sealing key is current is the identity's signed word, with a counter that only rises
/// (docs/formats.md, "Sealing keys"): an edit of the public-key ConfigMap cannot mark another
/// key current, and the statements of keys superseded since carry lower counters.
@Suite struct CurrentKeyStatementTests {
    let namespace = "prod"

    func configMap(_ data: [String: String], namespace: String = "prod") -> JSON {
        [
            "metadata": ["name": "beluga-secrets-public-key", "namespace": .string(namespace)],
            "data": .object(data.mapValues { .string($0) }),
        ]
    }

    @Test func theAgentSignsItsCurrentKeyAndRaisesTheCounterOnEveryRotation() throws {
        var keys = AgentKeys.create(at: "2026-01-01T00:00:00Z", namespace: namespace)
        let first = try PublishedKeys(configMap: configMap(keys.publicKeyData()), namespace: namespace)
        #expect(first.currentStatement.counter == 1)
        #expect(first.currentStatement.kid == keys.keyring.currentKeyID.hex)
        #expect(first.currentStatement.isSigned(by: keys.identity.publicKey))

        keys.rotate(at: "2026-01-02T00:00:00Z")
        keys.rotate(at: "2026-01-03T00:00:00Z")
        let third = try PublishedKeys(configMap: configMap(keys.publicKeyData()), namespace: namespace)
        #expect(third.currentStatement.counter == 3)
        #expect(third.current == keys.keyring.current.publicKey)

        // The Secret keeps the statement: a restarted agent goes on from the same counter.
        let reloaded = try AgentKeys(secretData: keys.secretData(), secretName: "s", namespace: namespace)
        #expect(reloaded.currentStatement == keys.currentStatement)
        #expect(reloaded.publicKeyData() == keys.publicKeyData())
    }

    @Test func aSecretWithoutAStatementGetsOneAndAnEditedOneARaisedCounter() throws {
        let keys = AgentKeys.create(at: "2026-01-01T00:00:00Z", namespace: namespace)
        // An older agent's Secret: no statement yet.
        var older = keys.secretData()
        older[AgentKeys.currentStatementDataKey] = nil
        let upgraded = try AgentKeys(secretData: older, secretName: "s", namespace: namespace)
        #expect(upgraded.currentStatement.counter == 1)
        #expect(upgraded.currentStatement.isSigned(by: keys.identity.publicKey))

        // A statement signed by someone else is replaced, above its counter.
        let stranger = SigningKeyPair.generate()
        let forged = CurrentKeyStatement.sign(
            namespace: namespace, key: keys.keyring.current.publicKey, counter: 7, at: "2026-01-01T00:00:00Z",
            identity: stranger)
        var edited = keys.secretData()
        edited[AgentKeys.currentStatementDataKey] = Array(forged.text.utf8)
        let repaired = try AgentKeys(secretData: edited, secretName: "s", namespace: namespace)
        #expect(repaired.currentStatement.counter == 8)
        #expect(repaired.currentStatement.isSigned(by: keys.identity.publicKey))
    }

    @Test func aKeyMarkedCurrentWithoutTheIdentitysStatementIsRefused() throws {
        var keys = AgentKeys.create(at: "2026-01-01T00:00:00Z", namespace: namespace)
        let old = keys.publicKeyData()
        keys.rotate(at: "2026-01-02T00:00:00Z")
        let rotated = keys.publicKeyData()

        // No statement at all (what every ConfigMap held before statements existed).
        var unsigned = rotated
        unsigned[AgentKeys.currentStatementDataKey] = nil
        #expect(throws: PublishedKeysError.currentUnsigned(configMap: "beluga-secrets-public-key")) {
            try PublishedKeys(configMap: configMap(unsigned), namespace: namespace)
        }

        // The superseded key marked current again by hand, its entry relabelled, with the
        // present statement: refused.
        var relabelled = old
        relabelled[AgentKeys.keysDataKey] = rotated[AgentKeys.keysDataKey]?
            .replacingOccurrences(of: "\"current\"", with: "\"x\"")
            .replacingOccurrences(of: "\"previous\"", with: "\"current\"")
            .replacingOccurrences(of: "\"x\"", with: "\"previous\"")
        relabelled[AgentKeys.currentStatementDataKey] = rotated[AgentKeys.currentStatementDataKey]
        #expect(throws: PublishedKeysError.self) {
            try PublishedKeys(configMap: configMap(relabelled), namespace: namespace)
        }

        // A statement made for another namespace by the same identity.
        let elsewhere = CurrentKeyStatement.sign(
            namespace: "other", key: keys.keyring.current.publicKey, counter: 9, at: "2026-01-03T00:00:00Z",
            identity: keys.identity)
        var moved = rotated
        moved[AgentKeys.currentStatementDataKey] = elsewhere.text
        #expect(throws: PublishedKeysError.self) {
            try PublishedKeys(configMap: configMap(moved), namespace: namespace)
        }

        // A statement by another key.
        let stranger = CurrentKeyStatement.sign(
            namespace: namespace, key: keys.keyring.current.publicKey, counter: 9, at: "2026-01-03T00:00:00Z",
            identity: SigningKeyPair.generate())
        var foreign = rotated
        foreign[AgentKeys.currentStatementDataKey] = stranger.text
        #expect(throws: PublishedKeysError.self) {
            try PublishedKeys(configMap: configMap(foreign), namespace: namespace)
        }

        // The old ConfigMap put back whole is well signed: only its lower counter betrays it,
        // which the workstation compares with the highest it saw.
        let replayed = try PublishedKeys(configMap: configMap(old), namespace: namespace)
        #expect(replayed.currentStatement.counter == 1)
    }

    @Test(arguments: [
        #"{"counter":0}"#, #"{"counter":-1}"#, #"{"counter":9007199254740992}"#, #"{"counter":1.5}"#,
        #"{"counter":"2"}"#, #"{"counter":2,"extra":1}"#, #"{"signature":"!!"}"#,
        #"{"kid":"ABCDEF0123456789"}"#,
        #"{"signedAt":"yesterday"}"#, #"{"namespace":""}"#,
    ])
    func aStatementIsReadStrictly(_ change: String) throws {
        let keys = AgentKeys.create(at: "2026-01-01T00:00:00Z", namespace: namespace)
        var members = try #require(try JSON(parsing: keys.currentStatement.text).objectValue)
        for (name, value) in try #require(try JSON(parsing: change).objectValue) { members[name] = value }
        #expect(throws: CurrentKeyStatementError.self) {
            try CurrentKeyStatement(parsing: JSON.object(members).jsonText)
        }
    }

    @Test func theSignedTextIsTheDocumentedOne() throws {
        let keys = AgentKeys.create(at: "2026-01-01T00:00:00Z", namespace: namespace)
        let statement = keys.currentStatement
        let text = [
            "beluga-secrets/current-sealing-key/v1", namespace, "1", keys.keyring.currentKeyID.hex,
            keys.keyring.current.publicKey.base64, "2026-01-01T00:00:00Z",
        ].joined(separator: "\n")
        #expect(statement.signedText == text)
        #expect(keys.identity.publicKey.verify(signature: statement.signature, of: Array(text.utf8)))
        #expect(try CurrentKeyStatement(parsing: statement.text) == statement)
    }
}

import Foundation
import JSONValue
import KubeAPI
import Sealing
import Testing

@testable import SecretSync
import TestSupport

/// The audit head sits where others than the agent may write, so an agent that takes over
/// prints its lines again only when they are its own signed records ending at the head.
@Suite struct AuditHeadTrustTests {
    let identity = SigningKeyPair.generate()

    func head(
        _ count: Int, after chain: AuditChain = AuditChain(namespace: "prod"), signer: SigningKeyPair? = nil
    )
        -> (head: AuditHead, lines: [AuditLine])
    {
        let records = (1...count).map { index in
            AuditRecord(
                event: .secretRotated, namespace: "prod", secret: "s", key: "k\(index)", version: index)
        }
        let lines = chain.prepare(
            records, ts: "2026-01-01T00:00:00Z", agent: "agent-a", identity: signer ?? identity)
        let last = lines[lines.count - 1]
        return (AuditHead(seq: last.record.seq, hash: last.hash, lines: lines.map(\.text)), lines)
    }

    @Test func theAgentsOwnLinesEndingAtTheHeadPass() {
        let (genuine, _) = head(
            3, after: AuditChain(namespace: "prod", seq: 7, hash: String(repeating: "a", count: 64)))
        #expect(
            AuditVerifier.headLinesProblem(genuine, namespace: "prod", identity: identity.publicKey) == nil)
        #expect(
            AuditVerifier.headLinesProblem(
                AuditHead(seq: 9, hash: "x"), namespace: "prod", identity: identity.publicKey) == nil)
    }

    @Test func linesTheAgentCannotProveAreRefused() {
        func problem(_ head: AuditHead, namespace: String = "prod") -> String? {
            AuditVerifier.headLinesProblem(head, namespace: namespace, identity: identity.publicKey)
        }
        let (genuine, lines) = head(3)
        #expect(problem(genuine, namespace: "other")?.contains("another namespace") == true)

        let (forged, _) = head(2, signer: SigningKeyPair.generate())
        #expect(problem(forged)?.contains("line 1 is not signed by the agent's identity key") == true)

        var reordered = genuine
        reordered.lines.swapAt(0, 1)
        #expect(problem(reordered)?.contains("does not follow") == true)

        var dropped = genuine
        dropped.lines.remove(at: 1)
        #expect(problem(dropped)?.contains("line 2 does not follow line 1") == true)

        var otherEnd = genuine
        otherEnd.seq += 1
        #expect(problem(otherEnd)?.contains("not record 4") == true)
        otherEnd = genuine
        otherEnd.hash = lines[1].hash
        #expect(problem(otherEnd)?.contains("head's hash") == true)

        var edited = genuine
        edited.lines[2] = edited.lines[2].replacingOccurrences(of: "\"k3\"", with: "\"k9\"")
        #expect(problem(edited)?.contains("line 3 is not signed") == true)

        var garbage = genuine
        garbage.lines[0] = "not a record"
        #expect(problem(garbage)?.contains("line 1 is not an audit record") == true)
        garbage.lines[0] = lines[0].text + "\n" + lines[0].text
        #expect(problem(garbage)?.contains("line 1 is not an audit record") == true)

        let many = AuditHead(seq: 65, hash: genuine.hash, lines: Array(repeating: lines[0].text, count: 65))
        #expect(problem(many)?.contains("more than the 64") == true)
    }

    @Test func anAgentTakingOverPrintsOnlyTheHeadLinesItCanProve() async throws {
        try await withStarted(try await AgentHarness.start()) { harness in
            let first = harness.startAgent()
            let key = try await harness.publicKey()
            try await harness.store(
                key: "openai-api-key", envelope: harness.seal("v1", key: "openai-api-key", to: key))
            try await eventually("the value is applied") {
                try await harness.status().keys["openai-api-key"]?.state == .applied
            }
            await first.stop()
            let genuine = try #require(try await harness.status().auditHead)
            #expect(!genuine.lines.isEmpty)

            // Genuine lines are printed again by the next leader, as they were stored.
            let second = harness.startAgent(identity: "agent-b")
            try await eventually("the new leader prints the head's lines again") {
                await second.sink.lines.count >= genuine.lines.count
            }
            #expect(Array(await second.sink.lines.prefix(genuine.lines.count)) == genuine.lines)
            await second.stop()
            let resumed = try #require(try await harness.status().auditHead)

            // An administrator who may edit the agent's status object writes a head of lines that chain on from
            // the real head, claiming a signed change, signed with a key that is not the agent's.
            let forger = SigningKeyPair.generate()
            let forgedLines = AuditChain(namespace: harness.namespace, seq: resumed.seq, hash: resumed.hash)
                .prepare(
                    [
                        AuditRecord(
                            event: .secretRotated, namespace: harness.namespace, secret: "beluga-ai-secrets",
                            key: "openai-api-key", version: 9, signer: "alice",
                            signerKeyId: "0123456789abcdef")
                    ], ts: "2026-01-01T00:00:00Z", agent: "agent-a", identity: forger)
            let forged = AuditHead(
                seq: forgedLines[0].record.seq, hash: forgedLines[0].hash, lines: forgedLines.map(\.text))
            var status = try #require(try await harness.object("configmaps", harness.names.status))
            status[path: "data", "audit-head"] = .string(forged.json.jsonText)
            try await harness.fixture.emulator.put(status)

            let third = harness.startAgent(identity: "agent-c")
            try await eventually("the rejection is recorded") {
                await third.sink.records().contains { $0.event == .auditHeadRejected }
            }
            let printed = await third.sink.lines
            #expect(!printed.contains(forgedLines[0].text))
            let rejection = try #require(await third.sink.records().first { $0.event == .auditHeadRejected })
            #expect(rejection.seq == forged.seq + 1 && rejection.prev == forged.hash)
            #expect(rejection.reason.contains("line 1 is not signed by the agent's identity key"))
            let events = try await harness.events(reason: "AuditHeadRejected")
            #expect(events.first?["type"] == "Warning")
            await third.stop()
        }
    }
}

import Foundation
import JSONValue
import Sealing
import Testing
import TimeFormat

@testable import SecretSync

@Suite struct AuditChainTests {
    let identity = SigningKeyPair.generate()

    func lines(_ count: Int, agent: String = "agent-a", after chain: inout AuditChain) -> [AuditLine] {
        var out: [AuditLine] = []
        for index in 0..<count {
            let record = AuditRecord(
                event: .secretRotated, namespace: chain.namespace, secret: "beluga-ai-secrets",
                key: "k\(index)",
                version: index + 1, fingerprint: "fp1:\(index)", sealedBy: "alice@ws1")
            let prepared = chain.prepare(
                [record], ts: "2026-01-0\(index % 9 + 1)T00:00:00Z", agent: agent, identity: identity)
            chain.commit(prepared)
            out += prepared
        }
        return out
    }

    func verify(_ texts: [String], key: SigningPublicKey? = nil) -> AuditVerification {
        var log = AuditLog()
        log.read(texts.joined(separator: "\n"), source: "test.log")
        let publicKey = key ?? identity.publicKey
        return AuditVerifier.verify(log, identityKey: { _ in publicKey })
    }

    @Test func aWholeChainVerifies() {
        var chain = AuditChain(namespace: "prod")
        let written = lines(5, after: &chain)
        #expect(written.map(\.record.seq) == [1, 2, 3, 4, 5])
        #expect(written[0].record.prev == "")
        #expect(written[1].record.prev == Digest.sha256Hex(written[0].text))
        #expect(chain.seq == 5 && chain.hash == written[4].hash)
        // Every member is present, empty ones as "".
        let json = try? JSON(parsing: written[0].text)
        #expect(json?.objectValue?.count == 17)
        #expect(json?["signer"] == "")
        // Operational log lines in between and a record printed twice do not matter.
        let verification = verify(
            ["2026-01-01T00:00:00Z info starting"] + written.map(\.text) + [written[4].text])
        #expect(verification.isComplete, "\(verification.findings)")
        #expect(verification.checked["prod"] == 5)
    }

    @Test func aRemovedLineIsTampering() {
        var chain = AuditChain(namespace: "prod")
        var texts = lines(5, after: &chain).map(\.text)
        texts.remove(at: 2)
        let verification = verify(texts)
        #expect(!verification.isIntact)
        #expect(verification.findings.count == 1)
        #expect(verification.findings.first?.message.contains("record 3 is missing") == true)
    }

    @Test func anEditedLineIsTampering() {
        var chain = AuditChain(namespace: "prod")
        var texts = lines(4, after: &chain).map(\.text)
        texts[1] = texts[1].replacingOccurrences(of: "alice@ws1", with: "mallory@ws9")
        let verification = verify(texts)
        #expect(!verification.isIntact)
        #expect(verification.findings.contains { $0.seq == 2 && $0.message.contains("signature") })
        #expect(verification.findings.contains { $0.seq == 3 && $0.message.contains("does not follow") })
    }

    @Test func aReformattedLineIsAnEdit() {
        var chain = AuditChain(namespace: "prod")
        var texts = lines(2, after: &chain).map(\.text)
        texts[0] = texts[0].replacingOccurrences(of: ",\"", with: ", \"")
        #expect(!verify(texts).isIntact)
    }

    @Test func aForgedChainFailsTheSignatureCheck() {
        var chain = AuditChain(namespace: "prod")
        let texts = lines(3, after: &chain).map(\.text)
        let verification = verify(texts, key: SigningKeyPair.generate().publicKey)
        #expect(!verification.isIntact)
        #expect(verification.findings.filter { $0.message.contains("signature") }.count == 3)
    }

    @Test func aGapAcrossAgentsIsReportedAsAGap() {
        var chain = AuditChain(namespace: "prod")
        let first = lines(3, agent: "agent-a", after: &chain)
        let lost = lines(2, agent: "agent-b", after: &chain)
        let last = lines(2, agent: "agent-c", after: &chain)
        // agent-c took over from agent-b: it printed agent-b's last record again.
        let texts = first.map(\.text) + [lost[1].text] + last.map(\.text)
        let verification = verify(texts)
        #expect(verification.isIntact)
        #expect(!verification.isComplete)
        #expect(verification.findings.map(\.severity) == [.gap])
        #expect(verification.findings.first?.message.contains("record 4 is missing") == true)
    }

    @Test func twoRecordsWithOneNumberAreTampering() {
        var chain = AuditChain(namespace: "prod")
        let texts = lines(2, after: &chain).map(\.text)
        var fork = AuditChain(namespace: "prod", seq: 1, hash: Digest.sha256Hex(texts[0]))
        let forged = lines(1, after: &fork)
        #expect(!verify(texts + forged.map(\.text)).isIntact)
    }

    @Test func theHeadCatchesARemovedTail() {
        var chain = AuditChain(namespace: "prod")
        let written = lines(4, after: &chain)
        var log = AuditLog()
        log.read(written.prefix(3).map(\.text).joined(separator: "\n"), source: "pod/a")
        let verification = AuditVerifier.verify(
            log, identityKey: { _ in identity.publicKey },
            heads: ["prod": AuditVerifier.Head(seq: 4, hash: written[3].hash)])
        #expect(verification.findings.map(\.severity) == [.partial])
        #expect(verification.isIntact && !verification.isWhole)
        #expect(verification.headsChecked == ["prod"])
        var edited = AuditLog()
        edited.read(written.map(\.text).joined(separator: "\n"), source: "pod/a")
        let wrongHead = AuditVerifier.verify(
            edited, identityKey: { _ in identity.publicKey },
            heads: ["prod": AuditVerifier.Head(seq: 4, hash: written[2].hash)])
        #expect(!wrongHead.isIntact)
    }

    @Test func aChainCutAtItsStartIsAPartialWindow() {
        var chain = AuditChain(namespace: "prod")
        let texts = lines(5, after: &chain).map(\.text)
        let verification = verify(Array(texts.dropFirst(2)))
        #expect(verification.isIntact)
        #expect(!verification.isWhole && !verification.isComplete)
        #expect(verification.findings.map(\.severity) == [.partial])
        #expect(verification.findings.first?.message.contains("records 1–2 are not in the logs read") == true)
        #expect(verification.ranges["prod"] == 3...5)
        // Without a head, the end is not claimed as checked.
        #expect(verification.headsChecked.isEmpty)
    }

    @Test func aHeadWithNoRecordReadIsAPartialWindow() {
        let verification = AuditVerifier.verify(
            AuditLog(), identityKey: { _ in identity.publicKey },
            heads: ["prod": AuditVerifier.Head(seq: 3, hash: String(repeating: "a", count: 64))])
        #expect(verification.findings.map(\.severity) == [.partial])
    }

    @Test func damagedRecordLinesAreTampering() {
        var chain = AuditChain(namespace: "prod")
        var texts = lines(2, after: &chain).map(\.text)
        texts[1] = String(texts[1].dropLast())
        #expect(!verify(texts).isIntact)
    }

    @Test func timelineGroupsPerKeyAndFilters() {
        var chain = AuditChain(namespace: "prod")
        let written = lines(3, after: &chain)
        let rollout = chain.prepare(
            [AuditRecord(event: .rolloutTriggered, namespace: "prod", secret: "beluga-ai", reason: "k0, k1")],
            ts: "2026-01-05T00:00:00Z", agent: "agent-a", identity: identity)
        var log = AuditLog()
        log.read((written + rollout).map(\.text).joined(separator: "\n"), source: "f")
        let table = AuditTimeline(log).table()
        #expect(table.contains("key k0 (secret prod/beluga-ai-secrets)"))
        #expect(table.contains("namespace prod: rollouts"))
        #expect(table.contains("rollout.triggered"))
        let onlyK1 = AuditTimeline(log, filter: .init(key: "k1"))
        #expect(onlyK1.records.map(\.key) == ["k1"])
        let since = AuditTimeline(log, filter: .init(since: RFC3339.parse("2026-01-03T00:00:00Z")))
        #expect(since.records.map(\.seq) == [3, 4])
    }
}

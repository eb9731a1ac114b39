import JSONValue
import KubeAPI
import Sealing

/// A record made ready for the log: numbered, linked to the one before and signed.
public struct AuditLine: Sendable, Equatable {
    public let record: AuditRecord
    /// The line as printed (no newline).
    public let text: String
    /// Lower-hex SHA-256 of `text`: the next record's `prev`.
    public let hash: String
}

/// The writing end of a namespace's audit chain.
///
/// The chain moves in two steps so that the agent can follow docs/formats.md's order: `prepare`
/// makes the lines, the agent persists the new head with its sync status, and only then does it
/// `commit` and print them. A failed persist leaves the chain where it was.
public struct AuditChain: Sendable {
    public let namespace: String
    /// The last record's number (0 for an empty chain).
    public private(set) var seq: Int
    /// The last record's line hash (empty for an empty chain).
    public private(set) var hash: String

    public init(namespace: String, seq: Int = 0, hash: String = "") {
        self.namespace = namespace
        self.seq = seq
        self.hash = hash
    }

    /// Numbers, links and signs `records` in order, after the chain's current end.
    public func prepare(
        _ records: [AuditRecord], ts: String, agent: String, identity: SigningKeyPair
    ) -> [AuditLine] {
        var lines: [AuditLine] = []
        var seq = self.seq
        var prev = hash
        for var record in records {
            seq += 1
            record.seq = seq
            record.ts = record.ts.isEmpty ? ts : record.ts
            record.namespace = namespace
            record.agent = agent
            record.prev = prev
            record.sig = Base64.encode(identity.sign(record.signedBytes))
            let text = record.line
            let line = AuditLine(record: record, text: text, hash: Digest.sha256Hex(text))
            lines.append(line)
            prev = line.hash
        }
        return lines
    }

    /// Moves the chain's end past `lines` (once they are persisted in the head).
    public mutating func commit(_ lines: [AuditLine]) {
        guard let last = lines.last else { return }
        seq = last.record.seq
        hash = last.hash
    }
}

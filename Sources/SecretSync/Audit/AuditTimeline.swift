import Foundation
import JSONValue

/// The rotation timeline that `beluga-secrets audit` prints: records grouped per key, oldest
/// first, with the whole-namespace events (rollouts, sealing keys) in a group of their own.
public struct AuditTimeline: Sendable {
    /// Which records to show.
    public struct Filter: Sendable {
        /// Only records at or after this time.
        public var since: Date?
        /// Only records of this key.
        public var key: String?
        /// Only records of this namespace.
        public var namespace: String?

        public init(since: Date? = nil, key: String? = nil, namespace: String? = nil) {
            self.since = since
            self.key = key
            self.namespace = namespace
        }

        func admits(_ record: AuditRecord) -> Bool {
            if let key, record.key != key { return false }
            if let namespace, record.namespace != namespace { return false }
            if let since {
                guard let time = Timestamp.parse(record.ts), time >= since else { return false }
            }
            return true
        }
    }

    public let records: [AuditRecord]

    /// The records of `log` that `filter` admits, each once, in chain order.
    public init(_ log: AuditLog, filter: Filter = Filter()) {
        records = log.records.filter(filter.admits)
    }

    /// A table per key, as an operator reads it.
    public func table() -> String {
        guard !records.isEmpty else { return "No audit records found.\n" }
        struct Group: Hashable {
            var namespace: String
            var secret: String
            var key: String
        }
        var groups: [Group: [AuditRecord]] = [:]
        for record in records {
            let isKeyEvent = !record.key.isEmpty
            let group = Group(
                namespace: record.namespace, secret: isKeyEvent ? record.secret : "", key: record.key)
            groups[group, default: []].append(record)
        }
        let order = groups.keys.sorted { lhs, rhs in
            if lhs.namespace != rhs.namespace { return lhs.namespace < rhs.namespace }
            if lhs.key.isEmpty != rhs.key.isEmpty { return !lhs.key.isEmpty }
            if lhs.secret != rhs.secret { return lhs.secret < rhs.secret }
            return lhs.key < rhs.key
        }
        var output = ""
        for (index, group) in order.enumerated() {
            if index > 0 { output += "\n" }
            if group.key.isEmpty {
                output += "namespace \(group.namespace): rollouts, configuration and sealing keys\n"
            } else {
                output += "key \(group.key) (secret \(group.namespace)/\(group.secret))\n"
            }
            var rows = [["TIME", "SEQ", "EVENT", "VERSION", "FINGERPRINT", "BY", "SIGNED", "DETAIL"]]
            for record in groups[group] ?? [] {
                rows.append([
                    record.ts, String(record.seq), record.event.rawValue,
                    record.key.isEmpty && record.version == 0 ? "-" : "v\(record.version)",
                    record.fingerprint.isEmpty ? "-" : record.fingerprint,
                    Self.author(record), ChangeSignature(record)?.marker ?? "-", Self.detail(record),
                ])
            }
            output += Self.align(rows, indent: "  ")
        }
        let flagged = changes.filter { $0.signature.isFlagged }
        if !flagged.isEmpty {
            let count = flagged.count
            output +=
                "\n\(count) change\(count == 1 ? " was" : "s were") applied without an allowed signer's proof "
                + "(SIGNED: UNSIGNED, UNVERIFIED or REPLAYED).\n"
        }
        return output
    }

    /// A change of a key and whether an allowed signer proved it.
    public struct Change: Sendable {
        public var record: AuditRecord
        public var signature: ChangeSignature
    }

    /// Every change of a key's value among the records, with its signature state.
    public var changes: [Change] {
        records.compactMap { record in ChangeSignature(record).map { Change(record: record, signature: $0) } }
    }

    /// `{"records":[…]}`, each record exactly as the agent logged it, plus the verification
    /// outcome when there is one.
    public func json(verification: AuditVerification? = nil) -> JSON {
        var document: JSON = [
            "records": .array(records.map { $0.json() }),
            // Who changed what, and which changes no allowed signer proved: derived from the
            // records above, which stay exactly as logged.
            "changes": .array(
                changes.map { change in
                    [
                        "namespace": .string(change.record.namespace), "seq": .int(change.record.seq),
                        "ts": .string(change.record.ts), "secret": .string(change.record.secret),
                        "key": .string(change.record.key), "version": .int(change.record.version),
                        "event": .string(change.record.event.rawValue),
                        "signer": .string(change.record.signer),
                        "signerKeyId": .string(change.record.signerKeyId),
                        "sealedBy": .string(change.record.sealedBy),
                        "signature": .string(change.signature.rawValue),
                        "flagged": .bool(change.signature.isFlagged),
                    ]
                }),
        ]
        if let verification {
            document["verification"] = [
                "intact": .bool(verification.isIntact),
                "complete": .bool(verification.isComplete),
                "checked": .object(verification.checked.mapValues { .int($0) }),
                "signaturesChecked": .array(verification.signaturesChecked.sorted().map { .string($0) }),
                "findings": .array(
                    verification.findings.map { finding in
                        [
                            "severity": .string(finding.severity.rawValue),
                            "namespace": .string(finding.namespace),
                            "seq": finding.seq.map { .int($0) } ?? .null, "message": .string(finding.message),
                        ]
                    }),
            ]
        }
        return document
    }

    static func author(_ record: AuditRecord) -> String {
        if !record.signer.isEmpty { return record.signer }
        if !record.sealedBy.isEmpty { return record.sealedBy }
        return record.agent.isEmpty ? "-" : "agent " + record.agent
    }

    static func detail(_ record: AuditRecord) -> String {
        var parts: [String] = []
        if record.key.isEmpty, !record.secret.isEmpty { parts.append(record.secret) }
        if !record.reason.isEmpty { parts.append(record.reason) }
        if !record.previousFingerprint.isEmpty { parts.append("was " + record.previousFingerprint) }
        return parts.isEmpty ? "" : parts.joined(separator: "; ")
    }

    /// Columns padded to their widest cell, kubectl style; the last column is not padded.
    static func align(_ rows: [[String]], indent: String) -> String {
        guard let columns = rows.map(\.count).max() else { return "" }
        var widths = [Int](repeating: 0, count: columns)
        for row in rows {
            for (index, cell) in row.enumerated() { widths[index] = max(widths[index], cell.count) }
        }
        var output = ""
        for row in rows {
            var line = indent
            for (index, cell) in row.enumerated() {
                if index == row.count - 1 {
                    line += cell
                } else {
                    line += cell + String(repeating: " ", count: widths[index] - cell.count + 3)
                }
            }
            while line.hasSuffix(" ") { line.removeLast() }
            output += line + "\n"
        }
        return output
    }
}

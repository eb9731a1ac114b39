import JSONValue
import Sealing
import TimeFormat

/// The rotation timeline that `beluga-secrets audit` prints: records grouped per key, oldest
/// first, with the whole-namespace events (rollouts, sealing keys) in a group of their own.
public struct AuditTimeline: Sendable {
    /// Which records to show.
    public struct Filter: Sendable {
        /// Only records at or after this time.
        public var since: UnixTime?
        /// Only records of this key.
        public var key: String?
        /// Only records of this namespace.
        public var namespace: String?

        public init(since: UnixTime? = nil, key: String? = nil, namespace: String? = nil) {
            self.since = since
            self.key = key
            self.namespace = namespace
        }

        func admits(_ record: AuditRecord) -> Bool {
            if let key, record.key != key { return false }
            if let namespace, record.namespace != namespace { return false }
            if let since {
                guard let time = RFC3339.parse(record.ts), time >= since else { return false }
            }
            return true
        }
    }

    public let records: [AuditRecord]
    /// Whether each record's own signature (the agent's `sig`) was checked, in `records` order.
    public let recordSignatures: [RecordSignature]

    /// The records of `log` that `filter` admits, each once, in chain order, each record's
    /// signature checked against `identityKey` of its namespace (the agent's identity, or nil
    /// when unknown: then no change shows as signed).
    public init(
        _ log: AuditLog, filter: Filter = Filter(), identityKey: (String) -> SigningPublicKey? = { _ in nil }
    ) {
        let entries = log.uniqueEntries.filter { filter.admits($0.record) }
        records = entries.map(\.record)
        recordSignatures = entries.map { entry in
            guard let key = identityKey(entry.record.namespace) else { return .unchecked }
            return AuditVerifier.signatureIsValid(entry, publicKey: key) ? .valid : .invalid
        }
    }

    /// The SIGNED column of a record.
    static func marker(_ record: AuditRecord, _ signature: RecordSignature) -> String {
        if signature == .invalid { return ChangeSignature.forged.marker }
        return ChangeSignature(record, recordSignature: signature)?.marker ?? "-"
    }

    /// A table per key, as an operator reads it.
    public func table() -> String {
        guard !records.isEmpty else { return "No audit records found.\n" }
        struct Group: Hashable {
            var namespace: String
            var secret: String
            var key: String
        }
        var groups: [Group: [(record: AuditRecord, signature: RecordSignature)]] = [:]
        for (record, signature) in zip(records, recordSignatures) {
            let isKeyEvent = !record.key.isEmpty
            let group = Group(
                namespace: record.namespace, secret: isKeyEvent ? record.secret : "", key: record.key)
            groups[group, default: []].append((record, signature))
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
            for (record, signature) in groups[group] ?? [] {
                rows.append([
                    record.ts, String(record.seq), record.event.rawValue,
                    record.key.isEmpty && record.version == 0 ? "-" : "v\(record.version)",
                    record.fingerprint.isEmpty ? "-" : record.fingerprint,
                    Self.author(record), Self.marker(record, signature), Self.detail(record),
                ])
            }
            output += Self.align(rows, indent: "  ")
        }
        let unproven = changes.filter { [.unsigned, .unverified, .replayed].contains($0.signature) }.count
        if unproven > 0 {
            output +=
                "\n\(unproven) change\(unproven == 1 ? " was" : "s were") applied without an allowed signer's proof "
                + "(SIGNED: UNSIGNED, UNVERIFIED or REPLAYED).\n"
        }
        let forged = recordSignatures.filter { $0 == .invalid }.count
        if forged > 0 {
            output +=
                "\n\(forged) record\(forged == 1 ? " does" : "s do") not carry the agent's signature (SIGNED: FORGED): "
                + "the agent did not write \(forged == 1 ? "it" : "them"); run audit --verify.\n"
        }
        let unchecked = changes.filter { $0.signature == .unchecked }.count
        if unchecked > 0 {
            output +=
                "\n\(unchecked) change\(unchecked == 1 ? " names" : "s name") an allowed signer, but the agent's signature "
                + "of \(unchecked == 1 ? "its record" : "their records") was not checked (SIGNED: UNCHECKED): pass "
                + "--identity-key, or read --from-cluster.\n"
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
        zip(records, recordSignatures).compactMap { record, signature in
            ChangeSignature(record, recordSignature: signature).map { Change(record: record, signature: $0) }
        }
    }

    /// `{"records":[…]}`, each record exactly as the agent logged it, plus the verification
    /// outcome when there is one.
    public func json(verification: AuditVerification? = nil) -> JSON {
        var document: JSON = [
            "records": .array(records.map { $0.json() }),
            // Whether the agent's signature of each record verified, in the same order.
            "recordSignatures": .array(recordSignatures.map { .string($0.rawValue) }),
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
                "headsChecked": .array(verification.headsChecked.sorted().map { .string($0) }),
                "whole": .bool(verification.isWhole),
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

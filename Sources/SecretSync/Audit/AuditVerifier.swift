import JSONValue
import KubeAPI
import Sealing

/// Something `audit --verify` found wrong with a chain.
public struct AuditFinding: Sendable, Equatable, CustomStringConvertible {
    public enum Severity: String, Sendable {
        /// A line was edited, removed or forged: the trail cannot be trusted.
        case tampering
        /// Records are missing where the logs of another agent replica may simply be gone
        /// (a deleted pod); reported, not hidden, but not proof of tampering.
        case gap
        /// The chain read is a window of the trail: it does not start at record 1, or stops
        /// before the audit head. Cutting records off at either end leaves no hole to see, so
        /// only an explicit acceptance of a partial window lets it pass.
        case partial
    }

    public var severity: Severity
    public var namespace: String
    /// The record concerned, when there is one.
    public var seq: Int?
    public var message: String

    public var description: String {
        let label: String
        switch severity {
        case .tampering: label = "TAMPERED"
        case .gap: label = "GAP"
        case .partial: label = "PARTIAL"
        }
        return "\(label): namespace \(namespace): \(message)"
    }
}

/// The outcome of checking audit chains.
public struct AuditVerification: Sendable, Equatable {
    public var findings: [AuditFinding]
    /// Records checked, per namespace.
    public var checked: [String: Int]
    /// Namespaces whose signatures were checked against an identity key.
    public var signaturesChecked: Set<String>
    /// Namespaces whose chain's end was compared with an audit head.
    public var headsChecked: Set<String>
    /// Per namespace, the first and last record numbers read.
    public var ranges: [String: ClosedRange<Int>]

    /// No edited, removed or forged line was found.
    public var isIntact: Bool { !findings.contains { $0.severity == .tampering } }
    /// The chains read start at record 1 and reach the audit heads known.
    public var isWhole: Bool { !findings.contains { $0.severity == .partial } }
    /// Neither tampering, nor gaps, nor a partial window.
    public var isComplete: Bool { findings.isEmpty }
}

/// Checks audit chains (docs/formats.md, "Audit record"): every `sig` against the namespace's
/// identity key, every `prev` against the line before, that numbers have no gap, that the chain
/// starts at record 1, and that it reaches the audit head when one is known.
///
/// A gap is classed as tampering when the records on both sides were written by the same
/// agent: an agent prints its records in order, and one that takes over prints the last records
/// of the chain again, so no crash leaves a hole inside one agent's output. When the writer
/// changes across the gap, the records of the agent in between may have been lost with its pod.
public enum AuditVerifier {
    /// Where the chain of a namespace stood according to the cluster (its audit head).
    public struct Head: Sendable, Equatable {
        public var seq: Int
        public var hash: String
        public init(seq: Int, hash: String) {
            self.seq = seq
            self.hash = hash
        }
    }

    /// Verifies every namespace's chain in `log`.
    ///
    /// - Parameters:
    ///   - identityKey: the identity public key of a namespace's agent (`identity.pub`), or `nil`
    ///     when unknown (signatures are then not checked for it).
    ///   - heads: the audit heads read from the cluster, to find removed records at the end.
    public static func verify(
        _ log: AuditLog, identityKey: (String) -> SigningPublicKey?, heads: [String: Head] = [:]
    ) -> AuditVerification {
        var findings: [AuditFinding] = []
        var checked: [String: Int] = [:]
        var signaturesChecked: Set<String> = []
        var ranges: [String: ClosedRange<Int>] = [:]

        for damage in log.damaged {
            findings.append(
                AuditFinding(
                    severity: .tampering, namespace: "?", seq: nil,
                    message:
                        "\(damage.source) line \(damage.lineNumber) is an audit record that was damaged: \(damage.problem)"
                ))
        }

        var byNamespace: [String: [Int: [AuditLogEntry]]] = [:]
        for entry in log.entries {
            byNamespace[entry.record.namespace, default: [:]][entry.record.seq, default: []].append(entry)
        }

        for namespace in byNamespace.keys.sorted() {
            let bySeq = byNamespace[namespace] ?? [:]
            let key = identityKey(namespace)
            if key != nil { signaturesChecked.insert(namespace) }
            var chain: [AuditLogEntry] = []
            for seq in bySeq.keys.sorted() {
                let copies = bySeq[seq] ?? []
                var distinct: [AuditLogEntry] = []
                for copy in copies where !distinct.contains(where: { $0.text == copy.text }) {
                    distinct.append(copy)
                }
                if distinct.count > 1 {
                    findings.append(
                        AuditFinding(
                            severity: .tampering, namespace: namespace, seq: seq,
                            message: "\(distinct.count) different records claim number \(seq) ("
                                + distinct.map { "\($0.source) line \($0.lineNumber)" }.joined(
                                    separator: ", ") + ")"))
                }
                guard let entry = distinct.first else { continue }
                if seq < 1 {
                    findings.append(
                        AuditFinding(
                            severity: .tampering, namespace: namespace, seq: seq,
                            message: "record number \(seq) is not a valid position (numbers start at 1)"))
                }
                if let key {
                    for copy in distinct where !signatureIsValid(copy, publicKey: key) {
                        findings.append(
                            AuditFinding(
                                severity: .tampering, namespace: namespace, seq: seq,
                                message:
                                    "record \(seq) (\(copy.source) line \(copy.lineNumber)) was altered: "
                                    + "its signature does not match the agent's identity key"))
                    }
                }
                chain.append(entry)
            }
            checked[namespace] = chain.count
            if let first = chain.first, let last = chain.last, first.record.seq <= last.record.seq {
                ranges[namespace] = first.record.seq...last.record.seq
            }

            if let first = chain.first, first.record.seq > 1 {
                let missing = first.record.seq == 2 ? "record 1 is" : "records 1–\(first.record.seq - 1) are"
                findings.append(
                    AuditFinding(
                        severity: .partial, namespace: namespace, seq: 1,
                        message: "\(missing) not in the logs read: the chain read starts at record "
                            + "\(first.record.seq), so its beginning cannot be checked"))
            }
            if let first = chain.first, first.record.seq == 1, !first.record.prev.isEmpty {
                findings.append(
                    AuditFinding(
                        severity: .tampering, namespace: namespace, seq: 1,
                        message: "record 1 links to a record before it; the start of the chain was altered"))
            }
            for (before, after) in zip(chain, chain.dropFirst()) {
                let a = before.record.seq
                let b = after.record.seq
                if b == a + 1 {
                    let expected = Digest.sha256Hex(before.text)
                    if after.record.prev != expected {
                        findings.append(
                            AuditFinding(
                                severity: .tampering, namespace: namespace, seq: b,
                                message: "record \(b) does not follow record \(a): record \(a) was edited "
                                    + "(or record \(b)'s link was)"))
                    }
                    continue
                }
                let missing = a + 1 == b - 1 ? "record \(a + 1) is" : "records \(a + 1)–\(b - 1) are"
                if before.record.agent == after.record.agent {
                    findings.append(
                        AuditFinding(
                            severity: .tampering, namespace: namespace, seq: a + 1,
                            message: "\(missing) missing between two records of the same agent "
                                + "\"\(before.record.agent)\", which never skips one: removed from the log"))
                } else {
                    findings.append(
                        AuditFinding(
                            severity: .gap, namespace: namespace, seq: a + 1,
                            message:
                                "\(missing) missing; the chain passed from agent \"\(before.record.agent)\" "
                                + "to \"\(after.record.agent)\" in between; add the logs of the agents that ran then"
                        ))
                }
            }

            if let head = heads[namespace], let last = chain.last {
                if let atHead = chain.first(where: { $0.record.seq == head.seq }) {
                    if Digest.sha256Hex(atHead.text) != head.hash {
                        findings.append(
                            AuditFinding(
                                severity: .tampering, namespace: namespace, seq: head.seq,
                                message:
                                    "record \(head.seq) differs from the one the audit head names"
                            ))
                    }
                } else if head.seq > last.record.seq {
                    let missing =
                        head.seq == last.record.seq + 1
                        ? "record \(head.seq) is" : "records \(last.record.seq + 1)–\(head.seq) are"
                    findings.append(
                        AuditFinding(
                            severity: .partial, namespace: namespace, seq: last.record.seq + 1,
                            message:
                                "\(missing) not in the logs read, yet the audit head says the chain "
                                + "reached \(head.seq)"))
                }
            }
        }
        for (namespace, head) in heads.sorted(by: { $0.key < $1.key })
        where byNamespace[namespace] == nil && head.seq > 0 {
            findings.append(
                AuditFinding(
                    severity: .partial, namespace: namespace, seq: nil,
                    message:
                        "no record in the logs read, yet the audit head says the chain reached \(head.seq)"
                ))
        }
        let headsChecked = Set(heads.keys)
        return AuditVerification(
            findings: findings, checked: checked, signaturesChecked: signaturesChecked,
            headsChecked: headsChecked, ranges: ranges)
    }

    /// Checks `sig` over the line as read, with `sig` taken out and members in canonical order.
    static func signatureIsValid(_ entry: AuditLogEntry, publicKey: SigningPublicKey) -> Bool {
        guard let sigText = entry.json["sig"]?.stringValue,
            let signature = SigningPublicKey.signature(base64: sigText)
        else {
            return false
        }
        var unsigned = entry.json
        unsigned["sig"] = nil
        // The canonical form must also be the form that was printed; a line re-formatted by
        // hand (spaces, member order) is an edit even when its values are unchanged.
        var canonical = unsigned
        canonical["sig"] = .string(sigText)
        guard canonical.jsonText == entry.text else { return false }
        return publicKey.verify(signature: signature, of: unsigned.serialized())
    }
}

extension AuditVerifier {
    /// The most lines one write of the audit head holds (records are stored in batches of 64).
    static let maximumHeadLines = 64
    /// No record the agent writes comes near this; a longer line is not one of its records.
    static let maximumHeadLineLength = 65_536

    /// Why the lines of `head` cannot be printed again as the agent's own records of
    /// `namespace`, or nil when they can: each is a record of `namespace` as the agent prints
    /// it, signed with `identity`, each links (`prev`, `seq`) to the one before, and the last is
    /// the head's record (its `seq` and line hash). The head sits where others than the agent
    /// may write, so its lines are printed only when the agent can prove it wrote them.
    public static func headLinesProblem(
        _ head: AuditHead, namespace: String, identity: SigningPublicKey
    ) -> String? {
        guard !head.lines.isEmpty else { return nil }
        guard head.lines.count <= maximumHeadLines else {
            return "it holds \(head.lines.count) lines, more than the \(maximumHeadLines) one write stores"
        }
        var previous: AuditLogEntry?
        for (index, line) in head.lines.enumerated() {
            let number = index + 1
            guard line.utf8.count <= maximumHeadLineLength else { return "line \(number) is too long" }
            var read = AuditLog()
            read.read(line, source: "audit-head")
            guard read.damaged.isEmpty, read.entries.count == 1, let entry = read.entries.first,
                entry.text == line
            else { return "line \(number) is not an audit record" }
            guard entry.record.namespace == namespace else {
                return "line \(number) is a record of another namespace"
            }
            guard signatureIsValid(entry, publicKey: identity) else {
                return "line \(number) is not signed by the agent's identity key"
            }
            if let previous {
                let (next, overflow) = previous.record.seq.addingReportingOverflow(1)
                guard !overflow, entry.record.seq == next,
                    entry.record.prev == Digest.sha256Hex(previous.text)
                else { return "line \(number) does not follow line \(number - 1) in the chain" }
            }
            previous = entry
        }
        guard let last = previous, last.record.seq == head.seq, Digest.sha256Hex(last.text) == head.hash
        else {
            return "its last line is not record \(head.seq) with the head's hash"
        }
        return nil
    }
}

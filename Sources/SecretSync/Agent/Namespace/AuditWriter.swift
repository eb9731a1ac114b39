import JSONValue
import KubeAPI
import Sealing
import TimeFormat

/// Extends one namespace's audit chain, and writes the agent's status with it: the one writer
/// of the status object `<secret>-status` (per-key sync status and audit head, see
/// `AgentStatus`), which it replaces as a whole, conditioned on the `resourceVersion` it wrote
/// last. A line is printed only once the head that holds it is stored.
///
/// While the agent leads, the status in memory is the truth: the object is its copy for
/// readers and for the next leader. Someone else's edit of the object (only an administrator can
/// make one) is reported as bad input and written over; a head moved ahead by a valid write
/// means another agent extends the chain, and this one steps back.
actor AuditWriter {
    private let context: NamespaceContext
    private var chain: AuditChain?
    private var identity: SigningKeyPair?
    /// The status as the agent last wrote or read it.
    private(set) var status = AgentStatus()
    /// The status object as last written or read; `nil` when there is none yet.
    private var statusObject: ConfigMap?
    /// Bad input reported so far, by source, so that each problem is reported once.
    private var reported: [String: Set<FieldProblem>] = [:]

    init(context: NamespaceContext) {
        self.context = context
    }

    private var names: ObjectNames { context.names }

    // MARK: - Taking over

    /// Takes the chain up where the last leader left it: reads the status object (or moves the
    /// status out of the sealed store's annotations, where agents before it kept it), prints the
    /// head's lines first (the previous leader may have stopped between storing and printing
    /// them), and signs records with `identity` from here on. What is out of bounds in the
    /// status is left out and reported: an audit head that cannot be read starts the chain again.
    @discardableResult
    func resume(identity: SigningKeyPair) async throws(SyncError) -> String? {
        let context = self.context
        let object = try await context.reads.status()
        var problems: [FieldProblem] = []
        var moved = false
        if let object {
            status = AgentStatus(configMap: object.json)
            problems = status.problems
            status.problems = []
            statusObject = object
        } else if let store = try await context.reads.sealedStore(),
            LegacyStatusAnnotations.present(in: store.json)
        {
            status = LegacyStatusAnnotations.status(in: store.json)
            problems = status.problems
            status.problems = []
            moved = true
        }
        let head = status.auditHead
        // The lines are printed again only when they verify as this agent's records ending at
        // the head; otherwise none is, and the problem goes back to the caller to report.
        var headProblem: String?
        if let head, !head.lines.isEmpty {
            headProblem = AuditVerifier.headLinesProblem(
                head, namespace: context.namespace, identity: identity.publicKey)
            if headProblem == nil { await context.sink.emit(head.lines) }
        }
        chain = AuditChain(namespace: context.namespace, seq: head?.seq ?? 0, hash: head?.hash ?? "")
        self.identity = identity
        if moved {
            // Stored before the annotations go, so that a crash in between loses nothing: the
            // next agent finds the status object and only removes them.
            try await store(status)
            context.logger.info(
                "moved the agent's status out of the sealed store's annotations",
                metadata: [
                    "configmap": "\(names.status)", "keys": "\(status.keys.count)",
                    "audit_seq": "\(head?.seq ?? 0)",
                ])
        }
        try await removeLegacyAnnotations()
        let involved = context.involved(statusObject?.json, kind: "ConfigMap", name: names.status)
        try await reportInput(
            problems, source: "status", about: involved,
            keeping: status.auditHead == nil
                && problems.contains { $0.field.contains(AgentStatus.Key.auditHead) }
                ? "the audit chain starts again at 1" : "the agent goes on with what it can prove")
        return headProblem
    }

    /// Removes the two annotations agents before the status object wrote on the sealed store:
    /// the store is replaced with the `resourceVersion` read (read again after a conflict), as the
    /// agent writes it when it re-seals, so its Role needs no `patch` on it.
    private func removeLegacyAnnotations() async throws(SyncError) {
        let context = self.context
        let names = self.names
        try await context.retryOnConflict(kind: "ConfigMap", name: names.sealedStore) {
            () async throws(SyncError) in
            guard var store = try await context.reads.sealedStore(),
                LegacyStatusAnnotations.present(in: store.json)
            else { return }
            for annotation in LegacyStatusAnnotations.all { store.metadata.annotations[annotation] = nil }
            _ = try await context.api { () async throws(KubeError) in
                try await context.ownWrite(ConfigMap.self, name: names.sealedStore) {
                    () async throws(KubeError) in
                    try await context.client.replace(store, namespace: context.namespace)
                }
            }
            context.logger.info(
                "removed the status annotations from the sealed store; the agent's status is in its own ConfigMap",
                metadata: ["sealed_store": "\(names.sealedStore)", "status": "\(names.status)"])
        }
    }

    // MARK: - Recording

    /// Numbers, links and signs `records`, stores the new audit head with the status as `edit`
    /// changes it, and only then prints the lines: a record is never printed that the chain
    /// does not hold.
    ///
    /// Many records go out in bounded batches, each stored with its head before it is printed.
    /// A key's new status is stored with the batch that holds its record, the rest of `edit`
    /// with the last batch: when a later batch cannot be stored, the keys whose records were not
    /// printed keep their old status, so the next reconcile records them (as applied earlier)
    /// instead of finding nothing to record.
    func record(_ records: [AuditRecord], updating edit: (@Sendable (inout AgentStatus) -> Void)? = nil)
        async throws(SyncError)
    {
        guard let identity, var chain else { return }
        // Bounded batches keep the head small.
        var batches = stride(from: 0, to: records.count, by: AuditHead.maximumLines).map {
            Array(records[$0..<min($0 + AuditHead.maximumLines, records.count)])
        }
        if batches.isEmpty { batches = [[]] }
        var full = status
        edit?(&full)
        for (index, batch) in batches.enumerated() {
            let lines = chain.prepare(
                batch, ts: RFC3339.format(.now()), agent: context.settings.identity, identity: identity)
            var next = status
            if index == batches.count - 1 {
                next = full
            } else {
                for key in Set(batch.map(\.key)) where !key.isEmpty {
                    next.keys[key] = full.keys[key]
                    // A key reported overdue (`key.overdue`) is marked with its record, too.
                    next.keyAge[key] = full.keyAge[key]
                }
            }
            next.auditHead = AuditHead(
                seq: lines.last?.record.seq ?? chain.seq, hash: lines.last?.hash ?? chain.hash,
                lines: lines.map(\.text))
            if next != status || statusObject == nil { try await store(next) }
            chain.commit(lines)
            self.chain = chain
            await context.sink.emit(lines.map(\.text))
        }
        if !pendingRecords.isEmpty {
            let pending = pendingRecords
            pendingRecords = []
            try await record(pending)
        }
    }

    /// Writes `next` as the status object: replaced with the version last written (created when
    /// there is none). After a conflict the object is read again: a head another agent moved
    /// ahead stops this one (`chainMoved`); anything else is someone else's edit, reported and
    /// written over with the status in memory.
    private func store(_ next: AgentStatus) async throws(SyncError) {
        let context = self.context
        let names = self.names
        try await context.retryOnConflict(kind: "ConfigMap", name: names.status) {
            () async throws(SyncError) in
            do throws(KubeError) {
                let object = ConfigMap(
                    json: next.writing(
                        into: statusObject?.json, name: names.status, namespace: context.namespace))
                if statusObject != nil {
                    do throws(KubeError) {
                        statusObject = try await context.client.replace(object, namespace: context.namespace)
                        status = next
                        return
                    } catch  where error.category == .notFound {
                        statusObject = nil
                    }
                }
                let created = ConfigMap(
                    json: next.writing(into: nil, name: names.status, namespace: context.namespace))
                statusObject = try await context.client.create(created, namespace: context.namespace)
                status = next
            } catch  where error.isConflict {
                try await refreshAfterConflict()
                throw .api(error)
            } catch {
                throw .api(error)
            }
        }
    }

    /// Reads the status object after a write met a newer version of it (see `store`).
    private func refreshAfterConflict() async throws(SyncError) {
        guard let object = try await context.reads.status() else {
            statusObject = nil
            return
        }
        let stored = AgentStatus(configMap: object.json)
        if let chain, stored.problems.isEmpty, let head = stored.auditHead,
            head.seq > chain.seq || (head.seq == chain.seq && head.hash != chain.hash)
        {
            throw .chainMoved(seq: head.seq)
        }
        statusObject = object
        guard !stored.sameContent(as: status) || !stored.problems.isEmpty else { return }
        var problems = stored.problems
        if problems.isEmpty {
            problems.append(
                FieldProblem(
                    object: AgentStatus.describe(object.json), field: "data",
                    problem: "was changed by someone other than the agent"))
        }
        try await reportInput(
            problems, source: "status",
            about: context.involved(object.json, kind: "ConfigMap", name: names.status),
            keeping: "the agent writes the status it holds back", recordingNow: false)
    }

    // MARK: - Bad input

    /// Reports each problem of `source` not reported yet: a log line, a Warning Event
    /// `InputRejected` on `object`, the metric `beluga_secrets_input_rejected_total`, and an audit
    /// record `input.rejected` whose reason says what the agent kept (`keeping`). A problem that
    /// went away and comes back is reported again.
    func reportInput(
        _ problems: [FieldProblem], source: String, about object: InvolvedObject, keeping: String,
        recordingNow: Bool = true
    ) async throws(SyncError) {
        let known = reported[source] ?? []
        let fresh = problems.filter { !known.contains($0) }
        reported[source] = Set(problems)
        guard !fresh.isEmpty else { return }
        var records: [AuditRecord] = []
        for problem in fresh.sorted(by: { $0.description < $1.description }) {
            let message = "\(problem); \(keeping)"
            context.logger.warning("refused input: \(message)")
            AgentMetrics.inputRejected(namespace: context.namespace, object: source)
            await context.events.record(
                about: object, warning: true, reason: "InputRejected", message: message)
            records.append(
                AuditRecord(
                    event: .inputRejected, namespace: context.namespace, secret: object.name, reason: message)
            )
        }
        if recordingNow {
            try await record(records)
        } else {
            pendingRecords += records
        }
    }

    /// Records of bad input found while a write was under way, recorded with the next write.
    private var pendingRecords: [AuditRecord] = []
}

import JSONValue
import KubeAPI
import Sealing
import TimeFormat

/// Extends one namespace's audit chain, and writes the agent's status with it: the one place
/// that writes the per-key sync status and the audit head (today annotations of the sealed
/// store, written in one merge patch conditioned on its `resourceVersion`), and that resumes
/// the chain from the head. A line is printed only once the head that holds it is stored.
actor AuditWriter {
    private let context: NamespaceContext
    private var chain: AuditChain?
    private var identity: SigningKeyPair?

    init(context: NamespaceContext) {
        self.context = context
    }

    /// Takes the chain up where the last leader left it (the head in `store`), printing the
    /// head's lines first: the previous leader may have stopped between storing and printing
    /// them. The lines are printed only when they verify as this agent's records ending at the
    /// head (`AuditVerifier.headLinesProblem`); otherwise none is, and the problem is returned
    /// for the caller to report. Records are signed with `identity` from here on.
    func resume(from store: SealedStore, identity: SigningKeyPair) async -> String? {
        let head = store.auditHead
        var problem: String?
        if let head, !head.lines.isEmpty {
            problem = AuditVerifier.headLinesProblem(
                head, namespace: context.namespace, identity: identity.publicKey)
            if problem == nil { await context.sink.emit(head.lines) }
        }
        chain = AuditChain(namespace: context.namespace, seq: head?.seq ?? 0, hash: head?.hash ?? "")
        self.identity = identity
        return problem
    }

    /// Numbers, links and signs `records`, stores the new audit head (with `status`, when
    /// given) in the sealed store `object` (read again after a conflict), and only then prints
    /// the lines: a record is never printed that the chain does not hold.
    func record(
        _ records: [AuditRecord], status: [String: SyncStatus]? = nil, store object: ConfigMap? = nil
    ) async throws(SyncError) {
        guard let identity, var chain else { return }
        let context = self.context
        let names = context.names
        // Bounded batches keep the head annotation small.
        var batches = stride(from: 0, to: records.count, by: 64).map {
            Array(records[$0..<min($0 + 64, records.count)])
        }
        if batches.isEmpty { batches = [[]] }
        var current = object
        var status = status
        for batch in batches {
            try await context.retryOnConflict(kind: "ConfigMap", name: names.sealedStore) {
                () async throws(SyncError) in
                let storeObject: ConfigMap
                if let current {
                    storeObject = current
                } else {
                    guard let fetched = try await context.reads.sealedStore() else {
                        throw .storeMissing(names.sealedStore)
                    }
                    storeObject = fetched
                }
                current = nil
                var store = context.readStore(storeObject.json)
                if let head = store.auditHead,
                    head.seq > chain.seq || (head.seq == chain.seq && head.hash != chain.hash)
                {
                    throw .chainMoved(seq: head.seq)
                }
                let lines = chain.prepare(
                    batch, ts: RFC3339.format(.now()), agent: context.settings.identity, identity: identity)
                if let status { store.status = status }
                store.auditHead = AuditHead(
                    seq: lines.last?.record.seq ?? chain.seq, hash: lines.last?.hash ?? chain.hash,
                    lines: lines.map(\.text))
                var patch = store.statusPatch()
                patch[path: "metadata", "resourceVersion"] = storeObject.resourceVersion.map { .string($0) }
                do throws(KubeError) {
                    _ = try await context.ownWrite(ConfigMap.self, name: names.sealedStore) {
                        () async throws(KubeError) in
                        try await context.client.patch(
                            ConfigMap.self, name: names.sealedStore, namespace: context.namespace,
                            patch: .merge(patch))
                    }
                } catch {
                    throw .api(error)
                }
                chain.commit(lines)
                self.chain = chain
                await context.sink.emit(lines.map(\.text))
            }
            status = nil
        }
    }
}

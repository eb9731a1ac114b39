// Fuzzes the agent's decisions on the objects others can write: the sealed store, the allowed
// signers, the public-key ConfigMap, the agent's status object and the live Secret (data and
// annotations), fed into the same parse -> plan path one reconcile runs (`ReconcileInputs`,
// `SignerPolicy`, `SecretPlan`, `KeyAgePlan`, the audit head and chain, `PublishedKeys` as the
// CLI reads it).
//
// An input is up to five documents separated by a line `---` (a newline, `---`, a newline),
// in this order: sealed store, signers, public keys, status, Secret. A document that is empty
// or not a JSON object stands for an object that does not exist. The agent's keys are fixed
// (made once from the seeds below), so that envelopes in the seed corpus
// (Fuzz/Corpus/agent-plan, made by Fuzz/agent-plan-seeds.py) open and reach the signature
// checks; nothing here reads a clock or the network.

import FuzzSupport
import JSONValue
import KubeAPI
import Sealing
import TimeFormat

@testable import SecretSync

/// Test keys only: their seeds are in this file and in Fuzz/agent-plan-seeds.py.
let identitySeed = (1...32).map { UInt8($0) }
let sealingPrivateKey = (33...64).map { UInt8($0) }

let namespace = "default"
let names = ObjectNames()
let now = "2026-12-06T00:00:00Z"
/// Half a year after the seeds were made, so that keys with a maximum age are overdue.
let fixedNow = RFC3339.parse("2027-06-01T00:00:00Z") ?? UnixTime(seconds: 0)
let fixedKeys: (identity: SigningKeyPair, keyring: SealingKeyring) = {
    guard let identity = try? SigningKeyPair(seed: SecureBytes(identitySeed)),
        let sealing = try? SealingKeyPair(privateKey: SecureBytes(sealingPrivateKey))
    else { invariantFailed("the fixed test keys load") }
    return (identity, SealingKeyring(current: sealing))
}()

/// The input's documents, by position; `nil` where the object does not exist.
func documents(_ input: [UInt8]) -> [JSON?] {
    var parts: [[UInt8]] = []
    var current: [UInt8] = []
    var index = 0
    let separator = Array("\n---\n".utf8)
    while index < input.count {
        if parts.count < 4, input[index] == separator[0], input.count - index >= separator.count,
            Array(input[index..<index + separator.count]) == separator
        {
            parts.append(current)
            current = []
            index += separator.count
            continue
        }
        current.append(input[index])
        index += 1
    }
    parts.append(current)
    return (0..<5).map { position in
        guard position < parts.count, let json = try? JSON(parsing: parts[position]), json.objectValue != nil
        else { return nil }
        return json
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
func fuzzAgentPlan(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    // The agent reads each object by name, and the API server answers with the object of that
    // name and namespace: everything else in it is the input's.
    let objects = zip(
        documents(Array(fuzzInput(data, size))),
        [names.sealedStore, names.signers, names.publicKeyConfigMap, names.status, names.secret]
    ).map { json, name in
        json.map { json -> JSON in
            var json = json
            var metadata = json["metadata"]?.objectValue ?? [:]
            metadata["name"] = .string(name)
            metadata["namespace"] = .string(namespace)
            json["metadata"] = .object(metadata)
            return json
        }
    }
    let storeJSON = objects[0]
    let signersObject = objects[1].map { ConfigMap(json: $0) }
    let publicKeysObject = objects[2].map { ConfigMap(json: $0) }
    let statusJSON = objects[3]
    let live = objects[4].map { Secret(json: $0) }
    let identity = fixedKeys.identity

    // The agent's status, as `AuditWriter.resume` reads it: the status object, else the
    // annotations agents before it kept in the sealed store.
    var status = AgentStatus()
    if let statusJSON {
        status = AgentStatus(configMap: statusJSON)
    } else if let storeJSON, LegacyStatusAnnotations.present(in: storeJSON) {
        status = LegacyStatusAnnotations.status(in: storeJSON)
    }
    checkReported(status.problems.map(\.description))
    status.problems = []
    // What the agent writes back reads back the same, with nothing left out.
    let written = AgentStatus(configMap: status.writing(into: nil, name: names.status, namespace: namespace))
    require(written.problems.isEmpty, "the status the agent writes reads back without problems")
    require(written.sameContent(as: status), "the status the agent writes reads back the same")

    // The audit head: its lines are printed again only when they verify.
    let head = status.auditHead
    if let head {
        _ = AuditVerifier.headLinesProblem(head, namespace: namespace, identity: identity.publicKey)
    }
    let chain = AuditChain(namespace: namespace, seq: head?.seq ?? 0, hash: head?.hash ?? "")

    // The allowed signers, as `SecretReconciler.readSigners` decides on them, under each
    // `--signatures`; another release's ConfigMap is refused like an unreadable one (the agent
    // goes on without signers only under `optional`).
    let otherRelease =
        signersObject.map {
            AgentObjectsResolver.otherRelease($0.metadata, than: names.release) != nil
        } ?? false
    let signersJSON = otherRelease ? nil : signersObject?.json
    let signers = ReconcileInputs.signers(signersJSON)
    checkReported(signers.problems.map { "\($0)" })
    for configured in [SignaturePolicy.optional, .required] {
        if otherRelease,
            SignerPolicy.fallback(recorded: status.signatures, configured: configured) == .required
        {
            continue
        }
        let policy = SignerPolicy.decide(
            signers: signers, configMapExists: signersJSON != nil, recorded: status.signatures,
            configured: configured, names: names, at: now)
        let annotated = signers.policy != nil || signers.invalidPolicy != nil
        if !annotated, status.signatures?.policy == .required || configured == .required {
            require(policy.policy == .required, "without the annotation, a required policy does not weaken")
        }
        plan(policy, status: status, storeJSON: storeJSON, live: live, chain: chain, identity: identity)
    }

    // The public-key ConfigMap: what the agent checks before it rewrites it, and what the CLI
    // reads before it seals to it.
    if let publicKeysObject {
        _ = AgentObjectsResolver.otherRelease(publicKeysObject.metadata, than: names.release)
        _ = AgentObjectsResolver.belongs(publicKeysObject.metadata, to: names.release)
        _ = publicKeysObject.metadata.annotations[SealingKeyRotation.requestAnnotation]
        _ = publicKeysObject.data
        if let published = try? PublishedKeys(configMap: publicKeysObject.json, namespace: namespace) {
            require(published.currentStatement.isSigned(by: published.identity), "the current key is signed")
            require(published.keys.allSatisfy { $0.isSigned(by: published.identity) }, "every key is signed")
            require(
                published.current.keyID.hex == published.currentStatement.kid,
                "the statement names the current key")
        }
    }
    return 0
}

/// One reconcile's plan under `policy`, with invariants, and the audit lines it would write.
func plan(
    _ policy: SignerPolicy, status: AgentStatus, storeJSON: JSON?, live: Secret?, chain: AuditChain,
    identity: SigningKeyPair
) {
    // With no sealed store the agent leaves the Secret as it is.
    guard let storeJSON else { return }
    let store = ReconcileInputs.store(storeJSON)
    checkReported(store.problems.compactMap { $0.fieldProblem?.description })
    checkReported(store.maxAgeProblems.map(\.description))
    // The keys' maximum ages, as `SecretReconciler.checkKeyAges` decides on them.
    let ages = KeyAgePlan(store: store, previous: status.keyAge, now: fixedNow)
    let plan = ReconcileInputs.plan(
        namespace: namespace, names: names, store: store, live: live, status: status, signerPolicy: policy,
        keyring: fixedKeys.keyring, at: now)
    let liveData = live?.data ?? [:]
    let applied = AppliedVersion.parse(live?.metadata.annotations[AppliedVersion.annotation])
    let managed = Set(ReconcileInputs.managedKeys(of: live))
    var byKey: [String: SecretPlan.KeyOutcome] = [:]
    for outcome in plan.outcomes {
        require(byKey[outcome.key] == nil, "one outcome per key")
        byKey[outcome.key] = outcome
        require(
            store.envelopes[outcome.key] != nil || managed.contains(outcome.key),
            "an outcome is about a known key")
    }
    if let desired = plan.desiredData {
        for key in Set(desired.keys).union(liveData.keys) where desired[key] != liveData[key] {
            guard let outcome = byKey[key] else { invariantFailed("key \(key) changes without an outcome") }
            switch outcome.action {
            case .create, .rotate, .revertHandEdit:
                require(desired[key] != nil, "a written key is in the Secret")
                // The value the Secret's applied versions name stays without proof (a removed
                // signer's values stay until replaced); any other needs a signer.
                if policy.policy == .required, applied[key]?.fingerprint != outcome.fingerprint {
                    require(
                        !outcome.signer.isEmpty,
                        "under required, only a signed value is written (\(key): \(outcome.action), \(outcome.reason))"
                    )
                }
            case .delete:
                require(desired[key] == nil, "a deleted key leaves the Secret")
                require(store.versions[key]?.isTombstone == true, "only a tombstone deletes")
                if policy.policy == .required {
                    require(
                        !outcome.signer.isEmpty,
                        "under required, only a signed deletion deletes (\(key): \(outcome.reason))")
                }
            default:
                invariantFailed("key \(key) changes with outcome \(outcome.action)")
            }
        }
    }
    // A refused or orphaned key keeps its value.
    for outcome in plan.outcomes where [.reject, .stillRejected, .orphan].contains(outcome.action) {
        require(
            (plan.desiredData ?? liveData)[outcome.key] == liveData[outcome.key],
            "a refused key keeps its value")
    }
    // The values never reach the audit trail or an Event.
    let overdue = ages.overdue.map {
        AuditRecord(
            event: .keyOverdue, namespace: namespace, secret: names.secret, key: $0.key, version: $0.version,
            sealedBy: $0.sealedBy, sealedAt: $0.sealedAt, reason: "older than its maximum age \($0.maxAge)")
    }
    let lines = chain.prepare(plan.auditRecords + overdue, ts: now, agent: "fuzz", identity: identity)
    let texts = lines.map(\.text) + plan.events.map(\.message)
    for (key, value) in plan.desiredData ?? [:] where value.count >= 12 && value != liveData[key] {
        let text = String(decoding: value, as: UTF8.self)
        require(!texts.contains { $0.contains(text) }, "the value of \(key) appears in a record or an Event")
    }
    // The status the agent would store with these lines reads back the same.
    var next = status
    next.keys = plan.status
    next.orphaned = plan.orphaned
    next.signatures = policy.record
    next.keyAge = ages.records
    next.auditHead = AuditHead(
        seq: lines.last?.record.seq ?? chain.seq, hash: lines.last?.hash ?? chain.hash,
        lines: lines.map(\.text))
    let stored = AgentStatus(configMap: next.writing(into: nil, name: names.status, namespace: namespace))
    require(
        stored.problems.isEmpty,
        "the status after a reconcile reads back without problems: \(stored.problems)")
    require(stored.sameContent(as: next), "the status after a reconcile reads back the same")
    // The Secret's annotations the agent writes read back as written.
    require(
        AppliedVersion.parse(AppliedVersion.text(plan.appliedVersions)) == plan.appliedVersions,
        "the applied versions read back as written")
}

/// What the agent reports about bad input goes into logs, Events and the audit trail: bounded
/// text without control characters only (docs/threat-model.md), whatever the input holds.
func checkReported(_ problems: [String]) {
    for problem in problems {
        require(
            problem.utf8.count <= 1024, "a reported problem is at most 1 KiB: \(problem.utf8.count) bytes")
        require(
            problem.unicodeScalars.allSatisfy { $0.value >= 0x20 && !(0x7f...0x9f).contains($0.value) },
            "a reported problem holds no control character")
    }
}

runLibFuzzer(fuzzAgentPlan)

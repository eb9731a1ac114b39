import JSONValue
import SecretSync
import Testing

@Suite struct SealedStoreTests {
    func configMap(data: [String: String] = [:], annotations: [String: String] = [:]) -> JSON {
        var object: JSON = [
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": ["name": "beluga-ai-secrets-sealed", "namespace": "prod", "resourceVersion": "7"],
            "data": .object(data.mapValues { .string($0) }),
        ]
        if !annotations.isEmpty {
            object[path: "metadata", "annotations"] = .object(annotations.mapValues { .string($0) })
        }
        return object
    }

    @Test func setKeepsPreviousVersionsNewestFirstUpToTheLimit() throws {
        var store = SealedStore()
        for version in 1...5 {
            let assigned = store.set(
                key: "openai-api-key", envelope: "bs1.k.\(version)", fingerprint: "fp1:\(version)",
                sealedBy: "alice", sealedAt: "t\(version)")
            #expect(assigned == version)
        }
        let record = try #require(store.versions["openai-api-key"])
        #expect(record.version == 5)
        #expect(record.history.map(\.version) == [4, 3, 2])
        #expect(record.history.map(\.envelope) == ["bs1.k.4", "bs1.k.3", "bs1.k.2"])
        #expect(store.envelopes["openai-api-key"] == "bs1.k.5")
    }

    @Test func roundTripsThroughTheConfigMapAndKeepsOtherFields() throws {
        var store = try SealedStore(configMap: configMap(annotations: ["team": "ml"]))
        store.set(key: "a", envelope: "bs1.x.a", fingerprint: "fp1:a", sealedBy: "alice", sealedAt: "t1")
        var original = configMap(annotations: ["team": "ml"])
        original[path: "metadata", "labels", "app"] = "x"
        let written = store.writingEnvelopesAndVersions(into: original)
        #expect(written[path: "metadata", "annotations", "team"] == "ml")
        #expect(written[path: "metadata", "labels", "app"] == "x")
        #expect(written[path: "metadata", "resourceVersion"] == "7")
        let reread = try SealedStore(configMap: written)
        #expect(reread.envelopes == store.envelopes)
        #expect(reread.versions == store.versions)
    }

    @Test func envelopeWithoutRecordIsVersionZeroAndTheNextSetIsOne() throws {
        var store = try SealedStore(configMap: configMap(data: ["k": "bs1.helm.k"]))
        #expect(store.version(of: "k") == 0)
        #expect(
            store.set(key: "k", envelope: "bs1.cli.k", fingerprint: "", sealedBy: "a", sealedAt: "t") == 1)
        #expect(store.versions["k"]?.history.first?.envelope == "bs1.helm.k")
    }

    @Test func rollbackRestoresAnOldEnvelopeAsANewVersion() throws {
        var store = SealedStore()
        store.set(key: "k", envelope: "e1", fingerprint: "f1", sealedBy: "a", sealedAt: "t1")
        store.set(key: "k", envelope: "e2", fingerprint: "f2", sealedBy: "b", sealedAt: "t2")
        store.set(key: "k", envelope: "e3", fingerprint: "f3", sealedBy: "c", sealedAt: "t3")
        #expect(try store.rollback(key: "k", by: "ops", at: "t4") == 4)
        #expect(store.envelopes["k"] == "e2")
        #expect(store.versions["k"]?.rollbackOf == 2)
        #expect(try store.rollback(key: "k", to: 1, by: "ops", at: "t5") == 5)
        #expect(store.envelopes["k"] == "e1")
        #expect(throws: SealedStoreError.self) { try store.rollback(key: "k", to: 9, by: "ops", at: "t") }
        #expect(throws: SealedStoreError.keyNotFound(key: "other")) {
            try store.rollback(key: "other", by: "ops", at: "t")
        }
    }

    @Test func deleteRemovesTheEnvelopeAndRecordsATombstone() throws {
        var store = SealedStore()
        store.set(key: "k", envelope: "e1", fingerprint: "f1", sealedBy: "a", sealedAt: "t1")
        let version = try store.delete(key: "k", by: "bob@ws", at: "2026-03-01T00:00:00Z")
        #expect(version == 2)
        #expect(store.envelopes["k"] == nil)
        let tombstone = try #require(store.versions["k"])
        #expect(tombstone.isTombstone && tombstone.version == 2 && tombstone.deletedBy == "bob@ws")
        #expect(tombstone.history.isEmpty, "a deleted value is gone")
        #expect(throws: SealedStoreError.keyNotFound(key: "other")) {
            try store.delete(key: "other", by: "bob@ws", at: "2026-03-01T00:00:00Z")
        }
        // A key only the agent still holds (orphaned) can be deleted.
        #expect(try store.delete(key: "other", by: "bob@ws", at: "2026-03-01T00:00:00Z", known: true) == 1)
    }

    @Test func historyIsTrimmedToTheAnnotationBudget() {
        var store = SealedStore()
        let big = String(repeating: "A", count: 80 * 1024)
        for version in 1...4 {
            store.set(key: "k", envelope: big + "\(version)", fingerprint: "", sealedBy: "a", sealedAt: "t")
        }
        let history = store.versions["k"]?.history ?? []
        #expect(history.count == 2)
        #expect(history.first?.version == 3)
        let annotation = store.writingEnvelopesAndVersions(into: configMap())[
            path: "metadata", "annotations", SealedStore.versionsAnnotation]
        #expect((annotation?.stringValue?.utf8.count ?? .max) <= SealedStore.annotationBudget)
    }

    @Test func malformedAnnotationIsRefusedStrictlyAndReportedLeniently() throws {
        let broken = configMap(
            data: ["k": "bs1.a.b"], annotations: [SealedStore.versionsAnnotation: "{not json"])
        #expect(throws: SealedStoreError.self) { try SealedStore(configMap: broken) }
        let lenient = try SealedStore(configMap: broken, lenient: true)
        #expect(lenient.envelopes == ["k": "bs1.a.b"])
        #expect(lenient.problems.count == 1)
        #expect(lenient.problems.first?.description.contains("sealed-versions") == true)
    }

    /// A data key the API server would refuse (found by the agent-plan fuzz target: the agent
    /// recorded a status entry under it that its own status reader then refused).
    @Test func aDataKeyThatIsNotASecretKeyNameIsRefusedStrictlyAndLeftOutLeniently() throws {
        let broken = configMap(data: ["k": "bs1.a.b", "kubectl.kubernetes.io/last-applied": "bs1.c.d"])
        #expect(throws: SealedStoreError.self) { try SealedStore(configMap: broken) }
        let lenient = try SealedStore(configMap: broken, lenient: true)
        #expect(lenient.envelopes == ["k": "bs1.a.b"])
        #expect(lenient.problems.count == 1)
        #expect(
            lenient.problems.first?.fieldProblem?.description
                == "ConfigMap prod/beluga-ai-secrets-sealed: data has an entry whose name is not a Secret key name "
                + "(\"kubectl.kubernetes.io/last-applied\")")
    }

    /// A damaged annotation's error says what removing it costs.
    @Test func aMalformedVersionsAnnotationNamesItsConsequence() throws {
        let annotation = SealedStore.versionsAnnotation
        let broken = configMap(data: ["k": "bs1.a.b"], annotations: [annotation: "[1"])
        #expect {
            try SealedStore(configMap: broken)
        } throws: { error in
            let text = "\(error)"
            return text.contains(annotation) && text.contains("versions restart at the next set")
                && !text.contains("\n")
        }
    }

    @Test func stateComparesWritersVersionWithAgentStatus() {
        var store = SealedStore()
        var status = AgentStatus()
        store.set(key: "k", envelope: "e1", fingerprint: "f1", sealedBy: "a", sealedAt: "t1")
        #expect(KeyReport.state(of: "k", store: store, status: nil) == .pending)
        status.keys["k"] = SyncStatus(state: .applied, version: 1, fingerprint: "f1", at: "t")
        #expect(KeyReport.state(of: "k", store: store, status: status) == .applied)
        store.set(key: "k", envelope: "e2", fingerprint: "f2", sealedBy: "a", sealedAt: "t2")
        #expect(KeyReport.state(of: "k", store: store, status: status) == .pending)
        status.keys["k"] = SyncStatus(state: .rejected, version: 2, at: "t", reason: "bad")
        #expect(KeyReport.state(of: "k", store: store, status: status) == .rejected)
    }

    @Test func writersNumberAboveTheSignedVersionTheAgentApplied() {
        var store = SealedStore()
        store.set(key: "k", envelope: "e1", fingerprint: "f1", sealedBy: "a", sealedAt: "t1")
        #expect(store.nextVersion(of: "k") == 2)
        store.signedVersions["k"] = 7
        #expect(store.nextVersion(of: "k") == 8)
    }

    @Test func theAgentsOldAnnotationsAreKeptAsOtherAnnotationsByWriters() throws {
        let object = configMap(
            data: ["k": "bs1.a.b"],
            annotations: ["beluga-ai.io/sync-status": "{}", "beluga-ai.io/audit-head": #"{"seq":1}"#])
        var store = try SealedStore(configMap: object)
        store.set(key: "k", envelope: "e2", fingerprint: "f2", sealedBy: "a", sealedAt: "t2")
        let written = store.writingEnvelopesAndVersions(into: object)
        #expect(written[path: "metadata", "annotations", "beluga-ai.io/sync-status"] == "{}")
        #expect(written[path: "metadata", "annotations", "beluga-ai.io/audit-head"] == #"{"seq":1}"#)
    }
}

@Suite struct ObjectNamesTests {
    @Test func followTheChartsFullname() {
        let defaults = ObjectNames()
        #expect(defaults.secret == "beluga-ai-secrets")
        #expect(defaults.configMap == "beluga-ai-config")
        #expect(defaults.sealedStore == "beluga-ai-secrets-sealed")
        #expect(defaults.deployment == "beluga-ai")
        let prod = ObjectNames(release: "prod")
        #expect(prod.secret == "prod-beluga-ai-secrets")
        #expect(prod.deployment == "prod-beluga-ai")
        #expect(ObjectNames(release: "my-beluga-ai").deployment == "my-beluga-ai")
        #expect(ObjectNames(release: "x", secret: "keys").sealedStore == "keys-sealed")
        #expect(ObjectNames.fullname(release: String(repeating: "a", count: 60) + "-b").count <= 63)
    }
}

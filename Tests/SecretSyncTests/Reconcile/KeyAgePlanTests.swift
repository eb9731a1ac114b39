import JSONValue
import Testing
import TimeFormat

@testable import SecretSync

/// Maximum ages as the sealed store's annotation holds them (untrusted), and what they decide.
@Suite struct KeyAgePlanTests {
    let now = UnixTime(seconds: 1_800_000_000)

    func store(maxAges: String?, sealedAgo: [String: Int64]) throws -> SealedStore {
        var annotations: [String: JSON] = [:]
        var versions: [String: JSON] = [:]
        var data: [String: JSON] = [:]
        for (key, ago) in sealedAgo {
            data[key] = "bs1.0011223344556677.AAAA"
            versions[key] = [
                "version": 2, "fingerprint": .string("fp1:" + String(repeating: "0", count: 32)),
                "sealedBy": "ops@host", "sealedAt": .string(RFC3339.format(now - .seconds(ago))),
                "history": [],
            ]
        }
        annotations["beluga-ai.io/sealed-versions"] = .string(JSON.object(versions).jsonText)
        if let maxAges { annotations["beluga-ai.io/key-max-age"] = .string(maxAges) }
        return try SealedStore(
            configMap: [
                "metadata": [
                    "name": "beluga-ai-secrets-sealed", "namespace": "prod",
                    "annotations": .object(annotations),
                ],
                "data": .object(data),
            ], lenient: true)
    }

    @Test(arguments: [
        ("90d", 7_776_000), ("720h", 2_592_000), ("1d12h", 129_600), ("15s", 15), ("3650d", 315_360_000),
    ])
    func durationsReadAsTheChartAndTheCLIWriteThem(text: String, seconds: Int) {
        #expect(KeyMaxAge(text)?.seconds == seconds)
    }

    @Test(arguments: [
        "", "0", "0d", "90", "d", "-1d", "1.5d", "90 d", "1w", "3651d", "99999999999999999999d", "９0d",
    ])
    func anythingElseIsNotAMaximumAge(text: String) {
        #expect(KeyMaxAge(text) == nil)
    }

    @Test func aKeyPastItsAgeIsReportedOnceAndTheNextDeadlineIsTheEarliest() throws {
        let store = try store(
            maxAges: #"{"old":"1h","young":"1h","younger":"2h","unlimited-not-here":"1d"}"#,
            sealedAgo: ["old": 7200, "young": 600, "younger": 60, "free": 99_999_999])
        let plan = KeyAgePlan(store: store, previous: [:], now: now)
        #expect(plan.overdue.map(\.key) == ["old"])
        #expect(plan.overdue.first?.version == 2)
        #expect(plan.overdue.first?.ageSeconds == 7200)
        #expect(
            plan.records["old"]
                == KeyAgeRecord(maxAgeSeconds: 3600, overdueVersion: 2, overdueAt: RFC3339.format(now)))
        #expect(plan.records["free"] == nil)
        // "young" is due in 50 minutes, before "younger" (in 1 h 59 min).
        #expect(plan.nextDeadline == now + .seconds(3000))

        // Once reported, the same version is not reported again.
        let again = KeyAgePlan(store: store, previous: plan.records, now: now + .seconds(10))
        #expect(again.overdue.isEmpty)
        #expect(again.records == plan.records)
    }

    @Test func aBadEntryOrAnUnreadableAnnotationKeepsTheLastGoodMaximumAge() throws {
        let previous = [
            "old": KeyAgeRecord(maxAgeSeconds: 3600), "young": KeyAgeRecord(maxAgeSeconds: 86400),
        ]
        let bad = try store(
            maxAges: #"{"old":"forever","young":"2h","bad key!":"1d"}"#,
            sealedAgo: ["old": 7200, "young": 60])
        #expect(bad.maxAgeProblems.count == 2)
        #expect(bad.maxAgeProblems.allSatisfy { $0.field.hasPrefix("annotation beluga-ai.io/key-max-age") })
        let plan = KeyAgePlan(store: bad, previous: previous, now: now)
        #expect(plan.maxAges["old"]?.seconds == 3600)
        #expect(plan.maxAges["young"]?.seconds == 7200)
        #expect(plan.overdue.map(\.key) == ["old"])

        let unreadable = try store(maxAges: "not json", sealedAgo: ["old": 7200])
        #expect(unreadable.maxAgeProblems.count == 1)
        #expect(
            KeyAgePlan(store: unreadable, previous: previous, now: now).maxAges.mapValues(\.seconds) == [
                "old": 3600, "young": 86400,
            ])

        // Strict reading (a writer) refuses the annotation instead of dropping what it cannot read.
        #expect(throws: SealedStoreError.self) {
            _ = try SealedStore(configMap: [
                "metadata": ["name": "s", "annotations": ["beluga-ai.io/key-max-age": #"{"old":"forever"}"#]]
            ])
        }
    }

    @Test func aRotatedKeyIsDueAgainAndAClearedPolicyStopsTheReports() throws {
        let reported = [
            "old": KeyAgeRecord(maxAgeSeconds: 3600, overdueVersion: 1, overdueAt: "2026-01-01T00:00:00Z")
        ]
        // Version 2 is past its age too: reported, once.
        let rotated = KeyAgePlan(
            store: try store(maxAges: #"{"old":"1h"}"#, sealedAgo: ["old": 7200]), previous: reported,
            now: now)
        #expect(rotated.overdue.map(\.version) == [2])
        // Without a maximum age, nothing is due and nothing is kept but the report of the current version.
        let cleared = KeyAgePlan(
            store: try store(maxAges: nil, sealedAgo: ["old": 7200]), previous: rotated.records, now: now)
        #expect(cleared.overdue.isEmpty)
        #expect(cleared.nextDeadline == nil)
        #expect(cleared.records["old"]?.maxAgeSeconds == nil)
        #expect(cleared.records["old"]?.overdueVersion == 2)
    }

    @Test func theStatusPartReadsBackAndIsBounded() throws {
        var status = AgentStatus()
        status.keyAge["old"] = KeyAgeRecord(
            maxAgeSeconds: 3600, overdueVersion: 2, overdueAt: "2026-01-01T00:00:00Z")
        let read = AgentStatus(configMap: status.writing(into: nil, name: "s", namespace: "prod"))
        #expect(read.keyAge == status.keyAge)
        #expect(read.problems.isEmpty)
        let bad = AgentStatus(configMap: [
            "metadata": ["name": "s", "namespace": "prod"],
            "data": [
                "key-age":
                    #"{"old":{"maxAgeSeconds":-1,"overdueAt":""},"ok":{"maxAgeSeconds":60,"overdueAt":""}}"#
            ],
        ])
        #expect(bad.keyAge.keys.sorted() == ["ok"])
        #expect(bad.problems.count == 1)
    }
}

import TimeFormat

/// What the keys' maximum ages decide at one moment, as data: the maximum age in force per key,
/// the keys whose current version just became overdue (reported once per version), the status
/// part to keep, and when the next key becomes overdue (the agent wakes then, with no request
/// in between).
///
/// The maximum ages come from the sealed store's annotation (desired state anyone with write
/// access may edit): an entry the store could not read keeps the maximum age last accepted
/// (`previous`), and so does every key when the whole annotation is unreadable.
struct KeyAgePlan: Equatable {
    /// A key whose current version is older than its maximum age.
    struct Overdue: Equatable {
        var key: String
        var version: Int
        var ageSeconds: Int
        var maxAge: KeyMaxAge
        var sealedBy: String
        var sealedAt: String
    }

    /// The maximum age in force per key.
    var maxAges: [String: KeyMaxAge] = [:]
    /// Keys whose current version became overdue since the last report.
    var overdue: [Overdue] = []
    /// The status part `key-age` to keep.
    var records: [String: KeyAgeRecord] = [:]
    /// When the next key not yet overdue becomes so; nil when none will.
    var nextDeadline: UnixTime?

    init(store: SealedStore, previous: [String: KeyAgeRecord], now: UnixTime) {
        var maxAges = store.maxAges
        let keptFromPrevious: [String] =
            store.maxAgeUnreadable ? Array(previous.keys) : store.maxAgeDamaged.filter { previous[$0] != nil }
        for key in keptFromPrevious {
            if let seconds = previous[key]?.maxAgeSeconds, let kept = KeyMaxAge(seconds: seconds) {
                maxAges[key] = kept
            }
        }
        self.maxAges = maxAges
        let at = RFC3339.format(now)
        for key in Set(maxAges.keys).union(previous.keys).sorted() {
            var record = KeyAgeRecord(maxAgeSeconds: maxAges[key]?.seconds)
            let current = store.envelopes[key] != nil ? store.versions[key] : nil
            // The last report is kept while it is about the current version, so that a policy
            // removed and set again does not report that version twice.
            if let last = previous[key], let reported = last.overdueVersion, reported == current?.version {
                record.overdueVersion = reported
                record.overdueAt = last.overdueAt
            }
            defer { if record.maxAgeSeconds != nil || record.overdueVersion != nil { records[key] = record } }
            guard let maxAge = maxAges[key], let current, current.deletedAt == nil,
                let sealed = RFC3339.parse(current.sealedAt)
            else { continue }
            let deadline = sealed + maxAge.duration
            if !(now < deadline) {
                if record.overdueVersion != current.version {
                    overdue.append(
                        Overdue(
                            key: key, version: current.version,
                            ageSeconds: Int((now - sealed).inSeconds), maxAge: maxAge,
                            sealedBy: current.sealedBy, sealedAt: current.sealedAt))
                    record.overdueVersion = current.version
                    record.overdueAt = at
                }
                continue
            }
            if nextDeadline.map({ deadline < $0 }) ?? true { nextDeadline = deadline }
        }
    }
}

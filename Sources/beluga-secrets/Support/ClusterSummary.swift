import ArgumentParser
import JSONValue
import SecretSync

/// The one summary of a command run on several clusters: a row per context (its outcome, the
/// version and fingerprint it holds now, and a message: the error, or the last thing said), as
/// a table or as data; then the exit status, the most severe of all (`ExitStatus.severity`).
struct ClusterSummary {
    struct Row {
        var context: String
        /// `stored`, `applied`, `written`, `dry run`, … or `failed`.
        var outcome: String
        var version: Int?
        var fingerprint: String?
        var message: String
        var status: ExitStatus
    }

    /// The id every cluster's version record and audit record name (sealed changes).
    var change: ChangeID? = nil
    var rows: [Row] = []

    /// A row for a cluster that failed.
    mutating func failed(_ context: String, _ error: any Error) {
        rows.append(
            Row(
                context: context, outcome: "failed", version: nil, fingerprint: nil,
                message: ExitStatus.message(of: error), status: ExitStatus.of(error)))
    }

    var worst: ExitStatus { rows.map(\.status).max { $0.severity < $1.severity } ?? .ok }

    var json: JSON {
        var object: JSON = [
            "clusters": .array(
                rows.map { row in
                    var item: JSON = [
                        "context": .string(row.context), "outcome": .string(row.outcome),
                        "message": .string(row.message), "exitCode": .int(Int(row.status.rawValue)),
                    ]
                    if let version = row.version { item["version"] = .int(version) }
                    if let fingerprint = row.fingerprint { item["fingerprint"] = .string(fingerprint) }
                    return item
                }),
            "exitCode": .int(Int(worst.rawValue)),
        ]
        if let change { object["change"] = .string(change.text) }
        return object
    }

    /// Prints the summary and ends with the most severe exit status: a failure is said once more
    /// as the one `error:` line, naming the clusters that failed.
    func finish(_ output: OutputOptions) throws {
        if !output.printData(json) {
            var table = TableWriter("CONTEXT", "OUTCOME", "VERSION", "FINGERPRINT", "MESSAGE")
            for row in rows {
                table.add([
                    row.context, row.outcome, row.version.map(String.init) ?? "-", row.fingerprint ?? "-",
                    row.message,
                ])
            }
            print(table.text, terminator: "")
            if let change, rows.contains(where: { $0.status == .ok && $0.outcome != "dry run" }) {
                print("change \(change): every cluster's audit record of this change names it")
            }
        }
        let failed = rows.filter { $0.status != .ok }
        guard !failed.isEmpty else { return }
        throw CommandError(
            "\(failed.count) of \(rows.count) clusters failed ("
                + failed.map { "\($0.context): exit \($0.status.rawValue)" }.joined(separator: ", ")
                + "); the others are done, see the table", worst)
    }
}

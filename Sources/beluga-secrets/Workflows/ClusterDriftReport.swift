import JSONValue
import SecretSync

/// `list` on several clusters: each cluster's keys read at once, compared by fingerprint.
struct ClusterDriftReport {
    let release: ReleaseOptions
    let contexts: [String]

    func run(_ output: OutputOptions) async throws {
        let release = self.release
        let runs = await ClusterTargets.runner(contexts).run { context in
            let workspace = try release.with(context: context).connect()
            let inventory = try await KeyInventory.read(workspace)
            inventory.noteIfSecretDenied(workspace)
            return KeyDrift.Cluster(
                context: context, namespace: workspace.namespace, secret: workspace.names.secret,
                reports: inventory.reports)
        }
        let read = runs.compactMap(\.value)
        let drifts = KeyDrift.compare(read)
        var failed = ClusterSummary()
        for run in runs {
            guard let error = run.error else { continue }
            StandardError.write("\(run.context): error: \(ExitStatus.message(of: error))\n")
            failed.failed(run.context, error)
        }
        if !KeyDrift.comparable(read) {
            StandardError.writeLine(
                "note: the clusters use different namespaces or Secrets ("
                    + read.map { "\($0.context): \($0.namespace)/\($0.secret)" }.joined(separator: ", ")
                    + "); fingerprints are keyed by namespace, Secret and key, so values cannot be compared")
        }

        let data: JSON = [
            "clusters": .array(
                runs.map { run in
                    var object: JSON = ["context": .string(run.context)]
                    if let cluster = run.value {
                        object["namespace"] = .string(cluster.namespace)
                        object["secret"] = .string(cluster.secret)
                        object["exitCode"] = 0
                    } else if let error = run.error {
                        object["error"] = .string(ExitStatus.message(of: error))
                        object["exitCode"] = .int(Int(ExitStatus.of(error).rawValue))
                    }
                    return object
                }),
            "keys": .array(
                drifts.map { drift in
                    var holdings: [String: JSON] = [:]
                    for cluster in read {
                        guard let holding = drift.holdings[cluster.context] else {
                            holdings[cluster.context] = .null
                            continue
                        }
                        holdings[cluster.context] = [
                            "version": .int(holding.version), "fingerprint": .string(holding.fingerprint),
                            "state": .string(holding.state),
                        ]
                    }
                    return [
                        "key": .string(drift.key), "drift": .string(drift.verdict.rawValue),
                        "clusters": .object(holdings),
                    ]
                }),
        ]
        if !output.printData(data) {
            if drifts.isEmpty {
                StandardError.writeLine("No keys in the clusters read.")
            } else {
                var table = TableWriter(headers: ["KEY", "DRIFT"] + runs.map(\.context))
                for drift in drifts {
                    table.add(
                        [drift.key, drift.verdict.rawValue]
                            + runs.map { run in
                                guard run.value != nil else { return "error" }
                                guard let holding = drift.holdings[run.context] else { return "-" }
                                return
                                    "\(holding.version > 0 ? String(holding.version) : "-") \(holding.fingerprint)"
                            })
                }
                print(table.text, terminator: "")
            }
        }
        guard !failed.rows.isEmpty else { return }
        throw CommandError(
            "\(failed.rows.count) of \(runs.count) clusters could not be read ("
                + failed.rows.map { "\($0.context): exit \($0.status.rawValue)" }.joined(separator: ", ")
                + "); the others are compared above", failed.worst)
    }
}

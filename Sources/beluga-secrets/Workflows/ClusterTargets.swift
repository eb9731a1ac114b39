import ArgumentParser
import KubeAPI
import JSONValue
import SecretSync
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Which clusters a command works on: the contexts given with `--context` (several times) or
/// `--all-contexts`; `nil` for today's single-cluster run (no context or one).
enum ClusterTargets {
    /// The id of the multi-cluster change being made, shared by every cluster's run: each writes
    /// it into its version record, and each agent copies it into its audit record.
    @TaskLocal static var sharedChange: ChangeID?

    /// The contexts of a multi-cluster run, each once, in the order given; `nil` when the command
    /// runs on one cluster as it always has. `changes`: the command writes, so `--all-contexts`
    /// is confirmed on a terminal (and refused without one unless `--yes`). `always`: one
    /// context still makes a multi-cluster run (`-o json` of a change asks for its summary).
    static func contexts(
        _ cluster: ClusterOptions, _ options: MultiClusterOptions, command: String, changes: Bool,
        always: Bool = false
    ) throws -> [String]? {
        var seen = Set<String>()
        let named = cluster.contexts.filter { seen.insert($0).inserted }
        if options.allContexts {
            guard named.isEmpty else {
                throw CommandError("--all-contexts and --context cannot be combined: pass one of them")
            }
            let all = try cluster.allContexts()
            guard !all.isEmpty else {
                throw CommandError(
                    "--all-contexts: the kubeconfig has no contexts; add one or pass --context")
            }
            if changes, !options.yes { try confirm(command: command, contexts: all) }
            return all
        }
        guard named.count > 1 || always else { return nil }
        if named.count > 1 {
            // A typo in one name is found before any cluster is touched.
            let known = Set(try cluster.allContexts())
            if let unknown = named.first(where: { !known.contains($0) }) {
                throw CommandError(
                    "context \"\(unknown)\" is not in the kubeconfig: check the name (kubectl config get-contexts)"
                )
            }
        }
        return named.isEmpty ? [try cluster.currentContext()] : named
    }

    /// Asks on the terminal before a change on every context; refuses without a terminal.
    private static func confirm(command: String, contexts: [String]) throws {
        guard isatty(STDIN_FILENO) == 1, isatty(STDERR_FILENO) == 1 else {
            throw CommandError(
                "--all-contexts changes \(contexts.count) clusters and needs a confirmation, but standard input is "
                    + "not a terminal: pass --yes to confirm, or name the clusters with --context")
        }
        StandardError.write(
            "\(command) on all \(contexts.count) contexts of the kubeconfig (\(contexts.joined(separator: ", ")))? "
                + "[y/N] ")
        let answer = readLine(strippingNewline: true)?.lowercased() ?? ""
        guard answer == "y" || answer == "yes" else {
            throw CommandError("not confirmed: nothing was changed")
        }
    }

    /// The runner for `contexts`: each cluster's lines go to standard error, named by context,
    /// so that standard output carries only the summary.
    static func runner(_ contexts: [String]) -> MultiClusterRunner {
        MultiClusterRunner(contexts: contexts) { context, line in
            StandardError.write("\(context): \(line)\n")
        }
    }
}

extension ClusterTargets {
    /// Runs a change command's single-cluster workflow `body` on the clusters the options name:
    /// on one as always, or on several at once with one summary (`ClusterSummary`) and the most
    /// severe exit code. `body` gets the options for its cluster.
    static func change(
        _ release: ReleaseOptions, _ options: MultiClusterOptions, output: OutputOptions, command: String,
        dryRun: Bool, recordsChange: Bool = false,
        _ body: @escaping @Sendable (ReleaseOptions) async throws -> Void
    ) async throws {
        guard
            let contexts = try contexts(
                release.cluster, options, command: command, changes: !dryRun, always: output.format != .table)
        else {
            return try await body(release)
        }
        // A change that leaves a version record (rollback, delete) names one id in every cluster.
        let change = recordsChange && !dryRun ? ChangeID.random() : nil
        let runs = await $sharedChange.withValue(change) {
            await runner(contexts).run { context in try await body(release.with(context: context)) }
        }
        var summary = ClusterSummary(change: change)
        for run in runs {
            if let error = run.error {
                StandardError.write("\(run.context): error: \(ExitStatus.message(of: error))\n")
                summary.failed(run.context, error)
            } else {
                summary.rows.append(
                    ClusterSummary.Row(
                        context: run.context, outcome: dryRun ? "dry run" : "done", version: nil,
                        fingerprint: nil,
                        message: run.lastLine ?? "", status: .ok))
            }
        }
        try summary.finish(output)
    }
}

extension ClusterTargets {
    /// Runs a reading command's single-cluster workflow `body` on the clusters the options name:
    /// on one as always, or on several at once, each cluster's output printed as a section of its
    /// own (`==> context <==`, in the order given) or, with `-o json|yaml`, one document listing
    /// every cluster's data and, for a cluster that failed, its error (and the data it made before
    /// failing, if any); then the most severe exit code.
    static func report(
        _ release: ReleaseOptions, _ options: MultiClusterOptions, output: OutputOptions, command: String,
        _ body: @escaping @Sendable (ReleaseOptions) async throws -> Void
    ) async throws {
        guard let contexts = try contexts(release.cluster, options, command: command, changes: false) else {
            return try await body(release)
        }
        let sections = Mutex<[String: [String]]>([:])
        let runner = MultiClusterRunner(contexts: contexts) { context, line in
            sections.withLock { $0[context, default: []].append(line) }
        }
        let runs = await runner.run { context in try await body(release.with(context: context)) }
        var failed = ClusterSummary()
        for run in runs where run.error != nil {
            if let error = run.error { failed.failed(run.context, error) }
        }
        let data: JSON = [
            "clusters": .array(
                runs.map { run in
                    var item: JSON = ["context": .string(run.context)]
                    if let error = run.error {
                        item["error"] = .string(ExitStatus.message(of: error))
                        item["exitCode"] = .int(Int(ExitStatus.of(error).rawValue))
                        // A report that ends in a non-zero verdict (doctor's warnings and
                        // failures) was made before its error: the checks are the point.
                        if let kept = run.data { item["data"] = kept }
                    } else {
                        item["exitCode"] = 0
                        item["data"] = run.data ?? .null
                    }
                    return item
                }),
            "exitCode": .int(Int(failed.worst.rawValue)),
        ]
        if !output.printData(data) {
            let lines = sections.withLock { $0 }
            for (index, run) in runs.enumerated() {
                if index > 0 { print() }
                print("==> \(run.context) <==")
                for line in lines[run.context] ?? [] { print(line) }
                if let error = run.error { print("error: \(ExitStatus.message(of: error))") }
            }
        }
        guard !failed.rows.isEmpty else { return }
        throw CommandError(
            "\(failed.rows.count) of \(runs.count) clusters failed ("
                + failed.rows.map { "\($0.context): exit \($0.status.rawValue)" }.joined(separator: ", ")
                + "); the others are shown above", failed.worst)
    }
}

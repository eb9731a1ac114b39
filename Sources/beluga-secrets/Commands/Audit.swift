import ArgumentParser
import KubeAPI
import Sealing
import SecretSync
import TimeFormat

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// `beluga-secrets audit`: the rotation timeline from the agent's audit records, and a check
/// that none was removed or altered.
struct Audit: AsyncParsableCommand {
    /// The most audit log read from a file or standard input: a pod's log holds far less.
    static let logLimit = 1 << 30

    static let configuration = CommandConfiguration(
        abstract: "Show the rotation timeline from the agent's audit records; --verify checks the chain.",
        discussion: """
            Reads the records from --file (or standard input), or with --from-cluster from the \
            logs of the agent pods (label app.kubernetes.io/component=secrets-agent). A change \
            shows as signed (SIGNED yes) only when the agent's signature of its record verified \
            with the agent's identity key (--identity-key, or with --from-cluster the key the \
            agent publishes, checked against the identity pinned in known-agents.json); without \
            one it shows UNCHECKED. With --verify, every record's signature is checked, every \
            link against the line before, numbers for gaps, that the chain starts at record 1, \
            and that it reaches the audit head (read from the cluster with --from-cluster, or \
            given with --head). An edited, removed or forged record exits 6; so does a chain cut \
            off at its start or end (with --from-cluster, also when the logs hold none of the \
            records before the head the cluster holds), unless --allow-partial accepts a window \
            of the logs; a gap \
            where the logs of another agent replica are missing is reported and exits 0.
            """)

    @OptionGroup var cluster: ClusterOptions

    @Option(help: ArgumentHelp("Read records from this file ('-': standard input).", valueName: "file"))
    var file: String?

    @Flag(name: .customLong("from-cluster"), help: "Read records from the agent pods' logs.")
    var fromCluster = false

    @Option(
        help: ArgumentHelp(
            "Label selector of the agent pods (with --from-cluster; default: \(ClusterAuditLogs.agentSelector), "
                + "and with --release the release's instance label).", valueName: "selector"))
    var selector: String?

    @Option(
        help: ArgumentHelp(
            "Helm release the object names derive from (default: \(ObjectNames.defaultRelease)).",
            valueName: "name"))
    var release: String?

    @Option(
        help: ArgumentHelp(
            "Only records since then: a duration back from now (1h, 7d) or an RFC 3339 time.",
            valueName: "when"))
    var since: String?

    @Option(help: ArgumentHelp("Only records of this key.", valueName: "key"))
    var key: String?

    @Flag(
        help: ArgumentHelp(
            "Check signatures, links and numbering; exit 6 if a record was removed or altered, or the chain "
                + "is cut off at its start or end."))
    var verify = false

    @Option(
        name: .customLong("identity-key"),
        help: ArgumentHelp(
            "The agent's identity.pub (base64), to check the records' signatures with, instead of the key "
                + "the cluster publishes.", valueName: "file"))
    var identityKey: String?

    @Option(
        help: ArgumentHelp(
            "With --verify: where the chain must end, as the agent's audit head says (repeatable; NAMESPACE/ "
                + "when the records are of several namespaces).", valueName: "[namespace/]seq:hash"))
    var head: [HeadArgument] = []

    @Flag(
        name: .customLong("allow-partial"),
        help: ArgumentHelp(
            "With --verify: accept a chain that does not start at record 1 or stops before the audit head "
                + "(a window of the logs): report it and exit 0."))
    var allowPartial = false

    @Option(name: [.short, .customLong("output")], help: ArgumentHelp("table or json.", valueName: "format"))
    var output: OutputFormat = .table

    enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
        case table
        case json
    }

    /// `--head [NAMESPACE/]SEQ:HASH`.
    struct HeadArgument: ExpressibleByArgument {
        var namespace: String?
        var head: AuditVerifier.Head

        init?(argument: String) {
            var rest = Substring(argument)
            if let slash = rest.firstIndex(of: "/") {
                namespace = String(rest[..<slash])
                rest = rest[rest.index(after: slash)...]
                if namespace?.isEmpty ?? true { return nil }
            }
            let parts = rest.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count == 2, let seq = Int(parts[0]), seq >= 1, parts[1].utf8.count == 64,
                parts[1].utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) })
            else { return nil }
            head = AuditVerifier.Head(seq: seq, hash: String(parts[1]))
        }

        static var defaultCompletionKind: CompletionKind { .default }
    }

    func validate() throws {
        if file != nil && fromCluster {
            throw ValidationError("--file and --from-cluster cannot be combined: pass one")
        }
        if (!head.isEmpty || allowPartial) && !verify {
            throw ValidationError("--head and --allow-partial go with --verify")
        }
        if let since, sinceDate(since) == nil {
            throw ValidationError("--since \(since) is neither a duration (30m, 1h, 7d) nor an RFC 3339 time")
        }
    }

    func run() async throws {
        var log = AuditLog()
        var client: KubeClient?
        func cluster() throws -> KubeClient {
            if let client { return client }
            let made = try self.cluster.client()
            client = made
            return made
        }
        let names = ObjectNames.derived(release: release ?? ObjectNames.defaultRelease)
        // Several releases may share a namespace: with --release, only its agent's pods.
        let selector =
            self.selector
            ?? release.map { "\(ClusterAuditLogs.agentSelector),\(AgentObjectsResolver.instanceLabel)=\($0)" }
            ?? ClusterAuditLogs.agentSelector
        if fromCluster {
            let kube = try cluster()
            let pods = try await ClusterAuditLogs.read(
                into: &log, client: kube, namespace: kube.namespace, selector: selector)
            if pods.isEmpty {
                throw CommandError(
                    "no agent pod matches \(selector) in namespace \"\(kube.namespace)\"; pass -n or --selector",
                    .notFound)
            }
        } else if let file, file != "-" {
            guard case .success(let data) = FileContents.read(file, limit: Self.logLimit) else {
                throw CommandError("cannot read \(file): check the path and its permissions", .usage)
            }
            log.read(String(decoding: data, as: UTF8.self), source: file)
        } else {
            if file == nil, isatty(STDIN_FILENO) != 0 {
                throw CommandError(
                    "no records to read: pass --file F, --from-cluster, or pipe the agent's log into standard input",
                    .usage)
            }
            switch FileContents.readAll(STDIN_FILENO, limit: Self.logLimit) {
            case .success(let data): log.read(String(decoding: data, as: UTF8.self), source: "stdin")
            case .failure(let failure):
                throw CommandError(
                    "cannot read standard input (\(failure)): save the log to a file and pass --file", .usage)
            }
        }

        let namespaces = Set(log.entries.map(\.record.namespace)).sorted()
        // The identity key of each namespace's agent: the file given, else (reading the cluster
        // anyway, or to verify) the key the agent publishes, checked against the pinned one.
        var keys: [String: SigningPublicKey] = [:]
        if let identityKey {
            let key = try Self.readIdentityKey(identityKey)
            for namespace in namespaces { keys[namespace] = key }
        } else if (fromCluster || verify) && !namespaces.isEmpty {
            let kube = try cluster()
            let published = try await ClusterAuditLogs.identityKeys(
                client: kube, namespaces: namespaces, names: names)
            let pins = try AgentIdentityPins.standard()
            let server = kube.configuration.transport.server
            for (namespace, (key, configMap)) in published {
                if case .changed(let pinned) = try pins.check(
                    key, server: server, namespace: namespace, configMap: configMap)
                {
                    let pinnedID =
                        (try? SigningPublicKey(base64: pinned.identity)).map { $0.signerID.hex }
                        ?? "(unreadable)"
                    throw CommandError(
                        "the agent identity of namespace \(namespace) on \(server) changed: pinned \(pinnedID) "
                            + "(\(pinned.pinnedAt)), now \(key.signerID) in ConfigMap \(configMap); "
                            + "records signed by another key prove nothing. Check the records against the key you "
                            + "trust with --identity-key, or, if the agent was reinstalled on purpose, accept it with "
                            + "`beluga-secrets keys show --accept-new-identity`", .rejected)
                }
                keys[namespace] = key
            }
        }

        let filter = AuditTimeline.Filter(since: since.flatMap(sinceDate), key: key)
        let timeline = AuditTimeline(log, filter: filter, identityKey: { keys[$0] })
        var verification: AuditVerification?
        var heads: [String: AuditVerifier.Head] = [:]
        if verify {
            let unknown = namespaces.filter { keys[$0] == nil }
            if !unknown.isEmpty {
                throw CommandError(
                    "no identity key for namespace \(unknown.joined(separator: ", ")): its agent publishes none "
                        + "(ConfigMap \(names.publicKeyConfigMap)); pass --identity-key with its identity.pub",
                    .notFound)
            }
            if fromCluster {
                // The namespace asked about has a head even when no record of it is left in the
                // logs: a chain cut off entirely still stops before that head.
                let kube = try cluster()
                heads = try await ClusterAuditLogs.heads(
                    client: kube, namespaces: Array(Set(namespaces + [kube.namespace])).sorted(),
                    status: names.status)
            }
            for argument in head {
                guard let namespace = argument.namespace ?? (namespaces.count == 1 ? namespaces.first : nil)
                else {
                    throw CommandError(
                        "--head \(argument.head.seq):… names no namespace, and the records are of "
                            + "\(namespaces.isEmpty ? "none" : namespaces.joined(separator: ", ")): "
                            + "write it as NAMESPACE/SEQ:HASH", .usage)
                }
                heads[namespace] = argument.head
            }
            verification = AuditVerifier.verify(log, identityKey: { keys[$0] }, heads: heads)
        }

        switch output {
        case .json:
            print(timeline.json(verification: verification).prettyText())
        case .table:
            print(timeline.table(), terminator: "")
            if let verification {
                print("")
                print(summary(verification))
                for finding in verification.findings { print(finding.description) }
            }
        }
        if let verification, !verification.isIntact {
            let count = verification.findings.filter { $0.severity == .tampering }.count
            throw CommandError(
                "the audit trail was altered: \(count) record\(count == 1 ? "" : "s") edited, removed or forged (see above)",
                .rejected)
        }
        if let verification, !verification.isWhole, !allowPartial {
            if let cut = verification.findings.first(where: { $0.severity == .partial && $0.seq == nil }) {
                throw CommandError(
                    "no audit record of namespace \(cut.namespace) in the logs read, yet the audit head the cluster "
                        + "holds says the chain reached record \(heads[cut.namespace]?.seq ?? 0): the chain "
                        + "stops before it; add the missing logs, or pass --allow-partial to accept a window of them",
                    .rejected)
            }
            throw CommandError(
                "the chain read is not the whole trail: records are missing at its start or its end (see above); "
                    + "add the missing logs, or pass --allow-partial to accept a window of them", .rejected)
        }
    }

    static func readIdentityKey(_ path: String) throws -> SigningPublicKey {
        // Read as a key file: a regular file (never a FIFO waited on), one line of canonical
        // base64.
        do {
            return try SigningPublicKey.read(from: path)
        } catch {
            switch error {
            case .keyFileUnreadable: throw error
            default:
                throw CommandError(
                    "--identity-key \(path) is not an identity.pub (base64 of a 32-byte Ed25519 key)", .usage)
            }
        }
    }

    private func summary(_ verification: AuditVerification) -> String {
        let total = verification.checked.values.reduce(0, +)
        if total == 0 {
            return verification.isWhole
                ? "nothing to verify: no audit record in the logs read"
                : "PARTIAL: no audit record in the logs read, yet the chain has records (see below)"
        }
        let spaces = verification.checked.keys.sorted().joined(separator: ", ")
        let records = "\(total) record\(total == 1 ? "" : "s") (namespace \(spaces))"
        guard verification.isIntact else { return "NOT VERIFIED: \(records)" }
        let unchecked = verification.checked.keys.filter { !verification.headsChecked.contains($0) }.sorted()
        let end =
            unchecked.isEmpty
            ? "up to the audit head"
            : "; the end of namespace \(unchecked.joined(separator: ", ")) was not compared with an audit head "
                + "(pass --head SEQ:HASH, or read --from-cluster)"
        if verification.isComplete {
            return "verified: \(records): signatures valid, chain unbroken from record 1 \(end)"
        }
        let windows = verification.ranges.keys.sorted().compactMap { namespace in
            verification.ranges[namespace].map { "\(namespace) \($0.lowerBound)–\($0.upperBound)" }
        }.joined(separator: ", ")
        if !verification.isWhole {
            return
                "PARTIAL: \(records): signatures valid, but the chain read is a window (\(windows)) of the trail"
        }
        return "verified with gaps: \(records): signatures valid, but records are missing"
    }

    private func sinceDate(_ text: String) -> UnixTime? {
        if let duration = DurationArgument.parse(text) {
            return .now() - .seconds(duration.components.seconds)
        }
        return RFC3339.parse(text)
    }
}

import ArgumentParser
import Foundation
import KubeAPI
import Sealing
import SecretSync

/// `beluga-secrets audit`: the rotation timeline from the agent's audit records, and a check
/// that none was removed or altered.
struct Audit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the rotation timeline from the agent's audit records; --verify checks the chain.",
        discussion: """
            Reads the records from --file (or standard input), or with --from-cluster from the \
            logs of the agent pods (label app.kubernetes.io/component=secrets-agent). With \
            --verify, every record's signature is checked against the agent's identity key \
            (identity.pub of ConfigMap beluga-secrets-public-key, or --identity-key), every \
            link against the line before, and numbers for gaps. An edited, removed or forged \
            record exits 6; a gap where the logs of another agent replica are missing is reported \
            and exits 0.
            """)

    @OptionGroup var cluster: ClusterOptions

    @Option(help: ArgumentHelp("Read records from this file ('-': standard input).", valueName: "file"))
    var file: String?

    @Flag(name: .customLong("from-cluster"), help: "Read records from the agent pods' logs.")
    var fromCluster = false

    @Option(
        help: ArgumentHelp("Label selector of the agent pods (with --from-cluster).", valueName: "selector"))
    var selector = ClusterAuditLogs.agentSelector

    @Option(help: ArgumentHelp("Helm release the object names derive from.", valueName: "name"))
    var release: String = ObjectNames.defaultRelease

    @Option(
        help: ArgumentHelp(
            "Only records since then: a duration back from now (1h, 7d) or an RFC 3339 time.",
            valueName: "when"))
    var since: String?

    @Option(help: ArgumentHelp("Only records of this key.", valueName: "key"))
    var key: String?

    @Flag(help: "Check signatures, links and numbering; exit 6 if a record was removed or altered.")
    var verify = false

    @Option(
        name: .customLong("identity-key"),
        help: ArgumentHelp(
            "The agent's identity.pub (base64), instead of reading it from the cluster.", valueName: "file"))
    var identityKey: String?

    @Option(name: [.short, .customLong("output")], help: ArgumentHelp("table or json.", valueName: "format"))
    var output: OutputFormat = .table

    enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
        case table
        case json
    }

    func validate() throws {
        if file != nil && fromCluster {
            throw ValidationError("--file and --from-cluster cannot be combined: pass one")
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
        let names = ObjectNames(release: release)
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
            guard let data = FileManager.default.contents(atPath: file) else {
                throw CommandError("cannot read \(file): check the path and its permissions", .usage)
            }
            log.read(String(decoding: data, as: UTF8.self), source: file)
        } else {
            if file == nil, isatty(STDIN_FILENO) != 0 {
                throw CommandError(
                    "no records to read: pass --file F, --from-cluster, or pipe the agent's log into standard input",
                    .usage)
            }
            log.read(
                String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self),
                source: "stdin")
        }

        let filter = AuditTimeline.Filter(since: since.flatMap(sinceDate), key: key)
        let timeline = AuditTimeline(log, filter: filter)
        var verification: AuditVerification?
        if verify {
            let namespaces = Set(log.entries.map(\.record.namespace)).sorted()
            var keys: [String: SigningPublicKey] = [:]
            if let identityKey {
                guard let data = FileManager.default.contents(atPath: identityKey) else {
                    throw CommandError("cannot read --identity-key \(identityKey): check the path", .usage)
                }
                let text = String(decoding: data, as: UTF8.self).trimmingCharacters(
                    in: .whitespacesAndNewlines)
                guard let key = try? SigningPublicKey(base64: text) else {
                    throw CommandError(
                        "--identity-key \(identityKey) is not an identity.pub (base64 of a 32-byte Ed25519 key)",
                        .usage)
                }
                for namespace in namespaces { keys[namespace] = key }
            } else if !namespaces.isEmpty {
                keys = try await ClusterAuditLogs.identityKeys(
                    client: try cluster(), namespaces: namespaces,
                    publicKeyConfigMap: names.publicKeyConfigMap)
            }
            let unknown = namespaces.filter { keys[$0] == nil }
            if !unknown.isEmpty {
                throw CommandError(
                    "no identity key for namespace \(unknown.joined(separator: ", ")): its agent publishes none "
                        + "(ConfigMap \(names.publicKeyConfigMap)); pass --identity-key with its identity.pub",
                    .notFound)
            }
            var heads: [String: AuditVerifier.Head] = [:]
            if fromCluster {
                heads = try await ClusterAuditLogs.heads(
                    client: try cluster(), namespaces: namespaces, sealedStore: names.sealedStore)
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
    }

    private func summary(_ verification: AuditVerification) -> String {
        let total = verification.checked.values.reduce(0, +)
        let spaces = verification.checked.keys.sorted().joined(separator: ", ")
        if verification.isComplete {
            return
                "verified: \(total) record\(total == 1 ? "" : "s") (namespace \(spaces)): signatures valid, chain unbroken"
        }
        if verification.isIntact {
            return
                "verified with gaps: \(total) records (namespace \(spaces)): signatures valid, but records are missing"
        }
        return "NOT VERIFIED: \(total) records (namespace \(spaces))"
    }

    private func sinceDate(_ text: String) -> Date? {
        if let duration = DurationArgument.parse(text) {
            return Date().addingTimeInterval(-Double(duration.components.seconds))
        }
        return Timestamp.parse(text)
    }
}

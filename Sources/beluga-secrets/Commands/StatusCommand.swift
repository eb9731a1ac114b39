import ArgumentParser
import JSONValue
import KubeAPI
import SecretSync
import TimeFormat

/// `beluga-secrets status`: is the agent there, is everything applied, are keys getting old.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show the agent's leader, the last sync, pending changes, key ages and the sealing key.",
        discussion: """
            The leader is read from the Lease the agent replicas elect on: a leader that renewed \
            within the lease duration is running. Keys whose current version is older than their \
            maximum age (`beluga-secrets max-age`, or the chart's apiKeys[].maxAge) are marked \
            overdue; keys without one are flagged for rotation when older than --max-age. Keys \
            whose envelope in Helm values is still sealed to a previous sealing key are named with \
            the command that re-seals them into the values. Parts this user may not read are shown \
            as such. \
            With --context given several times, or --all-contexts, every cluster is read at once \
            and shown in a section of its own (==> context <==), or with -o json|yaml as one \
            document (clusters: context, exitCode, data or error).
            """)

    @Option(
        name: .customLong("max-age"),
        help: ArgumentHelp(
            "Flag keys without a maximum age of their own whose current version is older than this.",
            valueName: "duration"))
    var maxAge = DurationArgument(.seconds(90 * 86400), text: "90d")

    @OptionGroup var output: OutputOptions
    @OptionGroup var release: ReleaseOptions
    @OptionGroup(title: "Several clusters") var clusters: MultiClusterOptions

    func run() async throws {
        try await ClusterTargets.report(release, clusters, output: output, command: "status") { release in
            try await run(on: release)
        }
    }

    /// The status of one cluster.
    private func run(on release: ReleaseOptions) async throws {
        let connected = try release.connect()
        // The release's agent objects: the derived names, or the fixed ones the release owns. A
        // failed look leaves the derived names, and the reads below report why.
        let workspace = (try? await connected.resolvingAgentObjects())?.0 ?? connected
        let now = UnixTime.now()
        var data: JSON = ["namespace": .string(workspace.namespace)]
        var lines: [String] = []

        // The agent's leader.
        do {
            let lease = try await workspace.client.get(
                Lease.self, name: workspace.names.lease, namespace: workspace.namespace)
            let leader = LeaderReport(lease: lease)
            let since = leader.secondsSinceRenewal(now: now)
            data["agent"] = [
                "lease": .string(workspace.names.lease), "holder": .string(leader.holder),
                "renewTime": .string(leader.renewTime),
                "leaseDurationSeconds": .int(leader.leaseDurationSeconds),
                "live": .bool(leader.isLive(now: now)),
            ]
            if leader.isLive(now: now) {
                lines.append("Agent:        leader \(leader.holder), renewed \(Age.text(since)) ago")
            } else if leader.holder.isEmpty {
                lines.append(
                    "Agent:        no leader (Lease \(workspace.names.lease) is not held): is the agent running?"
                )
            } else {
                lines.append(
                    "Agent:        not running? \(leader.holder) last renewed \(Age.text(since)) ago "
                        + "(lease duration \(leader.leaseDurationSeconds)s)")
            }
        } catch {
            switch error.category {
            case .notFound:
                data["agent"] = [
                    "lease": .string(workspace.names.lease), "live": false, "error": "not found",
                ]
                lines.append(
                    "Agent:        no Lease \(workspace.names.lease) in namespace \(workspace.namespace): "
                        + "the agent has not started here")
            case .forbidden:
                data["agent"] = ["lease": .string(workspace.names.lease), "error": .string(error.message)]
                lines.append("Agent:        unknown (may not read Lease \(workspace.names.lease))")
            default:
                throw error
            }
        }

        // The sealing key the agent publishes.
        do {
            let object = try await workspace.client.get(
                ConfigMap.self, name: workspace.names.publicKeyConfigMap, namespace: workspace.namespace)
            let published = try PublishedKeys(configMap: object.json, namespace: workspace.namespace)
            let createdAt = published.currentEntry?.createdAt ?? ""
            let age = RFC3339.parse(createdAt).map { (now - $0).inSeconds }
            let pins = try AgentIdentityPins.standard()
            let pin = try pins.check(
                published, server: workspace.server, namespace: workspace.namespace,
                configMap: workspace.names.publicKeyConfigMap)
            let pinText: String
            let pinState: String
            switch pin {
            case .known:
                pinText = "pinned"
                pinState = "known"
                try pins.noteCurrent(
                    published, server: workspace.server, namespace: workspace.namespace,
                    configMap: workspace.names.publicKeyConfigMap)
            case .firstUse:
                pinText = "not pinned yet"
                pinState = "firstUse"
            case .changed:
                pinText = "CHANGED since pinned: set refuses it until you pass --accept-new-identity"
                pinState = "changed"
            case .currentReplayed(let pinned):
                pinText =
                    "pinned, but the current key's counter \(published.currentStatement.counter) is below "
                    + "\(pinned.currentCounter ?? 0) seen before: an old statement was put back; set refuses it"
                pinState = "currentReplayed"
            }
            data["sealingKey"] = [
                "kid": .string(published.current.keyID.hex), "createdAt": .string(createdAt),
                "identity": .string(published.identity.signerID.hex), "identityPin": .string(pinState),
                "counter": .int(published.currentStatement.counter),
            ]
            lines.append("Sealing key:  \(published.current.keyID), \(Age.text(age)) old")
            lines.append("Identity:     \(published.identity.signerID) (\(pinText))")
        } catch {
            if let failure = error as? KubeError,
                failure.category == .notFound || failure.category == .forbidden
            {
                data["sealingKey"] = ["error": .string(failure.message)]
                lines.append(
                    "Sealing key:  "
                        + (failure.category == .notFound
                            ? "none published (ConfigMap \(workspace.names.publicKeyConfigMap) is missing)"
                            : "unknown (may not read ConfigMap \(workspace.names.publicKeyConfigMap))"))
            } else if let untrusted = error as? PublishedKeysError {
                data["sealingKey"] = ["error": .string(untrusted.description)]
                lines.append("Sealing key:  untrusted: \(untrusted.description)")
            } else {
                throw error
            }
        }

        // Keys: last sync, pending changes, ages.
        let inventory = try await KeyInventory.read(workspace)
        let lastSync = inventory.status?.keys.values.map(\.at).max() ?? ""
        data["lastSync"] = .string(lastSync)
        lines.append(
            "Last sync:    "
                + (lastSync.isEmpty
                    ? "never"
                    : "\(lastSync) (\(Age.text(RFC3339.parse(lastSync).map { (now - $0).inSeconds })) ago)")
        )
        let pending = inventory.reports.filter { $0.state == "pending" || $0.state == "rejected" }
        data["pending"] = .array(pending.map(\.json))
        lines.append(
            "Pending:      "
                + (pending.isEmpty
                    ? "none" : pending.map { "\($0.key) (\($0.state))" }.joined(separator: ", ")))

        // Envelopes in Helm values that the agent left on a previous sealing key.
        let helmReseal = inventory.reports.filter { $0.helmReseal != nil }
        data["helmReseal"] = .array(
            helmReseal.compactMap { report in
                report.helmReseal.map {
                    ["key": .string(report.key), "kid": .string($0.kid), "signed": .bool($0.signed)]
                }
            })
        if !helmReseal.isEmpty {
            let byKid = Dictionary(grouping: helmReseal) { $0.helmReseal?.kid ?? "" }
            let text = byKid.keys.sorted().map { kid in
                "\((byKid[kid] ?? []).map(\.key).joined(separator: ", ")) sealed to sealing key \(kid)"
            }.joined(separator: "; ")
            lines.append(
                "Helm values:  \(text): re-seal with beluga-secrets keys helm-values -n \(workspace.namespace) "
                    + "--release \(workspace.names.release) > sealed-values.yaml, then helm upgrade with "
                    + "-f sealed-values.yaml")
        }

        let limit = Double(maxAge.duration.components.seconds)
        var old: [String] = []
        var pastOwn: [String] = []
        var keys: [JSON] = []
        var table = TableWriter("KEY", "VERSION", "AGE", "STATE", "ROTATION")
        for report in inventory.reports {
            let age = report.age(now: now)
            // The key's own maximum age comes first; --max-age for keys that have none.
            let overdue = report.maxAge != nil ? report.overdue(now: now) : age.map { $0 > limit } ?? false
            if overdue, report.maxAge != nil {
                pastOwn.append(report.key)
            } else if overdue {
                old.append(report.key)
            }
            var entry = report.json
            entry["overMaxAge"] = .bool(overdue)
            keys.append(entry)
            let rotation: String
            if let own = report.maxAge {
                rotation = overdue ? "overdue (max \(own.text))" : "max \(own.text)"
            } else {
                rotation = overdue ? "due (older than \(maxAge.text))" : "-"
            }
            table.add([report.key, report.versionText, Age.text(age), report.state, rotation])
        }
        data["keys"] = .array(keys)
        data["maxAge"] = .string(maxAge.text)
        inventory.noteIfSecretDenied(workspace)
        if !pastOwn.isEmpty {
            StandardError.writeLine(
                "warning: \(pastOwn.count) key\(pastOwn.count == 1 ? " is" : "s are") past the maximum age set for "
                    + "\(pastOwn.count == 1 ? "it" : "them"): \(pastOwn.joined(separator: ", ")); rotate with "
                    + "beluga-secrets set KEY")
        }
        if !old.isEmpty {
            StandardError.writeLine(
                "warning: \(old.count) key\(old.count == 1 ? " is" : "s are") older than \(maxAge.text): "
                    + "\(old.joined(separator: ", ")); rotate with beluga-secrets rotate KEY")
        }
        if output.printData(data) { return }
        Narration.say("Namespace:    \(workspace.namespace)")
        for line in lines { Narration.say(line) }
        if !inventory.reports.isEmpty {
            Narration.say("")
            Narration.sayText(table.text)
        }
    }
}

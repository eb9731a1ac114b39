import JSONValue
import KubeAPI
import Sealing

/// Reads and changes the settings ConfigMap (`<release>-config`: `llmProvider`,
/// `embeddingProvider`, …). Settings are not secret, but they obey the ConfigMap's rules, checked
/// here before anything is sent. Each change is a merge patch of one key, so two people changing
/// different settings at the same moment both succeed.
public struct SettingsWriter: Sendable {
    public let client: KubeClient
    public let namespace: String
    /// The ConfigMap's name.
    public let name: String

    /// Most a ConfigMap may hold, keys and values together (the API server's limit).
    public static let maximumSize = 1024 * 1024

    public init(client: KubeClient, namespace: String, name: String) {
        self.client = client
        self.namespace = namespace
        self.name = name
    }

    /// What a change did (or, in a dry run, would do).
    public struct Outcome: Sendable {
        public var name: String
        /// The value before the change, `nil` when the setting was absent.
        public var previous: String?
        /// The value after it, `nil` after an unset.
        public var value: String?
        /// Whether the ConfigMap did not exist and was (or would be) created.
        public var createdConfigMap: Bool

        /// Whether the value is the same as before.
        public var unchanged: Bool { previous == value }
    }

    /// The settings, `nil` when the ConfigMap does not exist.
    public func read() async throws(ChangeError) -> ConfigMap? {
        do {
            return try await client.getIfPresent(ConfigMap.self, name: name, namespace: namespace)
        } catch {
            throw .api(error)
        }
    }

    /// Sets `setting` to `value`.
    public func set(_ setting: String, to value: String, dryRun: Bool = false) async throws(ChangeError)
        -> Outcome
    {
        try Self.validateName(setting)
        let current = try await read()
        if current?.binaryData[setting] != nil {
            throw .invalidSetting(
                "\"\(setting)\" is a binary entry of ConfigMap \(namespace)/\(name): change it with kubectl")
        }
        let previous = current?[setting]
        var data = current?.data ?? [:]
        data[setting] = value
        let size =
            data.reduce(0) { $0 + $1.key.utf8.count + $1.value.utf8.count }
            + (current?.binaryData ?? [:]).reduce(0) { $0 + $1.key.utf8.count + $1.value.count }
        guard size <= Self.maximumSize else {
            throw .invalidSetting(
                "ConfigMap \(namespace)/\(name) would hold \(size) bytes, more than the 1 MiB (1048576 bytes) "
                    + "a ConfigMap may hold: store a shorter value")
        }
        let outcome = Outcome(
            name: setting, previous: previous, value: value, createdConfigMap: current == nil)
        guard !dryRun, !outcome.unchanged else { return outcome }
        try await write(patch: ["data": [setting: .string(value)]], exists: current != nil)
        return outcome
    }

    /// Removes `setting`; `keyNotFound` when it is not set.
    public func unset(_ setting: String, dryRun: Bool = false) async throws(ChangeError) -> Outcome {
        try Self.validateName(setting)
        guard let current = try await read(), let previous = current[setting] else {
            throw .keyNotFound(
                key: setting, object: "ConfigMap \(namespace)/\(name)",
                hint: "run `beluga-secrets config list` to see the settings")
        }
        let outcome = Outcome(name: setting, previous: previous, value: nil, createdConfigMap: false)
        guard !dryRun else { return outcome }
        try await write(patch: ["data": [setting: .null]], exists: true)
        return outcome
    }

    /// A setting's name follows the rule of ConfigMap keys: `[-._a-zA-Z0-9]+`, at most 253
    /// characters, not `.` or `..` (the same rule as Secret keys).
    public static func validateName(_ setting: String) throws(ChangeError) {
        do {
            try SecretBinding.validateKeyName(setting)
        } catch {
            guard case .invalidKeyName(let reason) = error else { throw .sealing(error) }
            throw .invalidSetting(
                "invalid setting name: \(reason); use letters, digits, '-', '_' and '.' (at most 253 characters)"
            )
        }
    }

    private func write(patch: JSON, exists: Bool) async throws(ChangeError) {
        do {
            if exists {
                _ = try await client.patch(
                    ConfigMap.self, name: name, namespace: namespace, patch: .merge(patch))
                return
            }
            var created = ConfigMap(name: name, namespace: namespace)
            created.json["data"] = patch["data"]
            do {
                _ = try await client.create(created, namespace: namespace)
            } catch  where error.category == .alreadyExists {
                // Created by someone else meanwhile: the patch now applies.
                _ = try await client.patch(
                    ConfigMap.self, name: name, namespace: namespace, patch: .merge(patch))
            }
        } catch {
            throw .api(error)
        }
    }
}

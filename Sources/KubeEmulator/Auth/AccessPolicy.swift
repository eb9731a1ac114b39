import Foundation
import JSONValue

/// A user as authentication establishes it.
public struct UserInfo: Sendable, Equatable, Hashable {
    public var name: String
    public var groups: [String]

    public init(name: String, groups: [String] = []) {
        self.name = name
        self.groups = groups
    }

    /// The service account user `system:serviceaccount:<namespace>:<name>` with its groups.
    public static func serviceAccount(namespace: String, name: String) -> UserInfo {
        UserInfo(
            name: "system:serviceaccount:\(namespace):\(name)",
            groups: ["system:serviceaccounts", "system:serviceaccounts:\(namespace)"])
    }
}

/// One permission, with RBAC's `PolicyRule` semantics plus an optional namespace restriction:
/// `verbs` × `apiGroups` × `resources` (`pods/log` names a subresource, `*/status` every status)
/// × `resourceNames` × `namespaces`, or `nonResourceURLs` for paths such as `/version`.
public struct AccessRule: Sendable, Equatable, Hashable {
    public var verbs: [String]
    public var apiGroups: [String]
    public var resources: [String]
    /// Empty: any name. Never matches `create`, nor `list`/`watch` without
    /// `fieldSelector=metadata.name=<name>` (as RBAC).
    public var resourceNames: [String]
    /// Empty: every namespace and cluster-scoped resources; otherwise only these namespaces.
    public var namespaces: [String]
    public var nonResourceURLs: [String]

    public init(
        verbs: [String], apiGroups: [String] = [""], resources: [String] = [], resourceNames: [String] = [],
        namespaces: [String] = [], nonResourceURLs: [String] = []
    ) {
        self.verbs = verbs
        self.apiGroups = apiGroups
        self.resources = resources
        self.resourceNames = resourceNames
        self.namespaces = namespaces
        self.nonResourceURLs = nonResourceURLs
    }

    func allows(_ request: RequestInfo) -> Bool {
        guard verbs.contains("*") || verbs.contains(request.verb) else { return false }
        if !request.isResourceRequest {
            return nonResourceURLs.contains { url in
                url == "*" || url == request.path
                    || (url.hasSuffix("*") && request.path.hasPrefix(String(url.dropLast())))
            }
        }
        guard apiGroups.contains("*") || apiGroups.contains(request.apiGroup) else { return false }
        guard resources.contains(where: { AccessRule.resourceMatches($0, request) }) else { return false }
        guard resourceNames.isEmpty || (!request.name.isEmpty && resourceNames.contains(request.name)) else {
            return false
        }
        guard namespaces.isEmpty || (!request.namespace.isEmpty && namespaces.contains(request.namespace))
        else {
            return false
        }
        return true
    }

    /// RBAC's `ResourceMatches`.
    static func resourceMatches(_ rule: String, _ request: RequestInfo) -> Bool {
        if rule == "*" || rule == request.resourcePath { return true }
        if request.subresource.isEmpty { return false }
        return rule == "*/" + request.subresource
    }

    /// Reads a rule from its YAML/JSON form (the policy file, or an RBAC `PolicyRule`).
    init(json: JSON) throws(PolicyError) {
        func strings(_ key: String) throws(PolicyError) -> [String] {
            guard let value = json[key], !value.isNull else { return [] }
            if let single = value.stringValue { return [single] }
            guard let array = value.arrayValue else {
                throw PolicyError("`\(key)` must be a list of strings")
            }
            var result: [String] = []
            for element in array {
                guard let text = element.stringValue else {
                    throw PolicyError("`\(key)` must be a list of strings")
                }
                result.append(text)
            }
            return result
        }
        verbs = try strings("verbs")
        if verbs.isEmpty { throw PolicyError("every rule needs `verbs`") }
        apiGroups = json["apiGroups"] == nil ? [""] : try strings("apiGroups")
        resources = try strings("resources")
        resourceNames = try strings("resourceNames")
        namespaces = try strings("namespaces")
        nonResourceURLs = try strings("nonResourceURLs")
        if resources.isEmpty && nonResourceURLs.isEmpty {
            throw PolicyError("every rule needs `resources` or `nonResourceURLs`")
        }
    }
}

/// Why a policy file was refused.
public struct PolicyError: Error, Sendable, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}

/// Tokens, users, groups and their rules: what the emulator's authenticator and authorizer
/// enforce in addition to the RBAC objects stored in the cluster.
///
/// The policy file (YAML):
///
/// ```yaml
/// users:
///   - name: alice                    # the user name (Status messages say User "alice")
///     token: alice-token             # bearer token; omit for client-certificate users
///     groups: [developers]           # extra groups (system:authenticated is implied)
///     rules:
///       - verbs: [get, list, watch]
///         apiGroups: [""]            # "" is the core group; default [""]; "*" any group
///         resources: [secrets, pods/log]
///         resourceNames: [beluga-ai-secrets]   # optional
///         namespaces: [beluga]       # optional; absent means every namespace and cluster scope
///   - serviceAccount: beluga/beluga-secrets-agent   # user system:serviceaccount:beluga:beluga-secrets-agent
///     token: agent-token
///     rules: [...]
///   - name: ci
///     token: ci-token
///     admin: true                    # may do everything (group system:masters)
/// groups:
///   - name: developers
///     rules:
///       - verbs: [get]
///         nonResourceURLs: ["/healthz"]
/// ```
public struct AccessPolicy: Sendable, Equatable {
    /// A user of the policy file.
    public struct User: Sendable, Equatable {
        public var info: UserInfo
        public var token: String?
        public var rules: [AccessRule]

        public init(info: UserInfo, token: String?, rules: [AccessRule]) {
            self.info = info
            self.token = token
            self.rules = rules
        }
    }

    public var users: [User]
    public var groupRules: [String: [AccessRule]]

    public init(users: [User] = [], groupRules: [String: [AccessRule]] = [:]) {
        self.users = users
        self.groupRules = groupRules
    }

    /// Parses a policy file's YAML text.
    public init(yaml: String) throws(PolicyError) {
        let document: JSON
        do {
            document = try YAMLConversion.json(fromYAML: yaml) ?? [:]
        } catch {
            throw PolicyError("the policy is not valid YAML: \(error)")
        }
        guard document.objectValue != nil else { throw PolicyError("the policy must be a YAML mapping") }
        var users: [User] = []
        for (index, entry) in (document["users"]?.arrayValue ?? []).enumerated() {
            var info: UserInfo
            if let account = entry["serviceAccount"]?.stringValue {
                let parts = account.split(separator: "/", maxSplits: 1).map(String.init)
                guard parts.count == 2 else {
                    throw PolicyError(
                        "users[\(index)].serviceAccount must be <namespace>/<name>, got \"\(account)\"")
                }
                info = .serviceAccount(namespace: parts[0], name: parts[1])
            } else if let name = entry["name"]?.stringValue, !name.isEmpty {
                info = UserInfo(name: name)
            } else {
                throw PolicyError("users[\(index)] needs `name` or `serviceAccount`")
            }
            info.groups += (entry["groups"]?.arrayValue ?? []).compactMap(\.stringValue)
            if entry["admin"]?.boolValue == true { info.groups.append("system:masters") }
            var rules: [AccessRule] = []
            for (ruleIndex, rule) in (entry["rules"]?.arrayValue ?? []).enumerated() {
                do {
                    rules.append(try AccessRule(json: rule))
                } catch {
                    throw PolicyError("users[\(index)].rules[\(ruleIndex)]: \(error.description)")
                }
            }
            users.append(User(info: info, token: entry["token"]?.stringValue, rules: rules))
        }
        var groupRules: [String: [AccessRule]] = [:]
        for (index, entry) in (document["groups"]?.arrayValue ?? []).enumerated() {
            guard let name = entry["name"]?.stringValue else {
                throw PolicyError("groups[\(index)] needs `name`")
            }
            for (ruleIndex, rule) in (entry["rules"]?.arrayValue ?? []).enumerated() {
                do {
                    groupRules[name, default: []].append(try AccessRule(json: rule))
                } catch {
                    throw PolicyError("groups[\(index)].rules[\(ruleIndex)]: \(error.description)")
                }
            }
        }
        let tokens = users.compactMap(\.token)
        if Set(tokens).count != tokens.count { throw PolicyError("two users share a token") }
        self.users = users
        self.groupRules = groupRules
    }

    public static func load(path: String) throws(PolicyError) -> AccessPolicy {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw PolicyError("cannot read the policy file \(path)")
        }
        return try AccessPolicy(yaml: String(decoding: data, as: UTF8.self))
    }
}

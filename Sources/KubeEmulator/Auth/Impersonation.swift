/// User impersonation (`kubectl --as`, `--as-group`, `--as-uid`), as the real server's
/// impersonation filter does it: every `Impersonate-*` header is a separate `impersonate`
/// request that the requester must be allowed (users, groups and service accounts in the core
/// group; uids and `userextras/<key>` in authentication.k8s.io), and the request then runs as
/// the impersonated user.
struct Impersonation: Sendable {
    /// One thing the requester asks to act as.
    struct Target: Sendable, Equatable {
        var apiGroup: String
        var resource: String
        var subresource = ""
        var namespace = ""
        var name: String

        var description: String {
            let kind: String
            switch resource {
            case "users": kind = "User"
            case "groups": kind = "Group"
            case "serviceaccounts": kind = "ServiceAccount"
            case "uids": kind = "UID"
            default: kind = "UserExtra"
            }
            return "{\(kind) \(namespace) \(name)}"
        }
    }

    var targets: [Target]
    var user: UserInfo

    /// The impersonation a request asks for; nil when it carries no `Impersonate-*` header.
    /// Groups, extras or a UID without a user are refused (500, as the real filter answers).
    init?(_ request: HTTPRequest) throws(APIError) {
        let userName = request.header("impersonate-user") ?? ""
        var targets: [Target] = []
        var groups: [String] = []
        if !userName.isEmpty {
            let parts = userName.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            if parts.count == 4, parts[0] == "system", parts[1] == "serviceaccount", !parts[2].isEmpty,
                !parts[3].isEmpty
            {
                targets.append(
                    Target(apiGroup: "", resource: "serviceaccounts", namespace: parts[2], name: parts[3]))
                groups = UserInfo.serviceAccount(namespace: parts[2], name: parts[3]).groups
            } else {
                targets.append(Target(apiGroup: "", resource: "users", name: userName))
            }
        }
        let requestedGroups = request.headers.filter { $0.name == "impersonate-group" }.map(\.value)
        if !requestedGroups.isEmpty {
            // Groups given explicitly replace a service account's implied ones.
            groups = []
            for group in requestedGroups {
                targets.append(Target(apiGroup: "", resource: "groups", name: group))
                groups.append(group)
            }
        }
        let extraPrefix = "impersonate-extra-"
        for header in request.headers where header.name.hasPrefix(extraPrefix) {
            let key = HTTPRequest.percentDecode(
                String(header.name.dropFirst(extraPrefix.count)), plusIsSpace: false)
            targets.append(
                Target(
                    apiGroup: "authentication.k8s.io", resource: "userextras", subresource: key,
                    name: header.value))
        }
        if let uid = request.header("impersonate-uid"), !uid.isEmpty {
            targets.append(Target(apiGroup: "authentication.k8s.io", resource: "uids", name: uid))
        }
        if targets.isEmpty { return nil }
        if userName.isEmpty {
            throw APIError.internalError(
                "requested [\(targets.map(\.description).joined(separator: " "))] without impersonating a user"
            )
        }
        // A named user is always authenticated, unless the request says it is not.
        if userName != "system:anonymous" {
            if !groups.contains("system:authenticated") && !groups.contains("system:unauthenticated") {
                groups.append("system:authenticated")
            }
        } else if !groups.contains("system:unauthenticated") {
            groups.append("system:unauthenticated")
        }
        self.targets = targets
        self.user = UserInfo(name: userName, groups: groups)
    }

    /// The `impersonate` request the requester needs to be allowed for `target`.
    static func requestInfo(for target: Target) -> RequestInfo {
        var info = RequestInfo(method: "GET", path: "", query: { _ in nil })
        info.isResourceRequest = true
        info.verb = "impersonate"
        info.apiGroup = target.apiGroup
        info.apiVersion = "v1"
        info.resource = target.resource
        info.subresource = target.subresource
        info.namespace = target.namespace
        info.name = target.name
        info.pathName = target.name
        return info
    }
}

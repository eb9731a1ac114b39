import Synchronization

/// Maps credentials to users: bearer tokens (the admin token, the policy file's, tokens added at
/// run time or issued through `serviceaccounts/token`) and verified client certificates.
final class Authenticator: Sendable {
    static let adminUser = UserInfo(name: "kubernetes-admin", groups: ["system:masters"])

    private let tokens: Mutex<[String: UserInfo]>
    let adminToken: String
    /// Requests without credentials act as the admin (plain HTTP only).
    let anonymousIsAdmin: Bool

    init(adminToken: String, policy: AccessPolicy, anonymousIsAdmin: Bool) {
        self.adminToken = adminToken
        self.anonymousIsAdmin = anonymousIsAdmin
        var tokens: [String: UserInfo] = [adminToken: Authenticator.adminUser]
        for user in policy.users {
            if let token = user.token { tokens[token] = user.info }
        }
        self.tokens = Mutex(tokens)
    }

    func addToken(_ token: String, user: UserInfo) {
        tokens.withLock { $0[token] = user }
    }

    func removeToken(_ token: String) {
        _ = tokens.withLock { $0.removeValue(forKey: token) }
    }

    /// The user of a request, with `system:authenticated` added; nil when unauthenticated.
    func authenticate(_ request: HTTPRequest) -> UserInfo? {
        var user: UserInfo?
        if let header = request.header("authorization") {
            let parts = header.split(separator: " ", maxSplits: 1)
            if parts.count == 2, parts[0].lowercased() == "bearer" {
                let token = String(parts[1]).trimmingSpaces
                user = tokens.withLock { $0[token] }
                // A wrong token is refused even when a certificate is presented.
                if user == nil { return nil }
            } else {
                return nil
            }
        } else if let subject = request.clientCertificate, !subject.commonName.isEmpty {
            user = UserInfo(name: subject.commonName, groups: subject.organizations)
        } else if anonymousIsAdmin {
            user = Authenticator.adminUser
        }
        guard var user else { return nil }
        if !user.groups.contains("system:authenticated") { user.groups.append("system:authenticated") }
        return user
    }

    func isAdmin(token: String) -> Bool { token == adminToken }
}

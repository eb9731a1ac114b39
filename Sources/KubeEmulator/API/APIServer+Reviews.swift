import Foundation
import JSONValue
import TimeFormat

/// The review resources (`kubectl auth can-i`, `kubectl auth whoami`) and service account tokens
/// (`kubectl create token`), answered from the emulator's own authenticator and authorizer.
extension APIServer {
    /// The answer to a review create, or nil when `resource` is not a review.
    func review(_ resource: APIResource, body: JSON, user: UserInfo, namespace: String) async throws(APIError)
        -> JSON?
    {
        let reviewKinds = [
            "SelfSubjectAccessReview", "SubjectAccessReview", "LocalSubjectAccessReview", "SelfSubjectReview",
            "SelfSubjectRulesReview", "TokenReview",
        ]
        guard reviewKinds.contains(resource.kind) else { return nil }
        var answer = body
        answer["kind"] = .string(resource.kind)
        answer["apiVersion"] = .string(resource.apiVersion)
        answer["metadata"] = ["creationTimestamp": .null]
        let rbac = await store.rbacSnapshot()
        switch resource.kind {
        case "SelfSubjectReview":
            answer["status"] = ["userInfo": userJSON(user)]
        case "TokenReview":
            let token = body[path: "spec", "token"]?.stringValue ?? ""
            let request = HTTPRequest(
                method: "GET", uri: "/", headers: [("Authorization", "Bearer \(token)")], body: [])
            if let reviewed = authenticator.authenticate(request) {
                answer["status"] = ["authenticated": true, "user": userJSON(reviewed)]
            } else {
                answer["status"] = ["authenticated": false, "error": "invalid bearer token"]
            }
        case "SelfSubjectRulesReview":
            let scope = body[path: "spec", "namespace"]?.stringValue ?? ""
            var resourceRules: [JSON] = []
            var nonResourceRules: [JSON] = []
            let everything =
                user.groups.contains("system:masters")
                ? [
                    AccessRule(verbs: ["*"], apiGroups: ["*"], resources: ["*"]),
                    AccessRule(verbs: ["*"], nonResourceURLs: ["*"]),
                ]
                : []
            for rule in everything + Authorizer.authenticatedRules
                + authorizer.rules(for: user, namespace: scope, rbac: rbac)
            where rule.namespaces.isEmpty || rule.namespaces.contains(scope) {
                if rule.nonResourceURLs.isEmpty {
                    var entry: JSON = [
                        "verbs": .array(rule.verbs.map { .string($0) }),
                        "apiGroups": .array(rule.apiGroups.map { .string($0) }),
                        "resources": .array(rule.resources.map { .string($0) }),
                    ]
                    if !rule.resourceNames.isEmpty {
                        entry["resourceNames"] = .array(rule.resourceNames.map { .string($0) })
                    }
                    resourceRules.append(entry)
                } else {
                    nonResourceRules.append([
                        "verbs": .array(rule.verbs.map { .string($0) }),
                        "nonResourceURLs": .array(rule.nonResourceURLs.map { .string($0) }),
                    ])
                }
            }
            answer["status"] = [
                "resourceRules": .array(resourceRules), "nonResourceRules": .array(nonResourceRules),
                "incomplete": false,
            ]
        default:
            var subject = user
            if resource.kind != "SelfSubjectAccessReview" {
                subject = UserInfo(
                    name: body[path: "spec", "user"]?.stringValue ?? "",
                    groups: (body[path: "spec", "groups"]?.arrayValue ?? []).compactMap(\.stringValue))
            }
            var info: RequestInfo
            if let attributes = body[path: "spec", "resourceAttributes"] {
                info = RequestInfo(method: "GET", path: "/", query: { _ in nil })
                info.isResourceRequest = true
                info.verb = attributes["verb"]?.stringValue ?? ""
                info.apiGroup = attributes["group"]?.stringValue ?? ""
                info.apiVersion = attributes["version"]?.stringValue ?? ""
                info.resource = attributes["resource"]?.stringValue ?? ""
                info.subresource = attributes["subresource"]?.stringValue ?? ""
                info.name = attributes["name"]?.stringValue ?? ""
                info.namespace =
                    resource.kind == "LocalSubjectAccessReview"
                    ? namespace : attributes["namespace"]?.stringValue ?? ""
            } else if let attributes = body[path: "spec", "nonResourceAttributes"] {
                info = RequestInfo(
                    method: "GET", path: attributes["path"]?.stringValue ?? "", query: { _ in nil })
                info.verb = attributes["verb"]?.stringValue ?? ""
            } else {
                throw APIError.invalid(
                    group: resource.group, kind: resource.kind, name: "",
                    [
                        .invalid(
                            "spec.resourceAttributes", .string(""),
                            "exactly one of nonResourceAttributes or resourceAttributes must be specified")
                    ])
            }
            let allowed = authorizer.allows(subject, info, rbac: rbac)
            answer["status"] =
                allowed
                ? ["allowed": true, "reason": "allowed by the emulator's policy"] : ["allowed": false]
        }
        return answer
    }

    private func userJSON(_ user: UserInfo) -> JSON {
        ["username": .string(user.name), "groups": .array(user.groups.map { .string($0) })]
    }

    /// `serviceaccounts/<name>/token`: a bearer token that authenticates as the service account.
    func issueToken(_ body: JSON, namespace: String, serviceAccount: String) async throws(APIError) -> JSON {
        guard let accounts = catalog.resource(group: "", version: "v1", name: "serviceaccounts") else {
            throw APIError.notFoundPath()
        }
        _ = try await store.get(accounts, namespace: namespace, name: serviceAccount)
        let seconds = body[path: "spec", "expirationSeconds"]?.intValue ?? 3600
        let token = "emulator-sa." + ObjectMetaRules.newUID().replacingOccurrences(of: "-", with: "")
        authenticator.addToken(token, user: .serviceAccount(namespace: namespace, name: serviceAccount))
        var answer = body
        answer["kind"] = "TokenRequest"
        answer["apiVersion"] = "authentication.k8s.io/v1"
        answer["metadata"] = [
            "name": .string(serviceAccount), "namespace": .string(namespace), "creationTimestamp": .null,
        ]
        answer[path: "spec", "expirationSeconds"] = .int(seconds)
        if answer[path: "spec", "audiences"] == nil {
            answer[path: "spec", "audiences"] = ["https://kubernetes.default.svc"]
        }
        answer["status"] = [
            "token": .string(token),
            "expirationTimestamp": .string(Clock.timestamp(UnixTime.now() + .seconds(seconds))),
        ]
        return answer
    }
}

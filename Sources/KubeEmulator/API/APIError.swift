import JSONValue

/// A failed API call, written to the client as a `Status` object exactly as the real API server
/// writes it (`k8s.io/apimachinery/pkg/api/errors`), so that clients classify it the same way.
public struct APIError: Error, Sendable, Equatable, CustomStringConvertible {
    /// HTTP status code, also written to `Status.code`.
    public var code: Int
    /// `Status.reason`: NotFound, AlreadyExists, Conflict, Invalid, Forbidden, ...
    public var reason: String
    public var message: String
    /// `Status.details`, when the real server writes them.
    public var details: JSON?
    /// Seconds for a `Retry-After` header (429, 503, some 504).
    public var retryAfterSeconds: Int?
    /// `Status.metadata.continue`: the token a 410 for a compacted continue token offers.
    var continueToken: String?

    public init(
        code: Int, reason: String, message: String, details: JSON? = nil, retryAfterSeconds: Int? = nil
    ) {
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details
        self.retryAfterSeconds = retryAfterSeconds
    }

    public var description: String { "\(code) \(reason): \(message)" }

    /// The `Status` object of this error.
    public var status: JSON {
        var status: JSON = [
            "kind": "Status", "apiVersion": "v1", "metadata": [:], "status": "Failure",
            "message": .string(message), "code": .int(code),
        ]
        if !reason.isEmpty { status["reason"] = .string(reason) }
        if let details { status["details"] = details }
        if let continueToken { status["metadata"] = ["continue": .string(continueToken)] }
        return status
    }
}

// MARK: - The constructors of apimachinery's `errors` package

extension APIError {
    static func detailsFor(_ resource: GroupResource, name: String) -> JSON {
        var details: JSON = [:]
        if !name.isEmpty { details["name"] = .string(name) }
        if !resource.group.isEmpty { details["group"] = .string(resource.group) }
        details["kind"] = .string(resource.resource)
        return details
    }

    static func notFound(_ resource: GroupResource, _ name: String) -> APIError {
        APIError(
            code: 404, reason: "NotFound", message: "\(resource) \"\(name)\" not found",
            details: detailsFor(resource, name: name))
    }

    static func alreadyExists(_ resource: GroupResource, _ name: String) -> APIError {
        APIError(
            code: 409, reason: "AlreadyExists", message: "\(resource) \"\(name)\" already exists",
            details: detailsFor(resource, name: name))
    }

    /// A stale `resourceVersion` or a failed precondition.
    static func conflict(_ resource: GroupResource, _ name: String, _ why: String) -> APIError {
        APIError(
            code: 409, reason: "Conflict",
            message: "Operation cannot be fulfilled on \(resource) \"\(name)\": \(why)",
            details: detailsFor(resource, name: name))
    }

    static let staleObjectMessage =
        "the object has been modified; please apply your changes to the latest version and try again"

    static func forbidden(_ resource: GroupResource, _ name: String, _ why: String) -> APIError {
        let message: String
        if resource.resource.isEmpty {
            message = "forbidden: \(why)"
        } else if name.isEmpty {
            message = "\(resource) is forbidden: \(why)"
        } else {
            message = "\(resource) \"\(name)\" is forbidden: \(why)"
        }
        var details: JSON = ["kind": .string(resource.resource)]
        if !name.isEmpty { details["name"] = .string(name) }
        if !resource.group.isEmpty { details["group"] = .string(resource.group) }
        return APIError(code: 403, reason: "Forbidden", message: message, details: details)
    }

    /// 422 with one cause per field error; `kind` is the Kind (not the resource), as the real
    /// server reports it.
    static func invalid(group: String, kind: String, name: String, _ errors: [FieldError]) -> APIError {
        let qualifiedKind = group.isEmpty ? kind : "\(kind).\(group)"
        let unique = errors.uniquedByText()
        let aggregate =
            unique.count == 1
            ? unique[0].text : "[" + unique.map(\.text).joined(separator: ", ") + "]"
        var details: JSON = ["name": .string(name), "kind": .string(kind)]
        if !group.isEmpty { details["group"] = .string(group) }
        details["causes"] = .array(
            errors.map { error in
                [
                    "reason": .string(error.type.rawValue), "message": .string(error.body),
                    "field": .string(error.field),
                ]
            })
        return APIError(
            code: 422, reason: "Invalid", message: "\(qualifiedKind) \"\(name)\" is invalid: \(aggregate)",
            details: details)
    }

    static func badRequest(_ message: String) -> APIError {
        APIError(code: 400, reason: "BadRequest", message: message)
    }

    static func methodNotAllowed(
        _ message: String = "the server does not allow this method on the requested resource"
    )
        -> APIError
    {
        APIError(code: 405, reason: "MethodNotAllowed", message: message)
    }

    static func internalError(_ message: String) -> APIError {
        APIError(
            code: 500, reason: "InternalError",
            message: "Internal error occurred: \(message)",
            details: ["causes": [["message": .string(message)]]])
    }

    static let unauthorized = APIError(code: 401, reason: "Unauthorized", message: "Unauthorized")

    static func notFoundPath() -> APIError {
        APIError(
            code: 404, reason: "NotFound", message: "the server could not find the requested resource",
            details: [:])
    }

    static func expired(_ message: String) -> APIError {
        APIError(code: 410, reason: "Expired", message: message)
    }

    /// A continue token whose revision was compacted, with one that continues the list at the
    /// latest revision (the etcd storage's `handleCompactedErrorForPaging`).
    static func expiredContinue(inconsistentToken: String) -> APIError {
        var error = APIError.expired(
            "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list."
        )
        error.continueToken = inconsistentToken
        return error
    }

    /// A request for a resourceVersion the server has not reached, after waiting for it
    /// (`storage.NewTooLargeResourceVersionError`).
    static func tooLargeResourceVersion(_ requested: Int, current: Int) -> APIError {
        APIError(
            code: 504, reason: "Timeout",
            message: "Too large resource version: \(requested), current: \(current)",
            details: [
                "causes": [["reason": "ResourceVersionTooLarge", "message": "Too large resource version"]],
                "retryAfterSeconds": 1,
            ],
            retryAfterSeconds: 1)
    }

    static func gone(_ message: String) -> APIError {
        APIError(code: 410, reason: "Gone", message: message)
    }

    static func unsupportedMediaType(_ contentType: String) -> APIError {
        APIError(
            code: 415, reason: "UnsupportedMediaType",
            message:
                "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf"
        )
    }

    static func notAcceptable() -> APIError {
        APIError(
            code: 406, reason: "NotAcceptable",
            message:
                "only the following media types are accepted: application/json, application/yaml, application/vnd.kubernetes.protobuf"
        )
    }

    static func tooManyRequests(retryAfter: Int) -> APIError {
        APIError(
            code: 429, reason: "TooManyRequests", message: "Too many requests, please try again later.",
            details: ["retryAfterSeconds": .int(retryAfter)], retryAfterSeconds: retryAfter)
    }

    static func serviceUnavailable(retryAfter: Int?) -> APIError {
        APIError(
            code: 503, reason: "ServiceUnavailable",
            message: "The server is currently unable to handle the request",
            details: retryAfter.map { ["retryAfterSeconds": .int($0)] }, retryAfterSeconds: retryAfter)
    }

    static func requestEntityTooLarge(_ message: String) -> APIError {
        APIError(code: 413, reason: "RequestEntityTooLarge", message: "Request entity too large: \(message)")
    }
}

/// A `group` + `resource` pair; prints as `resource` or `resource.group`, as in the real messages.
public struct GroupResource: Sendable, Hashable, CustomStringConvertible {
    public var group: String
    public var resource: String

    public init(group: String, resource: String) {
        self.group = group
        self.resource = resource
    }

    public var description: String { group.isEmpty ? resource : "\(resource).\(group)" }
}

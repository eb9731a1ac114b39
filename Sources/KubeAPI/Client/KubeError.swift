/// A failed Kubernetes call or configuration, typed so that callers (the CLI, the agent) can
/// choose an exit code or a retry by `category`. The message says what happened and what to
/// do; it never holds a token, key or secret value.
public struct KubeError: Error, Sendable, CustomStringConvertible, Equatable {
    /// What kind of failure this is.
    public enum Category: String, Sendable, Equatable {
        /// 404: the object (or namespace, or API) does not exist.
        case notFound
        /// 409 on an update: the object changed since it was read (stale `resourceVersion`).
        case conflict
        /// 409 on a create: an object of that name exists.
        case alreadyExists
        /// 400 or 422: the server refused the request or the object as malformed.
        case invalid
        /// 403: the credentials are valid but lack the permission.
        case forbidden
        /// 401: the credentials were refused (expired, wrong, or missing).
        case unauthorized
        /// The server could not be reached (refused, no route, DNS, TLS handshake).
        case unreachable
        /// The server did not answer in time.
        case timeout
        /// 410: the requested `resourceVersion` or `continue` token is too old.
        case gone
        /// 429 after every retry: the server is rate-limiting this client.
        case throttled
        /// 5xx after every retry, or a response the client could not understand.
        case server
        /// The kubeconfig, in-cluster files or credential plugin are missing or wrong.
        case configuration
        /// The calling task was cancelled.
        case cancelled
    }

    public var category: Category
    public var message: String
    /// The HTTP status, when the server answered.
    public var httpStatus: Int?
    /// The server's `Status.reason` (e.g. `NotFound`, `Conflict`), when it sent one.
    public var reason: String?

    public init(_ category: Category, _ message: String, httpStatus: Int? = nil, reason: String? = nil) {
        self.category = category
        self.message = message
        self.httpStatus = httpStatus
        self.reason = reason
    }

    public var description: String { message }

    /// The exit code the CLI documents for this category: 1 local input or configuration,
    /// 2 not found, 3 conflict, 4 denied, 5 unreachable, 6 rejected by validation.
    public var exitCode: Int32 {
        switch category {
        case .configuration, .cancelled: return 1
        case .notFound: return 2
        case .conflict, .alreadyExists: return 3
        case .unauthorized, .forbidden: return 4
        case .unreachable, .timeout, .throttled, .server, .gone: return 5
        case .invalid: return 6
        }
    }

    /// Whether retrying the same call later could succeed without a change of input.
    public var isTransient: Bool {
        switch category {
        case .unreachable, .timeout, .throttled, .server: return true
        default: return false
        }
    }
}

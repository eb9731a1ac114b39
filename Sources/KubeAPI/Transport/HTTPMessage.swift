import Sealing

/// An HTTP method the transport sends.
enum HTTPMethod: String, Sendable {
    case get = "GET"
    case post = "POST"
    case put = "PUT"
    case patch = "PATCH"
    case delete = "DELETE"
    case head = "HEAD"

    /// Safe methods: retrying them after a 5xx or a broken connection cannot apply a change twice.
    var isIdempotent: Bool { self == .get || self == .head }
}

/// One request as the transport sends it. Credentials are added by the transport from
/// `RequestCredentials`, never stored here, so a request can be logged.
struct HTTPRequest: Sendable {
    var method: HTTPMethod
    /// Path and query, e.g. `/api/v1/namespaces/default/secrets?limit=50`.
    var pathAndQuery: String
    var headers: [(name: String, value: String)] = []
    var body: [UInt8]?
    /// A body that carries secret values (a Secret's `data`), used instead of `body`: libcurl
    /// reads it where it lies, in locked memory that is zeroed when released.
    var sensitiveBody: SecureBytes?
    /// Collect the response in secure memory (`HTTPResponse.sensitiveBody`), for answers that
    /// carry secret values.
    var sensitiveResponse = false
    /// Whole-transfer time limit; `nil` for streams that may stay open (watches, log follow).
    var timeout: Duration?

    init(
        method: HTTPMethod, pathAndQuery: String, headers: [(name: String, value: String)] = [],
        body: [UInt8]? = nil, timeout: Duration? = nil
    ) {
        self.method = method
        self.pathAndQuery = pathAndQuery
        self.headers = headers
        self.body = body
        self.timeout = timeout
    }

    /// The path without the query, for log lines (queries are not secret, but long).
    var path: Substring { pathAndQuery.split(separator: "?", maxSplits: 1).first ?? "" }
}

/// Status line and headers of a response (names lower-cased).
struct HTTPResponseHead: Sendable {
    var status: Int
    var headers: [String: String]

    func header(_ name: String) -> String? { headers[name.lowercased()] }
}

/// A complete response.
struct HTTPResponse: Sendable {
    var head: HTTPResponseHead
    /// The body; empty for a successful response collected in secure memory.
    var body: [UInt8]
    /// The body of a successful response to a request with `sensitiveResponse`.
    var sensitiveBody: SecureBytes? = nil

    var status: Int { head.status }
}

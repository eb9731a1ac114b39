import JSONValue
import Logging
import TimeFormat

/// A Kubernetes API client, shared by many tasks: typed and generic calls (get, list, create,
/// replace, patch, delete, watch, pod logs) over one pool of libcurl connections, with the
/// configured authentication, retries and typed `KubeError`s.
///
/// Every write carries `fieldManager=beluga-secrets`; every request a `User-Agent` of
/// `beluga-secrets/<version> (<os>/<arch>)`. Requests are logged at debug level (method, path,
/// status, duration: never headers or bodies).
public final class KubeClient: Sendable {
    public let configuration: ClientConfiguration
    /// The field manager named on writes.
    public let fieldManager: String
    let transport: any KubeTransport
    let authenticator: Authenticator
    let logger: Logger
    let requestObserver: RequestObserver?

    /// Told of the outcome of every request the client sends, retries included: the HTTP status,
    /// or `nil` when no answer came. One place to count requests (the agent's metrics).
    public typealias RequestObserver = @Sendable (_ status: Int?) -> Void

    public convenience init(
        configuration: ClientConfiguration, fieldManager: String = "beluga-secrets",
        logger: Logger = Logger(label: "beluga-secrets.kubeapi"), requestObserver: RequestObserver? = nil
    ) throws(KubeError) {
        try self.init(
            configuration: configuration, transport: CurlTransport(configuration: configuration.transport),
            fieldManager: fieldManager, logger: logger, requestObserver: requestObserver)
    }

    /// A client that sends through `transport` (tests put one in front of libcurl's).
    init(
        configuration: ClientConfiguration, transport: any KubeTransport,
        fieldManager: String = "beluga-secrets",
        logger: Logger = Logger(label: "beluga-secrets.kubeapi"), requestObserver: RequestObserver? = nil
    ) {
        self.configuration = configuration
        self.fieldManager = fieldManager
        self.logger = logger
        self.transport = transport
        self.requestObserver = requestObserver
        authenticator = Authenticator(configuration: configuration)
    }

    /// A client configured as kubectl would be (see `ClientConfiguration.load`).
    public convenience init(
        options: ClientConfiguration.Options = ClientConfiguration.Options(),
        logger: Logger = Logger(label: "beluga-secrets.kubeapi"), requestObserver: RequestObserver? = nil
    ) throws(KubeError) {
        try self.init(
            configuration: ClientConfiguration.load(options), logger: logger, requestObserver: requestObserver
        )
    }

    /// The namespace used when a call names none.
    public var namespace: String { configuration.namespace }

    /// How many times the exec credential plugin has run (0 without one).
    public var execPluginRuns: Int { get async { await authenticator.execPluginRuns } }

    /// How many connections the client has opened (tests check keep-alive with it).
    var openedConnections: Int { transport.openedConnections }

    // MARK: - Sending

    /// Sends a request with authentication, retries and a renewed credential after a 401;
    /// returns the response whatever its status.
    func send(_ request: HTTPRequest, _ description: RequestDescription) async throws(KubeError)
        -> HTTPResponse
    {
        let policy = configuration.retryPolicy
        var attempt = 0
        var renewedCredentials = false
        while true {
            attempt += 1
            if Task.isCancelled {
                throw KubeError(.cancelled, "cancelled before \(description.verb) \(description.target)")
            }
            let credentials = try await authenticator.credentials()
            let started = ContinuousClock.now
            let outcome: Result<HTTPResponse, TransportError>
            do {
                outcome = .success(try await transport.send(request, credentials: credentials))
            } catch {
                outcome = .failure(error)
            }
            let elapsed = ContinuousClock.now - started
            var retryAfter: Duration?
            var retryable: Bool
            switch outcome {
            case .success(let response):
                log(request, status: response.status, elapsed: elapsed, attempt: attempt)
                requestObserver?(response.status)
                if response.status == 401, !renewedCredentials, await authenticator.renewAfterUnauthorized() {
                    renewedCredentials = true
                    attempt -= 1  // a renewed credential is a new start, not a retry
                    continue
                }
                switch response.status {
                case 429:
                    retryable = true
                    retryAfter = RetryPolicy.parseRetryAfter(response.head.header("retry-after"))
                case 500, 502, 503, 504:
                    retryable = request.method.isIdempotent
                    retryAfter = RetryPolicy.parseRetryAfter(response.head.header("retry-after"))
                default:
                    return response
                }
                if !retryable || attempt >= policy.maximumAttempts { return response }
            case .failure(let error):
                log(request, error: error, elapsed: elapsed, attempt: attempt)
                requestObserver?(nil)
                switch error.kind {
                case .connect: retryable = true
                case .timeout, .connectionLost: retryable = request.method.isIdempotent
                case .tls, .cancelled, .setup: retryable = false
                }
                if !retryable || attempt >= policy.maximumAttempts {
                    throw ErrorMapping.fromTransport(
                        error, identity: configuration.identity, configuration: configuration.transport)
                }
            }
            let delay = policy.delay(beforeRetry: attempt, retryAfter: retryAfter)
            logger.debug(
                "retrying request",
                metadata: [
                    "method": "\(request.method.rawValue)", "path": "\(request.path)",
                    "attempt": "\(attempt + 1)",
                    "delay_ms": "\(delay.inMilliseconds)",
                ])
            do {
                try await Task.sleep(for: delay)
            } catch {
                throw KubeError(
                    .cancelled, "cancelled while waiting to retry \(description.verb) \(description.target)")
            }
        }
    }

    /// Sends and requires a 2xx answer; returns its body as JSON.
    func sendExpectingJSON(_ request: HTTPRequest, _ description: RequestDescription) async throws(KubeError)
        -> JSON
    {
        let response = try await send(request, description)
        guard (200..<300).contains(response.status) else { throw error(for: response, description) }
        if response.body.isEmpty { return .object([:]) }
        do {
            return try JSON(parsing: response.body)
        } catch {
            throw KubeError(
                .server,
                "the server answered \(description.verb) \(description.target) with something that is not JSON (\(error.description))"
            )
        }
    }

    func error(for response: HTTPResponse, _ description: RequestDescription) -> KubeError {
        ErrorMapping.fromResponse(
            response, request: description, identity: configuration.identity,
            server: configuration.transport.server,
            credentialsWithheld: authenticator.withheldOverPlainHTTP)
    }

    private func log(
        _ request: HTTPRequest, status: Int? = nil, error: TransportError? = nil, elapsed: Duration,
        attempt: Int
    ) {
        var metadata: Logger.Metadata = [
            "method": "\(request.method.rawValue)", "path": "\(request.path)",
            "duration_ms": "\(elapsed.inMilliseconds)",
        ]
        if let status { metadata["status"] = "\(status)" }
        if let error { metadata["error"] = "\(error.message)" }
        if attempt > 1 { metadata["attempt"] = "\(attempt)" }
        logger.debug("kubernetes request", metadata: metadata)
    }

    // MARK: - Request building

    func resolveNamespace(_ resource: ResourceType, _ namespace: String?) -> String? {
        resource.namespaced ? (namespace ?? configuration.namespace) : nil
    }

    static let jsonHeaders: [(name: String, value: String)] = [("Accept", "application/json")]

    func request(
        _ method: HTTPMethod, _ path: String, query: [(String, String)] = [], body: JSON? = nil,
        contentType: String = "application/json", bodyBytes: [UInt8]? = nil, timeout: Duration? = nil
    ) -> HTTPRequest {
        var headers = Self.jsonHeaders
        let bytes = bodyBytes ?? body?.serialized()
        if bytes != nil { headers.append(("Content-Type", contentType)) }
        return HTTPRequest(
            method: method, pathAndQuery: path + makeQuery(query), headers: headers, body: bytes,
            timeout: timeout ?? configuration.transport.requestTimeout)
    }
}

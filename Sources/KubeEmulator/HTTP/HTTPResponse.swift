import JSONValue

/// What the API layer answers: a complete body, a stream of chunks (watch, followed logs), or
/// nothing at all (the "server stopped answering" fault).
struct HTTPResponse: Sendable {
    enum Body: Sendable {
        case bytes([UInt8])
        /// Chunks written as they arrive, with chunked transfer encoding; the connection closes
        /// when the stream ends.
        case stream(AsyncStream<[UInt8]>)
        /// Never answer; the connection stays open until the client gives up.
        case never
    }

    var status: Int
    var headers: [(String, String)]
    var body: Body

    init(status: Int, headers: [(String, String)] = [], body: Body) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    static func json(_ value: JSON, status: Int = 200) -> HTTPResponse {
        var bytes = value.serialized()
        bytes.append(0x0A)
        return HTTPResponse(
            status: status, headers: [("Content-Type", "application/json")], body: .bytes(bytes))
    }

    static func text(_ text: String, status: Int = 200, contentType: String = "text/plain; charset=utf-8")
        -> HTTPResponse
    {
        HTTPResponse(status: status, headers: [("Content-Type", contentType)], body: .bytes(Array(text.utf8)))
    }

    static func error(_ error: APIError) -> HTTPResponse {
        var response = json(error.status, status: error.code)
        if let retry = error.retryAfterSeconds { response.headers.append(("Retry-After", String(retry))) }
        return response
    }
}

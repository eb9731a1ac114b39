/// What the transport adds to one request to authenticate it. Never logged, never part of an
/// error message.
struct RequestCredentials: Sendable {
    /// The whole `Authorization` header value (`Bearer …` or `Basic …`).
    var authorization: String?
    /// PEM client certificate and key for mutual TLS.
    var clientCertificate: [UInt8]?
    var clientKey: [UInt8]?

    static let none = RequestCredentials()
}

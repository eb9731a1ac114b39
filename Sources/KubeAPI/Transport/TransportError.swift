/// Why a transfer did not produce an HTTP response.
struct TransportError: Error, Sendable {
    enum Kind: Sendable, Equatable {
        /// Nothing was sent: DNS failure, refused or unreachable address. Safe to retry any call.
        case connect
        /// The connect or the whole transfer took longer than allowed.
        case timeout
        /// The TLS handshake failed or the server's certificate was refused.
        case tls
        /// The connection broke after the request may have been sent.
        case connectionLost
        /// The caller cancelled the transfer.
        case cancelled
        /// The local configuration was refused by libcurl (bad proxy URL, unreadable key...).
        case setup
    }

    var kind: Kind
    /// libcurl's explanation (never holds request headers or bodies).
    var message: String
    var curlCode: Int
}

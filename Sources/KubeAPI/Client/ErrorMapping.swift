/// Turns failed responses and transfers into `KubeError`s with messages a person can act on.
enum ErrorMapping {
    static func fromResponse(
        _ response: HTTPResponse, request: RequestDescription, identity: ClientConfiguration.Identity,
        server: String, credentialsWithheld: Bool = false
    ) -> KubeError {
        var error = mapResponse(response, request: request, identity: identity, server: server)
        if credentialsWithheld, error.category == .unauthorized || error.category == .forbidden {
            error.message +=
                "; no credentials were sent, since \(server) is plain HTTP (as kubectl, beluga-secrets sends "
                + "tokens, passwords and client certificates only over HTTPS): use the cluster's https:// address"
        }
        return error
    }

    private static func mapResponse(
        _ response: HTTPResponse, request: RequestDescription, identity: ClientConfiguration.Identity,
        server: String
    ) -> KubeError {
        let status = Status(body: response.body)
        let serverMessage = status?.message ?? shortBody(response)
        let reason = status?.reason
        let code = response.status
        switch code {
        case 401:
            let context = identity.context.map { ", context \"\($0)\"" } ?? ""
            return KubeError(
                .unauthorized,
                "the server \(server) refused the credentials of user \"\(identity.user)\" for cluster \"\(identity.cluster)\"\(context) (\(identity.source)): 401 Unauthorized. The token or certificate may have expired or be wrong: log in again or fix the kubeconfig",
                httpStatus: code, reason: reason)
        case 403:
            let detail = serverMessage.isEmpty ? "" : ": \(serverMessage)"
            return KubeError(
                .forbidden,
                "forbidden: user \"\(identity.user)\" cannot \(request.verb) \(request.target)\(request.namespacePhrase) (check with: \(request.canICommand))\(detail)",
                httpStatus: code, reason: reason)
        case 404:
            let what = serverMessage.isEmpty ? "\(request.target) not found" : serverMessage
            return KubeError(.notFound, "\(what)\(request.namespacePhrase)", httpStatus: code, reason: reason)
        case 409:
            if reason == "AlreadyExists" {
                return KubeError(
                    .alreadyExists,
                    serverMessage.isEmpty ? "\(request.target) already exists" : serverMessage,
                    httpStatus: code, reason: reason)
            }
            if serverMessage.isEmpty || !serverMessage.contains("try again") {
                let base =
                    serverMessage.isEmpty ? "\(request.target) was changed by someone else" : serverMessage
                return KubeError(
                    .conflict, "\(base): read it again and retry", httpStatus: code, reason: reason)
            }
            return KubeError(.conflict, serverMessage, httpStatus: code, reason: reason)
        case 410:
            return KubeError(
                .gone, serverMessage.isEmpty ? "the requested version is too old (410 Gone)" : serverMessage,
                httpStatus: code, reason: reason)
        case 400, 422:
            var message =
                serverMessage.isEmpty
                ? "the server refused to \(request.verb) \(request.target)" : serverMessage
            let causes = status?.causes ?? []
            if !causes.isEmpty, !causes.allSatisfy({ message.contains($0) }) {
                message += " (" + causes.joined(separator: "; ") + ")"
            }
            return KubeError(.invalid, message, httpStatus: code, reason: reason)
        case 429:
            return KubeError(
                .throttled,
                "the server \(server) is rate-limiting requests (429 Too Many Requests) and kept refusing after retries: try again later",
                httpStatus: code, reason: reason)
        default:
            let detail = serverMessage.isEmpty ? "" : ": \(serverMessage)"
            return KubeError(
                .server,
                "the server \(server) failed to \(request.verb) \(request.target) (HTTP \(code))\(detail)",
                httpStatus: code, reason: reason)
        }
    }

    /// The first line of a non-Status body, short (servers and proxies answer in HTML or text).
    private static func shortBody(_ response: HTTPResponse) -> String {
        let contentType = response.head.header("content-type") ?? ""
        guard contentType.hasPrefix("text/plain") else { return "" }
        let text = String(decoding: response.body.prefix(300), as: UTF8.self)
        return text.split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
    }

    static func fromTransport(
        _ error: TransportError, identity: ClientConfiguration.Identity, configuration: TransportConfiguration
    ) -> KubeError {
        let server = configuration.server
        let cluster = "cluster \"\(identity.cluster)\" (\(identity.source))"
        switch error.kind {
        case .connect:
            return KubeError(
                .unreachable,
                "cannot connect to \(server) of \(cluster): \(error.message). Check that the cluster is running and that its server address is right"
            )
        case .timeout:
            return KubeError(
                .timeout,
                "\(server) of \(cluster) did not answer in time (\(error.message)): the server may be overloaded or a firewall may drop the traffic"
            )
        case .tls:
            let advice =
                configuration.certificateAuthority != nil
                ? "the server's certificate is not trusted by the certificate-authority of the cluster, or its name does not match: check certificate-authority(-data) and tls-server-name"
                : "check the cluster's certificate-authority(-data), tls-server-name and client certificate"
            return KubeError(
                .unreachable, "TLS connection to \(server) of \(cluster) failed: \(error.message); \(advice)")
        case .connectionLost:
            return KubeError(
                .unreachable, "the connection to \(server) of \(cluster) broke: \(error.message)")
        case .cancelled:
            return KubeError(.cancelled, "the request to \(server) was cancelled")
        case .setup:
            return KubeError(
                .configuration, "cannot send requests to \(server) of \(cluster): \(error.message)")
        }
    }
}

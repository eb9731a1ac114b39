import Crypto
import Foundation
import NIOSSL
import SwiftASN1
import X509

/// A certificate and its private key, both PEM.
public struct CertificateAndKey: Sendable, Equatable {
    public var certificatePEM: String
    public var privateKeyPEM: String
}

/// A throw-away certificate authority made at start: it signs the server certificate
/// (SAN `127.0.0.1` and `localhost`) and, on request, client certificates whose CN is the user
/// name and whose O entries are its groups, as Kubernetes maps them. P-256 keys, ECDSA-SHA256,
/// which libcurl (OpenSSL 3), Go (kubectl) and BoringSSL all accept.
public final class CertificateAuthority: Sendable {
    let key: P256.Signing.PrivateKey
    let certificate: Certificate
    /// The CA certificate, PEM, as kubeconfig's `certificate-authority-data` carries it.
    public let certificatePEM: String

    public init(commonName: String = "kube-emulator-ca") throws {
        key = P256.Signing.PrivateKey()
        let name = try DistinguishedName { CommonName(commonName) }
        let now = Date()
        certificate = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(),
            publicKey: Certificate.PrivateKey(key).publicKey, notValidBefore: now.addingTimeInterval(-3600),
            notValidAfter: now.addingTimeInterval(10 * 365 * 24 * 3600), issuer: name, subject: name,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: nil))
                Critical(KeyUsage(digitalSignature: true, keyCertSign: true, cRLSign: true))
            },
            issuerPrivateKey: Certificate.PrivateKey(key))
        certificatePEM = try certificate.serializeAsPEM().pemString + "\n"
    }

    /// The server's certificate for 127.0.0.1 and localhost.
    public func issueServerCertificate() throws -> CertificateAndKey {
        let names = SubjectAlternativeNames([
            .dnsName("localhost"), .ipAddress(ASN1OctetString(contentBytes: [127, 0, 0, 1])),
        ])
        return try issue(
            subject: try DistinguishedName { CommonName("kube-apiserver") },
            extraExtensions: [try Certificate.Extension(names, critical: false)], usage: .serverAuth)
    }

    /// A client certificate for `user` (CN) with `groups` (one O each).
    public func issueClientCertificate(user: String, groups: [String] = []) throws -> CertificateAndKey {
        var rdns: [RelativeDistinguishedName] = []
        for group in groups {
            rdns.append(
                RelativeDistinguishedName(
                    RelativeDistinguishedName.Attribute(
                        type: .RDNAttributeType.organizationName, utf8String: group)))
        }
        rdns.append(
            RelativeDistinguishedName(
                RelativeDistinguishedName.Attribute(type: .RDNAttributeType.commonName, utf8String: user))
        )
        return try issue(subject: DistinguishedName(rdns), extraExtensions: [], usage: .clientAuth)
    }

    private func issue(
        subject: DistinguishedName, extraExtensions: [Certificate.Extension], usage: ExtendedKeyUsage.Usage
    ) throws -> CertificateAndKey {
        let leafKey = P256.Signing.PrivateKey()
        let now = Date()
        var extensions = try Certificate.Extensions {
            Critical(BasicConstraints.notCertificateAuthority)
            Critical(KeyUsage(digitalSignature: true, keyEncipherment: false))
            try ExtendedKeyUsage([usage])
        }
        for extraExtension in extraExtensions { try extensions.append(extraExtension) }
        let leaf = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(),
            publicKey: Certificate.PrivateKey(leafKey).publicKey,
            notValidBefore: now.addingTimeInterval(-3600),
            notValidAfter: now.addingTimeInterval(365 * 24 * 3600), issuer: certificate.subject,
            subject: subject,
            signatureAlgorithm: .ecdsaWithSHA256, extensions: extensions,
            issuerPrivateKey: Certificate.PrivateKey(key))
        return CertificateAndKey(
            certificatePEM: try leaf.serializeAsPEM().pemString + "\n",
            privateKeyPEM: leafKey.pemRepresentation + "\n")
    }

    /// The server's TLS context: this CA's server certificate, client certificates optional
    /// but verified against this CA when presented.
    func serverContext() throws -> NIOSSLContext {
        let server = try issueServerCertificate()
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMBytes(Array(server.certificatePEM.utf8)).map {
                .certificate($0)
            },
            privateKey: .privateKey(
                try NIOSSLPrivateKey(bytes: Array(server.privateKeyPEM.utf8), format: .pem)))
        configuration.certificateVerification = .optionalVerification
        configuration.trustRoots = .certificates(
            try NIOSSLCertificate.fromPEMBytes(Array(certificatePEM.utf8)))
        configuration.applicationProtocols = ["h2", "http/1.1"]
        return try NIOSSLContext(configuration: configuration)
    }
}

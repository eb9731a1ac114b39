import Foundation
import KubeEmulator
import Testing
import TestSupport

@testable import KubeAPI

/// HTTPS against the emulator: the kubeconfig's CA, a wrong CA, no CA, skipping verification,
/// `tls-server-name`, and mutual TLS with client-certificate data; the same files for kubectl.
@Suite struct TLSTests {
    func tlsFixture() async throws -> EmulatorFixture {
        try await EmulatorFixture.start(.init(tls: true, rolloutDelay: .milliseconds(50)))
    }

    @Test func certificateAuthorityDataAndFile() async throws {
        try await withStarted(try await tlsFixture()) { fixture in
            let client = try makeClient(kubeconfig: fixture.kubeconfigPath)
            _ = try await client.create(ConfigMap(name: "over-tls"))

            let fixtures = try Fixtures()
            try fixtures.write("pki/ca.crt", fixture.emulator.certificateAuthority?.certificatePEM ?? "")
            let text = try String(contentsOfFile: fixture.kubeconfigPath, encoding: .utf8)
                .split(separator: "\n").map { line in
                    line.contains("certificate-authority-data")
                        ? "    certificate-authority: pki/ca.crt" : String(line)
                }.joined(separator: "\n")
            let path = try fixtures.write("kubeconfig", text)
            let fromFile = try makeClient(kubeconfig: path)
            #expect(try await fromFile.get(ConfigMap.self, name: "over-tls").name == "over-tls")
            let kubectl = try await fixture.kubectl(
                ["get", "configmap", "over-tls", "-o", "name"], kubeconfig: path)
            #expect(kubectl.status == 0, "\(kubectl.stderr)")
        }
    }

    @Test func wrongOrMissingAuthorityIsRefused() async throws {
        try await withStarted(try await tlsFixture()) { fixture in
            let other = try CertificateAuthority(commonName: "someone-else")
            let text = try String(contentsOfFile: fixture.kubeconfigPath, encoding: .utf8)
            let right = Data((fixture.emulator.certificateAuthority?.certificatePEM ?? "").utf8)
                .base64EncodedString()
            let wrong = Data(other.certificatePEM.utf8).base64EncodedString()
            let fixtures = try Fixtures()
            let wrongPath = try fixtures.write("wrong", text.replacingOccurrences(of: right, with: wrong))
            do {
                _ = try await makeClient(kubeconfig: wrongPath).list(ConfigMap.self)
                Issue.record("a server certificate from another CA must be refused")
            } catch let error as KubeError {
                #expect(error.category == .unreachable)
                #expect(error.exitCode == 5)
                #expect(error.message.contains("TLS connection to \(fixture.emulator.url)"))
                #expect(error.message.contains("certificate"), "\(error.message)")
                #expect(error.message.contains("not trusted by the certificate-authority"))
            }
            let kubectl = try await fixture.kubectl(["get", "configmaps"], kubeconfig: wrongPath)
            #expect(kubectl.status != 0, "kubectl refuses the same file")

            let noCA = try fixtures.write(
                "none",
                text.split(separator: "\n").filter { !$0.contains("certificate-authority-data") }.joined(
                    separator: "\n"))
            do {
                _ = try await makeClient(kubeconfig: noCA).list(ConfigMap.self)
                Issue.record("without the CA the system trust store must refuse the emulator")
            } catch let error as KubeError {
                #expect(error.category == .unreachable)
            }
            let insecure = try fixtures.write(
                "insecure",
                text.split(separator: "\n").map { line in
                    line.contains("certificate-authority-data")
                        ? "    insecure-skip-tls-verify: true" : String(line)
                }.joined(separator: "\n"))
            _ = try await makeClient(kubeconfig: insecure).list(ConfigMap.self)
        }
    }

    @Test func tlsServerNameIsWhatTheCertificateIsCheckedAgainst() async throws {
        try await withStarted(try await tlsFixture()) { fixture in
            let text = try String(contentsOfFile: fixture.kubeconfigPath, encoding: .utf8)
            let fixtures = try Fixtures()
            func withServerName(_ name: String) throws -> String {
                try fixtures.write(
                    "k-\(name)",
                    text.replacingOccurrences(
                        of: "    server: \(fixture.emulator.url)\n",
                        with: "    server: \(fixture.emulator.url)\n    tls-server-name: \(name)\n"))
            }
            // The certificate names localhost and 127.0.0.1.
            let good = try withServerName("localhost")
            _ = try await makeClient(kubeconfig: good).list(ConfigMap.self)
            let kubectl = try await fixture.kubectl(["get", "configmaps"], kubeconfig: good)
            #expect(kubectl.status == 0, "\(kubectl.stderr)")
            let wrongName = try withServerName("api.example.com")
            do {
                _ = try await makeClient(kubeconfig: wrongName).list(ConfigMap.self)
                Issue.record("a name the certificate does not hold must be refused")
            } catch let error as KubeError {
                #expect(error.category == .unreachable, "\(error.message)")
            }
        }
    }

    @Test func mutualTLSWithClientCertificateData() async throws {
        try await withStarted(try await tlsFixture()) { fixture in
            let admin = try fixture.kubeconfig(certificateUser: "carol", groups: ["system:masters"])
            let client = try makeClient(kubeconfig: admin)
            _ = try await client.create(ConfigMap(name: "by-certificate"))
            let kubectl = try await fixture.kubectl(
                ["get", "configmap", "by-certificate", "-o", "name"], kubeconfig: admin)
            #expect(kubectl.status == 0, "\(kubectl.stderr)")
            #expect(kubectl.stdout.contains("configmap/by-certificate"))

            // A valid certificate without permissions: authenticated (403, not 401), named.
            let nobody = try fixture.kubeconfig(certificateUser: "dave")
            do {
                _ = try await makeClient(kubeconfig: nobody).list(Secret.self)
                Issue.record("expected 403")
            } catch let error as KubeError {
                #expect(error.category == .forbidden, "\(error.message)")
                #expect(error.message.contains("cannot list secrets"))
            }
            // Without a client certificate or token the server answers 401.
            let text = try String(contentsOfFile: admin, encoding: .utf8).split(separator: "\n")
                .filter { !$0.contains("client-") }.joined(separator: "\n")
            let fixtures = try Fixtures()
            let anonymous = try fixtures.write("anon", text + "\n")
            do {
                _ = try await makeClient(kubeconfig: anonymous).list(Secret.self)
                Issue.record("expected 401")
            } catch let error as KubeError {
                #expect(error.category == .unauthorized)
            }
        }
    }
}

import Foundation
import Testing

@testable import KubeAPI

@Suite struct InClusterConfigurationTests {
    func serviceAccount(_ fixtures: Fixtures, token: String = "sa-token-1", namespace: String? = "beluga")
        throws -> String
    {
        try fixtures.write("sa/token", token)
        try fixtures.write("sa/ca.crt", "CA-BYTES")
        if let namespace { try fixtures.write("sa/namespace", namespace + "\n") }
        return fixtures.path + "/sa"
    }

    let environment = ["KUBERNETES_SERVICE_HOST": "10.96.0.1", "KUBERNETES_SERVICE_PORT": "443"]

    @Test func readsServiceAccountFolderAndEnvironment() throws {
        let fixtures = try Fixtures()
        let folder = try serviceAccount(fixtures)
        let configuration = try InClusterConfiguration.load(
            serviceAccountDirectory: folder, environment: environment)
        #expect(configuration.transport.server == "https://10.96.0.1:443")
        #expect(configuration.transport.certificateAuthority == Array("CA-BYTES".utf8))
        #expect(configuration.namespace == "beluga")
        guard case .tokenFile(let path) = configuration.authentication else {
            Issue.record("expected the token file")
            return
        }
        #expect(path == folder + "/token")
        let ipv6 = try InClusterConfiguration.load(
            serviceAccountDirectory: folder,
            environment: ["KUBERNETES_SERVICE_HOST": "fd00::1", "KUBERNETES_SERVICE_PORT": "6443"])
        #expect(ipv6.transport.server == "https://[fd00::1]:6443")
        #expect(
            try InClusterConfiguration.load(
                serviceAccountDirectory: folder, environment: environment, namespace: "x"
            )
            .namespace == "x")
    }

    @Test func isTheFallbackWithoutAKubeconfig() throws {
        let fixtures = try Fixtures()
        let folder = try serviceAccount(fixtures, namespace: nil)
        var env = isolatedEnvironment(home: fixtures.path + "/home")
        env.merge(environment) { $1 }
        let configuration = try ClientConfiguration.load(
            .init(environment: env, serviceAccountDirectory: folder))
        #expect(configuration.identity.cluster == "in-cluster")
        #expect(configuration.namespace == "default")
    }

    @Test func missingEnvironmentOrToken() throws {
        let fixtures = try Fixtures()
        #expect(throws: KubeError.self) {
            try InClusterConfiguration.load(serviceAccountDirectory: fixtures.path, environment: [:])
        }
        do {
            _ = try InClusterConfiguration.load(
                serviceAccountDirectory: fixtures.path + "/none", environment: environment)
            Issue.record("expected an error")
        } catch {
            #expect(error.category == .configuration)
            #expect(error.message.contains(fixtures.path + "/none/token"))
            #expect(error.message.contains("service account"))
        }
    }

    @Test func tokenFileIsReadAgainAfterTheRefreshInterval() async throws {
        let fixtures = try Fixtures()
        let path = try fixtures.write("token", "first\n")
        let source = TokenFileSource(path: path, refreshInterval: .milliseconds(300))
        #expect(try await source.current().value == "first")
        try fixtures.write("token", "second")
        #expect(try await source.current().value == "first", "cached within the interval")
        try await Task.sleep(for: .milliseconds(350))
        #expect(try await source.current().value == "second")
        try fixtures.write("token", "third")
        await source.invalidate()
        #expect(try await source.current().value == "third", "read again at once after a 401")
        try FileManager.default.removeItem(atPath: path)
        await source.invalidate()
        #expect(try await source.current().value == "third", "a briefly missing file keeps the last token")
    }
}

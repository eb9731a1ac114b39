import Foundation
import Testing
import TimeFormat

@testable import KubeAPI

@Suite struct UnreachableServerTests {
    func client(server: String, timeout: Duration = .seconds(1), attempts: Int = 2) throws -> KubeClient {
        var configuration = ClientConfiguration(
            transport: TransportConfiguration(
                server: server, connectTimeout: timeout, requestTimeout: timeout),
            authentication: .bearerToken(Sensitive("do-not-print-me")),
            identity: .init(context: "ctx", cluster: "lab", user: "alice", source: "/tmp/kubeconfig"))
        configuration.retryPolicy = RetryPolicy(maximumAttempts: attempts, initialBackoff: .milliseconds(10))
        return try KubeClient(configuration: configuration)
    }

    @Test func refusedConnectionIsUnreachable() async throws {
        let port = try SilentListener.closedPort()
        let client = try client(server: "http://127.0.0.1:\(port)")
        do {
            _ = try await client.get(Secret.self, name: "s")
            Issue.record("expected an error")
        } catch {
            #expect(error.category == .unreachable)
            #expect(error.exitCode == 5)
            #expect(error.message.contains("cannot connect to http://127.0.0.1:\(port)"), "\(error.message)")
            #expect(error.message.contains("cluster \"lab\""))
            #expect(!error.message.contains("do-not-print-me"))
        }
    }

    @Test func silentServerTimesOutAndReadsAreRetried() async throws {
        let listener = try SilentListener()
        listener.acceptConnections()
        defer { listener.stop() }
        let client = try client(
            server: "http://127.0.0.1:\(listener.port)", timeout: .milliseconds(500), attempts: 2)
        let started = ContinuousClock.now
        do {
            _ = try await client.list(ConfigMap.self)
            Issue.record("expected a time-out")
        } catch {
            #expect(error.category == .timeout, "\(error.message)")
            #expect(error.message.contains("did not answer in time"))
            #expect(error.exitCode == 5)
        }
        #expect(ContinuousClock.now - started >= .milliseconds(900), "two attempts of 0.5 s each")
        #expect(listener.connections == 2, "a read is tried again")
    }

    @Test func writesAreNotRetriedAfterATimeout() async throws {
        let listener = try SilentListener()
        listener.acceptConnections()
        defer { listener.stop() }
        let client = try client(
            server: "http://127.0.0.1:\(listener.port)", timeout: .milliseconds(400), attempts: 5)
        await #expect(throws: KubeError.self) {
            _ = try await client.create(ConfigMap(name: "c"))
        }
        #expect(listener.connections == 1, "a POST that may have arrived is not repeated")
    }

    @Test func cancellationStopsAWaitingRequest() async throws {
        let listener = try SilentListener()
        let client = try client(
            server: "http://127.0.0.1:\(listener.port)", timeout: .seconds(1800), attempts: 1)
        let started = ContinuousClock.now
        let task = Task { try await client.get(Secret.self, name: "x") }
        try await Task.sleep(for: .milliseconds(200))
        task.cancel()
        let result = await task.result
        // The outcome shows the cancellation: the request's own limit is half an hour, and it
        // ends as cancelled, not timed out. The bound only keeps a broken build from hanging.
        #expect(ContinuousClock.now - started < .seconds(900))
        guard case .failure(let error as KubeError) = result else {
            Issue.record("expected a cancelled error")
            return
        }
        #expect(error.category == .cancelled)
    }

    @Test func retryAfterIsParsed() {
        #expect(RetryPolicy.parseRetryAfter("3") == .seconds(3))
        #expect(RetryPolicy.parseRetryAfter(nil) == nil)
        let now = UnixTime(seconds: 1_700_000_000)
        let later = RetryPolicy.parseRetryAfter("Tue, 14 Nov 2023 22:13:30 GMT", now: now)
        #expect(later == .seconds(10))
        #expect(RetryPolicy.parseRetryAfter(" Tue, 14 Nov 2023 22:13:10 GMT ", now: now) == .zero)
        #expect(RetryPolicy.parseRetryAfter("Tue, 14 Nov 2023 22:13:30 UTC", now: now) == nil)
        let policy = RetryPolicy(initialBackoff: .milliseconds(100), maximumBackoff: .seconds(1))
        for retry in 1...8 {
            let delay = policy.delay(beforeRetry: retry, retryAfter: nil)
            #expect(delay <= .seconds(1))
            #expect(delay >= .milliseconds(50))
        }
        #expect(policy.delay(beforeRetry: 1, retryAfter: .seconds(2)) >= .seconds(2))
        #expect(policy.delay(beforeRetry: 1, retryAfter: .seconds(600)) <= .seconds(31))
    }
}

import Foundation
import KubeEmulator
import Synchronization
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Clients that keep connecting while the server stops: a server must never crash on a late
/// connection, and must refuse connections once stopped.
@Suite("shutdown")
struct ShutdownTests {
    @Test("connections arriving while the emulator stops neither crash it nor keep it running")
    func connectDuringShutdown() async throws {
        for _ in 0..<30 {
            let emulator = try await KubeEmulator.start()
            let clients = ConnectingClients(port: emulator.port, threads: 4)
            // Stop only once connections are arriving, so that some land during the shutdown.
            await clients.waitUntilConnected(atLeast: 8)
            await emulator.stop()
            let afterStop = clients.stop()
            #expect(afterStop.connected >= 8)
            #expect(ConnectingClients.connect(port: emulator.port) == .refused)
        }
    }
}

/// Threads that open TCP connections to 127.0.0.1:port in a loop, each sending the start of an
/// HTTP request before closing, until stopped.
final class ConnectingClients: Sendable {
    enum Outcome: Equatable { case connected, refused, failed }

    private let running = Atomic<Bool>(true)
    private let connectedCount = Atomic<Int>(0)
    private let finishedThreads = Atomic<Int>(0)
    private let threadCount: Int

    init(port: Int, threads: Int) {
        threadCount = threads
        for _ in 0..<threads {
            let thread = Thread { [self] in
                while running.load(ordering: .relaxed) {
                    if ConnectingClients.connect(port: port) == .connected {
                        connectedCount.add(1, ordering: .relaxed)
                    }
                }
                finishedThreads.add(1, ordering: .relaxed)
            }
            thread.start()
        }
    }

    func waitUntilConnected(atLeast count: Int) async {
        while connectedCount.load(ordering: .relaxed) < count {
            try? await Task.sleep(for: .milliseconds(1))
        }
    }

    /// Stops the threads and waits for them; returns how many connections were made.
    func stop() -> (connected: Int, threads: Int) {
        running.store(false, ordering: .relaxed)
        while finishedThreads.load(ordering: .relaxed) < threadCount { usleep(1000) }
        return (connectedCount.load(ordering: .relaxed), threadCount)
    }

    /// One connection: connect, write a request line, close.
    static func connect(port: Int) -> Outcome {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return .failed }
        defer { close(fd) }
        // A SYN the stopping server no longer answers is retried after a second: give up sooner
        // (Linux applies the send timeout to connect).
        var timeout = timeval(tv_sec: 0, tv_usec: 50_000)
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        if result != 0 { return errno == ECONNREFUSED ? .refused : .failed }
        let request = Array("GET /version HTTP/1.1\r\nHost: 127.0.0.1\r\n".utf8)
        _ = request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        return .connected
    }
}

import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A TCP port on 127.0.0.1 that accepts connections but never answers: a server that hangs.
/// It counts the connections it accepted, so tests can tell how often a client tried.
final class SilentListener: @unchecked Sendable {
    let port: Int
    private let descriptor: Int32
    private let lock = NSLock()
    private var accepted: [Int32] = []
    private var closed = false

    var connections: Int {
        lock.lock()
        defer { lock.unlock() }
        return accepted.count
    }

    init() throws {
        #if canImport(Glibc)
            let socketType = Int32(SOCK_STREAM.rawValue)
        #else
            let socketType = SOCK_STREAM
        #endif
        let descriptor = socket(AF_INET, socketType, 0)
        guard descriptor >= 0 else { throw POSIXError(.EIO) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0, listen(descriptor, 16) == 0 else {
            close(descriptor)
            throw POSIXError(.EADDRINUSE)
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        port = Int(UInt16(bigEndian: address.sin_port))
        self.descriptor = descriptor
    }

    private var received: [String] = []

    /// What each connection sent (headers and body), in arrival order.
    var requests: [String] {
        lock.lock()
        defer { lock.unlock() }
        return received
    }

    /// Reads what `connection` sends until it pauses for 300 ms, and records it.
    private func record(_ connection: Int32) {
        var data: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        var descriptor = pollfd(fd: connection, events: Int16(POLLIN), revents: 0)
        while poll(&descriptor, 1, 300) > 0 {
            let count = recv(connection, &buffer, buffer.count, 0)
            if count <= 0 { break }
            data += buffer[0..<count]
        }
        lock.lock()
        received.append(String(decoding: data, as: UTF8.self))
        lock.unlock()
    }

    /// Starts accepting (and holding) connections on a thread of its own.
    func acceptConnections() {
        let thread = Thread { [self] in
            while true {
                let connection = accept(descriptor, nil, nil)
                guard connection >= 0 else { return }
                lock.lock()
                if closed {
                    lock.unlock()
                    close(connection)
                    return
                }
                accepted.append(connection)
                lock.unlock()
                Thread { [self] in record(connection) }.start()
            }
        }
        thread.start()
    }

    func stop() {
        lock.lock()
        closed = true
        let open = accepted
        accepted = []
        lock.unlock()
        for connection in open { close(connection) }
        shutdown(descriptor, Int32(SHUT_RDWR))
    }

    deinit { close(descriptor) }

    /// A port nothing listens on: the discard port, which the tests' listeners (all on ephemeral
    /// ports) can never take, unlike an ephemeral port bound and closed, which a concurrent test
    /// may be given again at once.
    static func closedPort() throws -> Int { 9 }
}

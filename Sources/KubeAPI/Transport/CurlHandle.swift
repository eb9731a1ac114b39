import CCurl
import Synchronization

/// libcurl's process-wide setup, run once before the first handle is made.
enum CurlGlobal {
    private static let initialized: Bool = { ccurl_global_init_default() == CURLE_OK }()

    static func ensureInitialized() { _ = initialized }
}

/// One libcurl easy handle. A handle keeps its live connections (HTTP keep-alive), TLS
/// session cache and DNS cache across `curl_easy_reset`, which is why handles are pooled.
/// A handle is used by one transfer thread at a time (the pool hands it out exclusively).
final class CurlHandle: @unchecked Sendable {
    let raw: UnsafeMutableRawPointer

    init?() {
        CurlGlobal.ensureInitialized()
        guard let raw = curl_easy_init() else { return nil }
        self.raw = raw
    }

    deinit { curl_easy_cleanup(raw) }
}

/// Idle easy handles, reused so that requests to the same server reuse connections.
final class CurlHandlePool: Sendable {
    private let idle = Mutex<[CurlHandle]>([])
    private let maximumIdle: Int

    init(maximumIdle: Int = 8) { self.maximumIdle = maximumIdle }

    func take() -> CurlHandle? {
        if let handle = idle.withLock({ $0.popLast() }) { return handle }
        return CurlHandle()
    }

    /// Returns a handle for reuse; surplus handles are closed with their connections.
    func giveBack(_ handle: CurlHandle) {
        curl_easy_reset(handle.raw)
        idle.withLock { handles in
            if handles.count < maximumIdle { handles.append(handle) }
        }
    }

    /// Closes every idle handle (and its connections).
    func drain() { idle.withLock { $0.removeAll() } }
}

import Dispatch

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Runs `handler` on a global dispatch queue when one of `signals` arrives (instead of the
/// default action of ending the process). The agent's shutdown is one call (`Agent.stop()`,
/// which finishes the work in flight and releases the lease) followed by the health server's
/// stop, so this small watcher is all the lifecycle management it needs.
final class SignalWatcher {
    private let sources: [any DispatchSourceSignal]

    init(signals: [Int32], handler: @escaping @Sendable (Int32) -> Void) {
        sources = signals.map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { handler(number) }
            source.resume()
            return source
        }
    }

    func cancel() {
        for source in sources { source.cancel() }
    }
}

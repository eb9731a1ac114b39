import Foundation

/// Runs blocking libcurl transfers on their own threads, so they never occupy a thread of
/// Swift's cooperative pool (which has only as many threads as cores).
enum TransferThread {
    static func run<T: Sendable>(name: String, _ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { (continuation: CheckedContinuation<T, Never>) in
            let thread = Thread {
                continuation.resume(returning: body())
            }
            thread.name = name
            thread.start()
        }
    }
}

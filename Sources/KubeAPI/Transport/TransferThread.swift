import CGNUExtensions

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Runs blocking work (libcurl transfers, credential plugins) on threads of its own, so it never
/// occupies a thread of Swift's cooperative pool (which has only as many threads as cores).
enum TransferThread {
    static func run<T: Sendable>(name: String, _ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { (continuation: CheckedContinuation<T, Never>) in
            let job = Job(name: name) { continuation.resume(returning: body()) }
            guard start(job) else {
                // No thread to be had (the process is at its limit): do the work here rather
                // than fail the request.
                job.work()
                return
            }
        }
    }

    private final class Job: @unchecked Sendable {
        let name: String
        let work: () -> Void

        init(name: String, work: @escaping () -> Void) {
            self.name = name
            self.work = work
        }
    }

    /// Starts a detached thread running `job`; `false` when none could be created.
    private static func start(_ job: Job) -> Bool {
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        defer { pthread_attr_destroy(&attributes) }
        pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
        let context = Unmanaged.passRetained(job).toOpaque()
        var thread = pthread_t()
        let created = pthread_create(
            &thread, &attributes,
            { context in
                guard let context else { return nil }
                let job = Unmanaged<Job>.fromOpaque(context).takeRetainedValue()
                #if os(Linux)
                    // Linux keeps 15 bytes of a thread's name.
                    _ = pthread_setname_np(pthread_self(), String(job.name.utf8.prefix(15)) ?? "kubeapi")
                #endif
                job.work()
                return nil
            }, context)
        guard created == 0 else {
            Unmanaged<Job>.fromOpaque(context).release()
            return false
        }
        return true
    }
}

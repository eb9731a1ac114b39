import Dispatch

/// The threads the emulator's tasks run on: its own dispatch queue rather than Swift's
/// cooperative pool. Tests often block cooperative threads while a child process (kubectl, the
/// CLI) talks to an in-process emulator; on a 2-core machine that pool has two threads, and an
/// emulator sharing it would stall until the child timed out.
final class EmulatorExecutor: TaskExecutor {
    static let shared = EmulatorExecutor()

    private let queue = DispatchQueue(label: "kube-emulator", attributes: .concurrent)

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedTaskExecutor()
        queue.async { job.runSynchronously(on: executor) }
    }
}

/// Starts an unstructured task on the emulator's executor (child tasks inherit it).
@discardableResult
func emulatorTask<Success: Sendable>(_ operation: sending @escaping @isolated(any) () async -> Success)
    -> Task<Success, Never>
{
    Task(executorPreference: EmulatorExecutor.shared, operation: operation)
}

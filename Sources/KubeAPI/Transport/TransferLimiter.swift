/// Bounds how many short requests run at once (each holds a thread while it runs), so that a
/// client shared by many tasks cannot start hundreds of threads. Waiting is asynchronous.
actor TransferLimiter {
    private let limit: Int
    private var running = 0
    private var waiting: [CheckedContinuation<Void, Never>] = []

    init(limit: Int) { self.limit = max(1, limit) }

    func acquire() async {
        if running < limit {
            running += 1
            return
        }
        await withCheckedContinuation { waiting.append($0) }
    }

    func release() {
        if waiting.isEmpty {
            running -= 1
        } else {
            waiting.removeFirst().resume()  // the slot passes to the next waiter
        }
    }
}

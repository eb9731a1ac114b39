/// Coalesces changes that arrive close together into one batch, so that rotating three keys
/// in a row restarts the Deployment once.
///
/// A batch is due `quiet` after its last change (`--debounce`), but never later than `maxDelay`
/// after its first (`--max-delay`), so a steady trickle of changes cannot postpone a restart
/// forever. The type is a pure state machine over instants of any clock; `BatchScheduler` drives
/// it with a real one.
public struct Debouncer<Instant: InstantProtocol, Item: Hashable & Sendable>: Sendable
where Instant.Duration == Duration {
    public let quiet: Duration
    public let maxDelay: Duration
    public private(set) var pending: Set<Item> = []
    private var firstAt: Instant?
    private var lastAt: Instant?

    public init(quiet: Duration, maxDelay: Duration) {
        self.quiet = max(quiet, .zero)
        self.maxDelay = max(maxDelay, self.quiet)
    }

    /// Records changes of `items` at `now`.
    public mutating func add(_ items: some Sequence<Item>, at now: Instant) {
        var any = false
        for item in items {
            pending.insert(item)
            any = true
        }
        guard any else { return }
        if firstAt == nil { firstAt = now }
        lastAt = now
    }

    /// When the pending batch is due; `nil` when nothing is pending. Adding changes never moves
    /// it earlier, so a driver may sleep until it and then look again.
    public var deadline: Instant? {
        guard let firstAt, let lastAt, !pending.isEmpty else { return nil }
        return min(lastAt.advanced(by: quiet), firstAt.advanced(by: maxDelay))
    }

    /// The pending batch when it is due at `now` (and a fresh, empty state), else `nil`.
    public mutating func takeBatch(at now: Instant) -> Set<Item>? {
        guard let deadline, now >= deadline else { return nil }
        let batch = pending
        pending = []
        firstAt = nil
        lastAt = nil
        return batch
    }
}

/// Drives a `Debouncer` with a clock: producers `add` changes, one consumer awaits `nextBatch()`.
public actor BatchScheduler<Item: Hashable & Sendable, C: Clock> where C.Duration == Duration {
    private var debouncer: Debouncer<C.Instant, Item>
    private let clock: C
    private var waiter: CheckedContinuation<Void, Never>?
    private var closed = false

    public init(quiet: Duration, maxDelay: Duration, clock: C) {
        self.debouncer = Debouncer(quiet: quiet, maxDelay: maxDelay)
        self.clock = clock
    }

    /// Records changes now.
    public func add(_ items: some Sequence<Item> & Sendable) {
        debouncer.add(items, at: clock.now)
        if !debouncer.pending.isEmpty, let waiter {
            self.waiter = nil
            waiter.resume()
        }
    }

    /// Whether changes are waiting for their batch.
    public var hasPending: Bool { !debouncer.pending.isEmpty }

    /// Makes `nextBatch` return `nil` (now, or when it next wakes); pending changes stay for
    /// `drain`.
    public func close() {
        closed = true
        wakeWaiter()
    }

    /// Takes every pending change at once, due or not (on shutdown, to finish the work).
    public func drain() -> Set<Item> {
        var all: Set<Item> = []
        if let batch = debouncer.takeBatch(at: debouncer.deadline ?? clock.now) { all = batch }
        return all
    }

    /// The next due batch; `nil` when the calling task is cancelled or the scheduler closed.
    public func nextBatch() async -> Set<Item>? {
        while !Task.isCancelled && !closed {
            guard let deadline = debouncer.deadline else {
                await withTaskCancellationHandler {
                    await withCheckedContinuation { continuation in
                        if Task.isCancelled || closed || !debouncer.pending.isEmpty {
                            continuation.resume()
                        } else {
                            waiter = continuation
                        }
                    }
                } onCancel: {
                    Task { await self.wakeWaiter() }
                }
                continue
            }
            if let batch = debouncer.takeBatch(at: clock.now) { return batch }
            do {
                try await clock.sleep(until: deadline, tolerance: nil)
            } catch {
                return nil
            }
        }
        return nil
    }

    private func wakeWaiter() {
        if let waiter {
            self.waiter = nil
            waiter.resume()
        }
    }
}

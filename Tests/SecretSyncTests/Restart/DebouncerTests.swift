import Testing

@testable import SecretSync

@Suite struct DebouncerTests {
    let start = ContinuousClock.now

    @Test func coalescesChangesWithinTheQuietPeriod() {
        var debouncer = Debouncer<ContinuousClock.Instant, String>(quiet: .seconds(1), maxDelay: .seconds(10))
        debouncer.add(["a"], at: start)
        debouncer.add(["b"], at: start + .milliseconds(400))
        debouncer.add(["c"], at: start + .milliseconds(800))
        #expect(debouncer.deadline == start + .milliseconds(1800))
        #expect(debouncer.takeBatch(at: start + .milliseconds(1799)) == nil)
        #expect(debouncer.takeBatch(at: start + .milliseconds(1800)) == ["a", "b", "c"])
        #expect(debouncer.deadline == nil)
        #expect(debouncer.takeBatch(at: start + .seconds(5)) == nil)
    }

    @Test func aSteadyTrickleCannotPostponeBeyondTheCap() {
        var debouncer = Debouncer<ContinuousClock.Instant, Int>(quiet: .seconds(1), maxDelay: .seconds(3))
        for step in 0..<10 { debouncer.add([step], at: start + .milliseconds(500 * step)) }
        #expect(debouncer.deadline == start + .seconds(3))
        #expect(debouncer.takeBatch(at: start + .seconds(3))?.count == 10)
    }

    @Test func zeroDebounceIsDueAtOnce() {
        var debouncer = Debouncer<ContinuousClock.Instant, String>(quiet: .zero, maxDelay: .zero)
        debouncer.add(["a"], at: start)
        #expect(debouncer.takeBatch(at: start) == ["a"])
    }

    @Test func schedulerDeliversOneBatchForABurst() async {
        let scheduler = BatchScheduler<String, ContinuousClock>(
            quiet: .milliseconds(150), maxDelay: .seconds(5), clock: ContinuousClock())
        let consumer = Task { await scheduler.nextBatch() }
        await scheduler.add(["a"])
        await scheduler.add(["b"])
        await scheduler.add(["c"])
        let began = ContinuousClock.now
        let batch = await consumer.value
        #expect(batch == ["a", "b", "c"])
        #expect(ContinuousClock.now - began >= .milliseconds(100))
        #expect(await scheduler.hasPending == false)
    }

    @Test func schedulerStopsWhenCancelled() async {
        let scheduler = BatchScheduler<String, ContinuousClock>(
            quiet: .milliseconds(10), maxDelay: .seconds(1), clock: ContinuousClock())
        let consumer = Task { await scheduler.nextBatch() }
        try? await Task.sleep(for: .milliseconds(20))
        consumer.cancel()
        #expect(await consumer.value == nil)
    }
}

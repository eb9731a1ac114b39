import KubeEmulator

/// Something a test starts and must stop before it ends: an emulator, a workstation, an agent
/// harness, a child process.
public protocol TestScoped: Sendable {
    func stop() async
}

/// Runs `body` with what `start` started and stops it when `body` ends, by returning or by
/// throwing, before the test goes on: no server or process outlives its test.
///
/// ```swift
/// try await withStarted(Workstation.start()) { workstation in … }
/// ```
public func withStarted<Resource: TestScoped, Result>(
    isolation: isolated (any Actor)? = #isolation,
    _ start: @autoclosure () async throws -> Resource,
    _ body: (Resource) async throws -> Result
) async throws -> Result {
    let resource = try await start()
    let result: Result
    do {
        result = try await body(resource)
    } catch {
        await resource.stop()
        throw error
    }
    await resource.stop()
    return result
}

/// Runs `body` with an in-process emulator (see `EmulatorFixture.start`), stopped when `body`
/// ends.
///
/// ```swift
/// try await withEmulator { fixture in
///     let result = try await fixture.kubectl(["get", "namespaces"])
/// }
/// ```
public func withEmulator<Result>(
    isolation: isolated (any Actor)? = #isolation,
    _ options: KubeEmulator.Options = KubeEmulator.Options(rolloutDelay: .milliseconds(50)),
    _ body: (EmulatorFixture) async throws -> Result
) async throws -> Result {
    try await withStarted(try await EmulatorFixture.start(options), body)
}

extension EmulatorFixture: TestScoped {}
extension RunningProcess: TestScoped {}

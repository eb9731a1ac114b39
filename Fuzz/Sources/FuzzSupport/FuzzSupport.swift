import CLibFuzzer

#if canImport(Glibc)
    import Glibc
#endif

// What the fuzz targets share: starting libFuzzer and reporting a broken invariant.

/// The signature of `LLVMFuzzerTestOneInput`.
public typealias FuzzTarget = @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt

/// Runs libFuzzer with the process's arguments (`-max_total_time=20 corpus/`, a crash file to
/// reproduce, ...) on `target`, and exits with libFuzzer's status.
public func runLibFuzzer(_ target: FuzzTarget) -> Never {
    var argc = CommandLine.argc
    var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
    exit(LLVMFuzzerRunDriver(&argc, &argv, target))
}

/// The bytes of one fuzz input.
public func fuzzInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> UnsafeBufferPointer<UInt8> {
    UnsafeBufferPointer(start: size > 0 ? data : nil, count: size)
}

/// Stops the run with a finding: libFuzzer saves the input that broke `invariant`.
public func invariantFailed(_ invariant: String, file: StaticString = #fileID, line: UInt = #line) -> Never {
    let message = Array("invariant broken: \(invariant) (\(file):\(line))\n".utf8)
    message.withUnsafeBytes { _ = write(2, $0.baseAddress, $0.count) }
    abort()
}

/// Checks an invariant that must hold for every input.
public func require(
    _ condition: @autoclosure () -> Bool, _ invariant: @autoclosure () -> String,
    file: StaticString = #fileID, line: UInt = #line
) {
    if !condition() { invariantFailed(invariant(), file: file, line: line) }
}

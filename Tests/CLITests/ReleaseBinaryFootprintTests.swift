import Foundation
import Testing
import TestSupport

/// The release binary, built as the Dockerfile builds it (static Swift runtime), in the scratch
/// path `make test`, `make bench` and the Python release-binary test share
/// (`BELUGA_RELEASE_BIN`, set by `make test` after it builds it once).
private let releaseBinary: String? = ProcessInfo.processInfo.environment["BELUGA_RELEASE_BIN"].flatMap {
    $0.isEmpty ? nil : $0
}

/// What ships contains neither Foundation nor ICU: with the Swift runtime linked statically, a
/// single `import Foundation` anywhere in the product or in a package it uses would put
/// Foundation's code and ICU's data table (about 30 MiB) into the binary again, and into every
/// agent's memory. FoundationEssentials, which swift-metrics and swift-argument-parser import,
/// carries no ICU and is allowed.
@Suite(.enabled(if: releaseBinary != nil, "set BELUGA_RELEASE_BIN to the release build (make test does)"))
struct ReleaseBinaryFootprintTests {
    @Test func theReleaseBinaryHoldsNoFoundationOrICU() throws {
        let binary = try #require(releaseBinary)
        try #require(FileManager.default.isExecutableFile(atPath: binary), "\(binary) is not built")
        let symbols = try LinkFootprint.definedSymbols(binary)
        // The symbol table was read, and it holds the product's own code and the Swift runtime.
        #expect(symbols.contains { $0.hasPrefix("$s10SecretSync") }, "no SecretSync symbols: stripped?")
        #expect(symbols.contains { $0.hasPrefix("swift_retain") })
        #expect(LinkFootprint.foundationOrICU(symbols: symbols) == [])
        #expect(LinkFootprint.foundationOrICU(libraries: try LinkFootprint.sharedLibraries(binary)) == [])
    }

    /// The check sees Foundation where it is: the emulator (not shipped) uses it.
    @Test func theCheckFindsFoundationInTheEmulator() throws {
        let emulator = Binaries.path("kube-emulator")
        let found =
            LinkFootprint.foundationOrICU(libraries: try LinkFootprint.sharedLibraries(emulator))
            + LinkFootprint.foundationOrICU(symbols: try LinkFootprint.undefinedSymbols([emulator]))
            + LinkFootprint.foundationOrICU(symbols: try LinkFootprint.definedSymbols(emulator))
        #expect(!found.isEmpty)
    }
}

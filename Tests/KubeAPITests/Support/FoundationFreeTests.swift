import Testing
import TestSupport

/// The modules below SecretSync are free of Foundation (FoundationEssentials at most): Foundation
/// brings ICU's data, which quadruples the binary and doubles the agent's memory. Their objects
/// in this build must neither autolink Foundation nor use any of its symbols.
@Suite struct FoundationFreeTests {
    static let modules = ["TimeFormat", "JSONValue", "YAML", "Sealing", "KubeAPI"]

    @Test(arguments: modules) func moduleLinksNoFoundation(_ module: String) throws {
        let objects = LinkFootprint.objectFiles(ofModule: module)
        try #require(!objects.isEmpty, "no object files of \(module) in \(Binaries.directory)")
        let libraries = try LinkFootprint.autolinkedLibraries(objects)
        #expect(libraries.contains("swiftCore"), "the autolink entries were read: \(libraries.sorted())")
        #expect(LinkFootprint.foundationOrICU(libraries: libraries) == [], "\(module) autolinks them")
        let symbols = try LinkFootprint.undefinedSymbols(objects)
        #expect(!symbols.isEmpty, "the undefined symbols were read")
        #expect(LinkFootprint.foundationOrICU(symbols: symbols) == [], "\(module) uses them")
    }

    /// The check itself sees Foundation where it is: in the emulator's objects.
    @Test func theCheckFindsFoundationWhereItIs() throws {
        let objects = LinkFootprint.objectFiles(ofModule: "KubeEmulator")
        #expect(
            LinkFootprint.foundationOrICU(libraries: try LinkFootprint.autolinkedLibraries(objects)) != [])
        #expect(LinkFootprint.foundationOrICU(symbols: try LinkFootprint.undefinedSymbols(objects)) != [])
    }
}

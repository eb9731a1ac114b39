import Testing
import TestSupport

/// The product's modules are free of Foundation (FoundationEssentials at most): Foundation
/// brings ICU's data, which quadruples the binary and doubles the agent's memory. Their objects
/// in this build, and those of every package the executable links, must neither autolink
/// Foundation nor use any of its symbols. (`ReleaseBinaryFootprintTests` checks the shipped
/// binary as a whole.)
@Suite struct FoundationFreeTests {
    static let modules = [
        "TimeFormat", "JSONValue", "YAML", "Sealing", "KubeAPI", "SecretSync", "beluga_secrets",
    ]

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

    /// Every object the executable is linked from, its own and those of the packages it uses
    /// (swift-log, swift-metrics, swift-prometheus, swift-argument-parser, swift-nio and what
    /// they build on), is free of Foundation: no package brings it back.
    @Test func theExecutablesObjectsLinkNoFoundation() throws {
        let objects = LinkFootprint.objectFiles(ofProduct: "beluga-secrets")
        try #require(objects.count > 100, "the link list of beluga-secrets in \(Binaries.directory) was read")
        let modules = Set(objects.map(LinkFootprint.module(ofObject:)))
        #expect(modules.isSuperset(of: ["beluga_secrets", "SecretSync", "Logging", "Metrics", "NIOCore"]), "\(modules)")
        var offenders: [String: [String]] = [:]
        for object in objects where object.hasSuffix(".swift.o") {
            let found =
                LinkFootprint.foundationOrICU(libraries: try LinkFootprint.autolinkedLibraries([object]))
                + LinkFootprint.foundationOrICU(symbols: try LinkFootprint.undefinedSymbols([object]))
            if !found.isEmpty { offenders[LinkFootprint.module(ofObject: object), default: []] += found }
        }
        #expect(offenders.isEmpty, "\(offenders.mapValues { Array(Set($0)).sorted().prefix(5) })")
    }

    /// The check itself sees Foundation where it is: in the emulator's objects.
    @Test func theCheckFindsFoundationWhereItIs() throws {
        let objects = LinkFootprint.objectFiles(ofModule: "KubeEmulator")
        #expect(
            LinkFootprint.foundationOrICU(libraries: try LinkFootprint.autolinkedLibraries(objects)) != [])
        #expect(LinkFootprint.foundationOrICU(symbols: try LinkFootprint.undefinedSymbols(objects)) != [])
    }
}

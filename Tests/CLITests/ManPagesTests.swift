import Foundation
import Testing
import TestSupport

/// The committed manual pages match the commands of the built binary.
///
/// `make man` generates the pages from the binary's command definitions
/// (`--experimental-dump-help`) and records those definitions in
/// man/command-definitions.json; comparing that record with the binary is enough to know the
/// pages are current, without running the generator here.
@Suite struct ManPagesTests {
    let manFolder = Binaries.repositoryRoot + "/man"

    private func definitions() throws -> String {
        let result = try ProcessRunner.run(
            Binaries.path("beluga-secrets"), ["--experimental-dump-help"], timeout: 30)
        try #require(result.status == 0)
        return result.stdout
    }

    @Test func committedPagesAreUpToDate() throws {
        let committed = try String(contentsOfFile: manFolder + "/command-definitions.json", encoding: .utf8)
        #expect(
            committed == (try definitions()),
            "the commands changed since the manual pages were generated: run `make man` and commit man/")
    }

    @Test func everyCommandHasItsPageAndNoPageIsStale() throws {
        let data = Data(try definitions().utf8)
        let root = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        var expected: Set<String> = []
        func collect(_ command: [String: Any], prefix: String) {
            guard let name = command["commandName"] as? String else { return }
            let page = prefix.isEmpty ? name : prefix + "." + name
            expected.insert(page + ".1")
            for sub in command["subcommands"] as? [[String: Any]] ?? [] { collect(sub, prefix: page) }
        }
        collect(try #require(root["command"] as? [String: Any]), prefix: "")
        let pages = Set(
            try FileManager.default.contentsOfDirectory(atPath: manFolder).filter { $0.hasSuffix(".1") })
        #expect(pages == expected, "run `make man` and commit man/")
    }
}

import Foundation

/// Where the executables of this package were built, for tests that run them as real processes.
public enum Binaries {
    /// `BELUGA_BIN_DIR` when set, else the folder of the running test bundle (SwiftPM puts the
    /// package's executables beside it).
    public static let directory: String = {
        if let dir = ProcessInfo.processInfo.environment["BELUGA_BIN_DIR"], !dir.isEmpty { return dir }
        let bundle = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var dir = bundle.deletingLastPathComponent()
        // On Linux the runner is `<bin>/<Package>PackageTests.xctest`; elsewhere it may sit inside
        // a bundle folder.
        while !FileManager.default.fileExists(atPath: dir.appendingPathComponent("beluga-secrets").path),
            dir.path != "/"
        {
            dir = dir.deletingLastPathComponent()
        }
        return dir.path
    }()

    /// The absolute path of the executable `name` (e.g. `beluga-secrets`, `kube-emulator`).
    public static func path(_ name: String) -> String { directory + "/" + name }

    /// The root of the repository (the folder holding `Package.swift`).
    public static let repositoryRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        while url.path != "/" {
            url = url.deletingLastPathComponent()
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) {
                return url.path
            }
        }
        return FileManager.default.currentDirectoryPath
    }()
}

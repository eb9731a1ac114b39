import Foundation

/// What compiled code asks the linker for, read with binutils (`readelf`, `nm`, `ldd`): the
/// libraries a module's objects autolink, the symbols they leave undefined, the shared libraries
/// an executable loads. Tests use it to keep Foundation and ICU out of the product (Foundation
/// brings ICU's data, which quadruples the binary and doubles the agent's memory).
public enum LinkFootprint {
    /// The object files of `module` in the build folder, as its last build listed them (objects of
    /// deleted sources stay in the folder, but not in the list).
    public static func objectFiles(ofModule module: String) -> [String] {
        let map = Binaries.directory + "/\(module).build/output-file-map.json"
        guard let data = FileManager.default.contents(atPath: map),
            let entries = try? JSONSerialization.jsonObject(with: data) as? [String: [String: String]]
        else { return [] }
        return entries.values.compactMap { $0["object"] }.sorted()
    }

    /// The object files the executable `product` is linked from (its own modules' and every
    /// package's), as its last build listed them for the linker.
    public static func objectFiles(ofProduct product: String) -> [String] {
        let list = Binaries.directory + "/\(product).product/Objects.LinkFileList"
        guard let data = FileManager.default.contents(atPath: list) else { return [] }
        return String(decoding: data, as: UTF8.self).split(separator: "\n").map {
            $0.trimmingCharacters(in: CharacterSet(charactersIn: "\"' "))
        }.filter { !$0.isEmpty }
    }

    /// The module an object file of the build folder belongs to (`Logging` for
    /// `…/Logging.build/Logger.swift.o`).
    public static func module(ofObject path: String) -> String {
        let folder = path.split(separator: "/").dropLast().last ?? ""
        return folder.hasSuffix(".build") ? String(folder.dropLast(6)) : String(folder)
    }

    /// The libraries `objects` ask to be linked with (`-lFoundation` and the like), from their
    /// `.swift1_autolink_entries` sections.
    public static func autolinkedLibraries(_ objects: [String]) throws -> Set<String> {
        var libraries = Set<String>()
        for object in objects {
            let dump = try run("readelf", ["-p", ".swift1_autolink_entries", object])
            for line in dump.split(separator: "\n") {
                guard let close = line.firstIndex(of: "]") else { continue }
                let entry = line[line.index(after: close)...].trimmingCharacters(in: .whitespaces)
                if entry.hasPrefix("-l") { libraries.insert(String(entry.dropFirst(2))) }
            }
        }
        return libraries
    }

    /// The symbols `objects` (or an executable) use without defining them.
    public static func undefinedSymbols(_ objects: [String]) throws -> Set<String> {
        var symbols = Set<String>()
        for object in objects {
            for line in try run("nm", ["-u", object]).split(separator: "\n") {
                if let name = line.split(separator: " ").last { symbols.insert(String(name)) }
            }
        }
        return symbols
    }

    /// The symbols `executable` defines (its symbol table; `nm --defined-only`): what the
    /// libraries it links statically (the Swift runtime, Foundation if anything imports it)
    /// brought in. Empty for a stripped binary.
    public static func definedSymbols(_ executable: String) throws -> Set<String> {
        var symbols = Set<String>()
        for line in try run("nm", ["--defined-only", executable]).split(separator: "\n") {
            if let name = line.split(separator: " ").last { symbols.insert(String(name)) }
        }
        return symbols
    }

    /// The shared libraries `executable` loads (`ldd`), by file name.
    public static func sharedLibraries(_ executable: String) throws -> [String] {
        try run("ldd", [executable]).split(separator: "\n").compactMap {
            $0.split(separator: " ").first.map { String($0.trimmingCharacters(in: .whitespaces)) }
        }
    }

    /// Which of `libraries` (autolinked names or shared-library files) are Foundation (not
    /// FoundationEssentials), its internationalization part, or ICU.
    public static func foundationOrICU(libraries: some Sequence<String>) -> [String] {
        libraries.filter { name in
            let base = name.hasPrefix("lib") ? String(name.dropFirst(3)) : name
            return base == "Foundation" || base.hasPrefix("Foundation.")
                || base.hasPrefix("FoundationInternationalization")
                || base.hasPrefix("_FoundationICU") || base.hasPrefix("icu")
        }.sorted()
    }

    /// Which of `symbols` belong to Foundation (not FoundationEssentials), its
    /// internationalization part, ICU's Swift wrapper, or ICU itself (its C API and its data
    /// table `icudt<version>_dat`, the bulk of what Foundation adds to a static binary).
    public static func foundationOrICU(symbols: some Sequence<String>) -> [String] {
        let icuPrefixes = ["icudt", "ucal_", "udat_", "ucol_", "ures_", "ubrk_", "unum_"]
        return symbols.filter { symbol in
            symbol.hasPrefix("$s10Foundation") || symbol.hasPrefix("$s30FoundationInternationalization")
                || symbol.hasPrefix("$s14_FoundationICU") || icuPrefixes.contains { symbol.hasPrefix($0) }
        }.sorted()
    }

    private static func run(_ tool: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [tool] + arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = readToEnd(fileDescriptor: output.fileHandleForReading.fileDescriptor)
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }
}

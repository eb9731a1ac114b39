#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Folders that hold private keys.
enum KeyFolder {
    /// Makes sure `path` is a folder, creating it (and missing parents) with mode 0700.
    static func prepare(_ path: String) throws {
        var status = stat()
        if stat(path, &status) == 0 {
            guard (status.st_mode & S_IFMT) == S_IFDIR else {
                throw CommandError("\(path) exists and is not a folder: choose another folder")
            }
            return
        }
        let parent = parentFolder(of: path)
        if let parent, stat(parent, &status) != 0 { try prepare(parent) }
        guard mkdir(path, 0o700) == 0 || errno == EEXIST else {
            throw CommandError(
                "cannot create folder \(path): \(String(cString: strerror(errno))); check the path and its permissions"
            )
        }
    }

    private static func parentFolder(of path: String) -> String? {
        let trimmed = path.hasSuffix("/") ? String(path.dropLast()) : path
        guard let slash = trimmed.lastIndex(of: "/") else { return nil }
        let parent = String(trimmed[..<slash])
        return parent.isEmpty ? nil : parent
    }
}

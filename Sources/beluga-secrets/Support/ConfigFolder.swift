#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The user's configuration folder for beluga-secrets: `$XDG_CONFIG_HOME/beluga-secrets`, or
/// `~/.config/beluga-secrets` when that variable is unset or not an absolute path (as the XDG
/// Base Directory specification says).
///
/// It holds what this user trusts (the agents pinned in `known-agents.json`, the signing key),
/// so it is used only when it is this user's alone, as ssh treats `~/.ssh`: the folder and every
/// entry in it must be owned by the effective user, writable by nobody else, and not a symbolic
/// link (checked with `lstat`, never following one).
enum ConfigFolder {
    /// The folder, after checking it and its entries when it exists.
    static func path() throws -> String {
        let folder = try location()
        try check(folder)
        return folder
    }

    /// Where `signer init` writes the operator's signing key, and `seal` looks for it.
    static func signerPrivateKeyPath() throws -> String { try path() + "/signer.key" }
    static func signerPublicKeyPath() throws -> String { try path() + "/signer.pub" }

    /// The folder's path, unchecked.
    static func location() throws -> String {
        if let xdg = environment("XDG_CONFIG_HOME"), xdg.hasPrefix("/") {
            return xdg + "/beluga-secrets"
        }
        guard let home = homeFolder() else {
            throw CommandError("cannot find the home folder: set HOME or XDG_CONFIG_HOME")
        }
        return home + "/.config/beluga-secrets"
    }

    /// Refuses the folder, or an entry of it, that is a symbolic link, belongs to another user
    /// or may be written by group or others; a folder that does not exist yet passes (it is
    /// created 0700 when first written).
    static func check(_ folder: String) throws {
        var status = stat()
        guard lstat(folder, &status) == 0 else {
            if errno == ENOENT { return }
            throw CommandError(
                "cannot inspect the configuration folder \(folder): \(String(cString: strerror(errno))); check its permissions"
            )
        }
        try checkEntry(folder, status, isFolder: true)
        // Opened without following a link, and its entries looked at through the descriptor,
        // so the folder listed is the folder checked.
        let descriptor = open(folder, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard descriptor >= 0, let directory = fdopendir(descriptor) else {
            let reason = String(cString: strerror(errno))
            if descriptor >= 0 { close(descriptor) }
            throw CommandError(
                "cannot list the configuration folder \(folder): \(reason); check its permissions")
        }
        defer { closedir(directory) }
        while let entry = readdir(directory) {
            let name = withUnsafePointer(to: &entry.pointee.d_name) { pointer in
                pointer.withMemoryRebound(to: CChar.self, capacity: Int(NAME_MAX) + 1) { String(cString: $0) }
            }
            if name == "." || name == ".." { continue }
            var entryStatus = stat()
            guard fstatat(dirfd(directory), name, &entryStatus, AT_SYMLINK_NOFOLLOW) == 0 else {
                if errno == ENOENT { continue }  // removed meanwhile
                throw CommandError(
                    "cannot inspect \(folder)/\(name): \(String(cString: strerror(errno))); check its permissions"
                )
            }
            try checkEntry(folder + "/" + name, entryStatus, isFolder: false)
        }
    }

    private static func checkEntry(_ path: String, _ status: stat, isFolder: Bool) throws {
        let what = isFolder ? "the configuration folder \(path)" : path
        let kind = status.st_mode & S_IFMT
        if kind == S_IFLNK {
            let fix =
                isFolder
                ? "replace the link with a folder of your own (mode 0700)"
                : "replace the link with the file itself, or remove it"
            throw CommandError(
                "\(what) is a symbolic link, and beluga-secrets trusts its configuration only in files of your own: \(fix)"
            )
        }
        if isFolder, kind != S_IFDIR {
            throw CommandError("\(what) is not a folder: move it away (it is created when needed)")
        }
        let user = geteuid()
        if status.st_uid != user {
            throw CommandError(
                "\(what) belongs to uid \(status.st_uid), not to you (uid \(user)), so another user could change "
                    + "what beluga-secrets trusts: remove it, or make it yours with: chown \(isFolder ? "-R " : "")\(user) \(path)"
            )
        }
        let mode = status.st_mode & 0o7777
        if mode & 0o022 != 0 {
            throw CommandError(
                "\(what) may be written by group or others (mode \(octal(mode))), so another user could change "
                    + "what beluga-secrets trusts: run chmod go-w \(path)")
        }
    }

    private static func octal(_ mode: mode_t) -> String {
        let digits = String(mode, radix: 8)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }

    private static func homeFolder() -> String? {
        if let home = environment("HOME"), !home.isEmpty { return home }
        guard let entry = getpwuid(geteuid()), let directory = entry.pointee.pw_dir else { return nil }
        return String(cString: directory)
    }

    private static func environment(_ name: String) -> String? {
        guard let value = getenv(name) else { return nil }
        let text = String(cString: value)
        return text.isEmpty ? nil : text
    }
}

import CSodium

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Key files: one line, the standard base64 of the raw 32-byte key, then a newline.
///
/// Private key files are created with mode 0600 from the first moment (`O_CREAT|O_EXCL`, never
/// a wider mode that is narrowed later) and refused on read when group or others have any
/// permission on them, like OpenSSH does. The private key passes only through `SecureBytes`.
public enum KeyFile {
    /// Longest key file accepted; a 32-byte key takes 45 bytes.
    static let maximumFileLength = 4096
    static let keyLength = 32

    /// Writes a private key to `path` with mode 0600. Refuses an existing file unless
    /// `replacing`, in which case the new file replaces it atomically (rename).
    public static func writePrivateKey(
        _ key: SecureBytes, to path: String, kind: SealingError.KeyKind, replacing: Bool = false
    ) throws(SealingError) {
        try keyLine(key) { (bytes) throws(SealingError) in
            try writeFile(bytes, to: path, mode: 0o600, kind: kind, replacing: replacing)
        }
    }

    /// Writes a public key to `path` with mode 0644, with the same overwrite rule.
    public static func writePublicKey(
        _ bytes: [UInt8], to path: String, kind: SealingError.KeyKind, replacing: Bool = false
    ) throws(SealingError) {
        let line = SecureBytes(Array((Base64.encode(bytes, .standard) + "\n").utf8))
        try line.withUnsafeBytes { (raw) throws(SealingError) in
            try writeFile(raw, to: path, mode: 0o644, kind: kind, replacing: replacing)
        }
    }

    /// Reads the 32-byte private key of `path`, refusing a file group or others may access.
    public static func readPrivateKey(at path: String, kind: SealingError.KeyKind) throws(SealingError)
        -> SecureBytes
    {
        let content = try readFile(path, kind: kind, requirePrivate: true)
        let key = try content.withUnsafeBytes { (raw) throws(SealingError) -> SecureBytes in
            let text = trimmingTrailingWhitespace(raw)
            return try SecureBytes(capacity: Base64.maximumDecodedLength(text.count)) {
                (target) throws(SealingError) -> Int in
                guard !text.isEmpty, let written = Base64.decode(text, into: target, .standard) else {
                    throw .keyFileMalformed(path: path, kind: kind)
                }
                return written
            }
        }
        guard key.count == keyLength else { throw .wrongKeyLength(path: path, kind: kind, found: key.count) }
        return key
    }

    /// Reads the 32-byte public key of `path`.
    public static func readPublicKey(at path: String, kind: SealingError.KeyKind) throws(SealingError)
        -> [UInt8]
    {
        let content = try readFile(path, kind: kind, requirePrivate: false)
        let decoded = content.withUnsafeBytes { raw -> [UInt8]? in
            let text = trimmingTrailingWhitespace(raw)
            var bytes = [UInt8](repeating: 0, count: Base64.maximumDecodedLength(text.count))
            guard !text.isEmpty,
                let written = bytes.withUnsafeMutableBytes({ Base64.decode(text, into: $0, .standard) })
            else { return nil }
            return Array(bytes.prefix(written))
        }
        guard let decoded else { throw .keyFileMalformed(path: path, kind: kind) }
        guard decoded.count == keyLength else {
            throw .wrongKeyLength(path: path, kind: kind, found: decoded.count)
        }
        return decoded
    }

    // MARK: - Files

    private static func readFile(
        _ path: String, kind: SealingError.KeyKind, requirePrivate: Bool
    ) throws(SealingError) -> SecureBytes {
        // O_NONBLOCK: opening a FIFO (or a device) must not wait for a writer; the fstat below
        // then refuses it at once. A regular file reads the same either way.
        let descriptor = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)
        guard descriptor >= 0 else { throw .keyFileUnreadable(path: path, kind: kind, reason: systemError()) }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else {
            throw .keyFileUnreadable(path: path, kind: kind, reason: systemError())
        }
        guard (status.st_mode & S_IFMT) == S_IFREG else {
            throw .keyFileUnreadable(
                path: path, kind: kind, reason: "it is \(fileTypeName(status.st_mode)), not a regular file")
        }
        // Checked on the open descriptor, so the file read is the file checked.
        if requirePrivate, status.st_mode & 0o077 != 0 {
            throw .insecureKeyFile(path: path, kind: kind, mode: UInt32(status.st_mode & 0o7777))
        }
        var failure: SealingError?
        let content = SecureBytes(capacity: maximumFileLength + 1) { target in
            var total = 0
            while total < target.count {
                let count = read(descriptor, target.baseAddress.map { $0 + total }, target.count - total)
                if count == 0 { break }
                if count < 0 {
                    if errno == EINTR { continue }
                    failure = .keyFileUnreadable(path: path, kind: kind, reason: systemError())
                    return 0
                }
                total += count
            }
            return total
        }
        if let failure { throw failure }
        guard content.count <= maximumFileLength else { throw .keyFileMalformed(path: path, kind: kind) }
        return content
    }

    private static func writeFile(
        _ bytes: UnsafeRawBufferPointer, to path: String, mode: mode_t, kind: SealingError.KeyKind,
        replacing: Bool
    ) throws(SealingError) {
        // Replacing writes a fresh file beside the old one and renames it over, so a reader never
        // sees a half-written key and the old key survives a failed write.
        let target = replacing ? temporaryName(for: path, "new") : path
        try stage(bytes, at: target, for: path, mode: mode, kind: kind)
        if replacing, rename(target, path) != 0 {
            let failure = systemError()
            unlink(target)
            throw .keyFileWriteFailed(path: path, kind: kind, reason: failure)
        }
    }

    /// Creates `target` (never an existing file, never through a symlink) holding `bytes` with
    /// exactly `mode`, synced to disk; removes it again when any step fails.
    private static func stage(
        _ bytes: UnsafeRawBufferPointer, at target: String, for path: String, mode: mode_t,
        kind: SealingError.KeyKind
    ) throws(SealingError) {
        let descriptor = open(target, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)
        guard descriptor >= 0 else {
            if errno == EEXIST { throw .keyFileExists(path: path, kind: kind) }
            throw .keyFileWriteFailed(path: path, kind: kind, reason: systemError())
        }
        var failure: String?
        // The umask may have narrowed the mode further; state it exactly.
        if fchmod(descriptor, mode) != 0 { failure = systemError() }
        var offset = 0
        while failure == nil, offset < bytes.count {
            let count = write(descriptor, bytes.baseAddress.map { $0 + offset }, bytes.count - offset)
            if count < 0 {
                if errno == EINTR { continue }
                failure = systemError()
            } else {
                offset += count
            }
        }
        if failure == nil, fsync(descriptor) != 0 { failure = systemError() }
        if close(descriptor) != 0, failure == nil { failure = systemError() }
        if let failure {
            unlink(target)
            throw .keyFileWriteFailed(path: path, kind: kind, reason: failure)
        }
    }

    private static func temporaryName(for path: String, _ purpose: String) -> String {
        path + "." + purpose + "-" + Hashing.hex(randomBytes(6))
    }

    /// Creates `path` from the staged `temporary` only if `path` does not exist: a hard link
    /// fails with EEXIST rather than replacing, so no existing key is ever overwritten.
    private static func linkNew(_ temporary: String, to path: String, kind: SealingError.KeyKind)
        throws(SealingError)
    {
        if link(temporary, path) == 0 { return }
        if errno == EEXIST { throw .keyFileExists(path: path, kind: kind) }
        // A file system without hard links: check, then rename (the check and the rename are
        // not one step there).
        guard [EPERM, ENOTSUP, EOPNOTSUPP, EXDEV, EMLINK].contains(errno) else {
            throw .keyFileWriteFailed(path: path, kind: kind, reason: systemError())
        }
        var status = stat()
        if lstat(path, &status) == 0 { throw .keyFileExists(path: path, kind: kind) }
        guard rename(temporary, path) == 0 else {
            throw .keyFileWriteFailed(path: path, kind: kind, reason: systemError())
        }
    }

    /// Writes the two files of a key pair, both or neither: each is written in full to a
    /// temporary file beside its place first, and only then are they put in place. Without
    /// `replacing`, neither may exist; with it, both are replaced, and should the second fail
    /// the first is restored, so the folder never holds a private key without its public key
    /// (or the new private key beside the old public one).
    public static func writePair(
        privateKey: SecureBytes, to privatePath: String, privateKind: SealingError.KeyKind,
        publicKey: [UInt8], to publicPath: String, publicKind: SealingError.KeyKind, replacing: Bool
    ) throws(SealingError) {
        if replacing {
            // Only files are replaced: a folder or a link in a key's place is a mistake to report
            // before anything changes.
            for (path, kind) in [(privatePath, privateKind), (publicPath, publicKind)] {
                var status = stat()
                if lstat(path, &status) == 0, (status.st_mode & S_IFMT) != S_IFREG {
                    throw .keyFileWriteFailed(
                        path: path, kind: kind,
                        reason: "it is \(fileTypeName(status.st_mode)); move it away first")
                }
            }
        }
        let stagedPrivate = temporaryName(for: privatePath, "new")
        let stagedPublic = temporaryName(for: publicPath, "new")
        try keyLine(privateKey) { (bytes) throws(SealingError) in
            try stage(bytes, at: stagedPrivate, for: privatePath, mode: 0o600, kind: privateKind)
        }
        defer {
            unlink(stagedPrivate)
            unlink(stagedPublic)
        }
        let publicLine = Array((Base64.encode(publicKey, .standard) + "\n").utf8)
        // `Array.withUnsafeBytes` rethrows untyped: the failure comes out as a `Result`.
        let stagedPublicFile = publicLine.withUnsafeBytes { bytes in
            Result { () throws(SealingError) in
                try stage(bytes, at: stagedPublic, for: publicPath, mode: 0o644, kind: publicKind)
            }
        }
        try stagedPublicFile.get()

        guard replacing else {
            try linkNew(stagedPrivate, to: privatePath, kind: privateKind)
            do throws(SealingError) {
                try linkNew(stagedPublic, to: publicPath, kind: publicKind)
            } catch {
                unlink(privatePath)
                throw error
            }
            syncFolder(of: privatePath)
            return
        }

        // Keep the old private key under another name until the public key is in place.
        var previous: String?
        var status = stat()
        if lstat(privatePath, &status) == 0 {
            let backup = temporaryName(for: privatePath, "old")
            guard link(privatePath, backup) == 0 || rename(privatePath, backup) == 0 else {
                throw .keyFileWriteFailed(path: privatePath, kind: privateKind, reason: systemError())
            }
            previous = backup
        }
        func restorePrivate() {
            if let previous { rename(previous, privatePath) } else { unlink(privatePath) }
        }
        guard rename(stagedPrivate, privatePath) == 0 else {
            let failure = systemError()
            if let previous, access(privatePath, F_OK) != 0 { rename(previous, privatePath) }
            if let previous { unlink(previous) }
            throw .keyFileWriteFailed(path: privatePath, kind: privateKind, reason: failure)
        }
        guard rename(stagedPublic, publicPath) == 0 else {
            let failure = systemError()
            restorePrivate()
            throw .keyFileWriteFailed(path: publicPath, kind: publicKind, reason: failure)
        }
        if let previous { unlink(previous) }
        syncFolder(of: privatePath)
    }

    /// The key file line of a private key (base64, newline), in secure memory.
    private static func keyLine<R>(
        _ key: SecureBytes, _ body: (UnsafeRawBufferPointer) throws(SealingError) -> R
    ) throws(SealingError) -> R {
        let line = key.withUnsafeBytes { raw in
            SecureBytes(capacity: Base64.encodedLength(raw.count, .standard) + 2) { target in
                let length = Base64.encode(raw, into: target, .standard)
                target[length] = UInt8(ascii: "\n")
                return length + 1
            }
        }
        return try line.withUnsafeBytes(body)
    }

    /// Makes the renames in a folder durable (best effort: not every file system allows it).
    private static func syncFolder(of path: String) {
        let folder = path.lastIndex(of: "/").map { String(path[..<$0]) } ?? "."
        let descriptor = open(folder.isEmpty ? "/" : folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { return }
        fsync(descriptor)
        close(descriptor)
    }

    /// What kind of file a mode describes, for messages.
    static func fileTypeName(_ mode: mode_t) -> String {
        switch mode & S_IFMT {
        case S_IFDIR: return "a folder"
        case S_IFLNK: return "a symbolic link"
        case S_IFIFO: return "a FIFO (named pipe)"
        case S_IFSOCK: return "a socket"
        case S_IFCHR, S_IFBLK: return "a device"
        default: return "an unusual file"
        }
    }

    private static func trimmingTrailingWhitespace(_ bytes: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer
    {
        var end = bytes.count
        while end > 0, [0x20, 0x09, 0x0a, 0x0d].contains(bytes[end - 1]) { end -= 1 }
        return UnsafeRawBufferPointer(rebasing: bytes[0..<end])
    }
}

/// The system's text for the current `errno`.
func systemError() -> String {
    String(cString: strerror(errno))
}

/// Non-secret random bytes (temporary file names).
func randomBytes(_ count: Int) -> [UInt8] {
    Sodium.ensureInitialised()
    var bytes = [UInt8](repeating: 0, count: count)
    bytes.withUnsafeMutableBytes { randombytes_buf($0.bytes, $0.count) }
    return bytes
}

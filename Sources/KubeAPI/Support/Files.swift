#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// What `stat` says of a path.
struct FileStatus {
    private var mode: mode_t

    /// `nil` when the path cannot be looked at (`errno` says why).
    init?(_ path: String) {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        mode = info.st_mode
    }

    var isRegularFile: Bool { mode & S_IFMT == S_IFREG }
    var isDirectory: Bool { mode & S_IFMT == S_IFDIR }
}

/// Reading whole files (or all of a descriptor, such as standard input) without Foundation, with
/// errors in words.
public enum FileContents {
    /// The most read from one file by default: far more than any kubeconfig, certificate or
    /// token, and a bound when a path names something endless (`/dev/zero`).
    public static let limit = 64 << 20

    public enum Failure: Error, CustomStringConvertible {
        case missing
        case folder
        case unreadable(String)
        case tooLarge(limit: Int)

        public var description: String {
            switch self {
            case .missing: return "no such file"
            case .folder: return "it is a folder"
            case .unreadable(let reason): return reason
            case .tooLarge(let limit): return "larger than \(limit >> 20) MiB"
            }
        }
    }

    /// The bytes of the file at `path`, at most `limit` of them.
    public static func read(_ path: String, limit: Int = limit) -> Result<[UInt8], Failure> {
        guard let status = FileStatus(path) else {
            let code = errno
            return .failure(code == ENOENT || code == ENOTDIR ? .missing : .unreadable(message(code)))
        }
        if status.isDirectory { return .failure(.folder) }
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return .failure(.unreadable(message(errno))) }
        defer { close(descriptor) }
        return readAll(descriptor, limit: limit)
    }

    /// Everything `descriptor` gives until its end, at most `limit` bytes; the descriptor stays
    /// open.
    public static func readAll(_ descriptor: Int32, limit: Int = limit) -> Result<[UInt8], Failure> {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
            if count == 0 { return .success(bytes) }
            if count < 0 {
                if errno == EINTR { continue }
                return .failure(.unreadable(message(errno)))
            }
            guard bytes.count + count <= limit else { return .failure(.tooLarge(limit: limit)) }
            bytes.append(contentsOf: chunk[0..<count])
        }
    }

    private static func message(_ code: Int32) -> String { String(cString: strerror(code)) }
}

/// File paths as text, the way Foundation's `NSString` path methods treated them.
enum Path {
    /// The folder of `path`: `/a/b` for `/a/b/c`, `/` for `/a`, empty for `a`.
    static func folder(of path: String) -> String {
        var trimmed = Substring(path)
        while trimmed.count > 1, trimmed.hasSuffix("/") { trimmed.removeLast() }
        guard let slash = trimmed.lastIndex(of: "/") else { return "" }
        let folder = trimmed[..<slash]
        return folder.isEmpty ? "/" : String(folder)
    }

    /// `component` inside `folder`.
    static func join(_ folder: String, _ component: String) -> String {
        if folder.isEmpty { return component }
        if component.isEmpty { return folder }
        return (folder.hasSuffix("/") ? folder : folder + "/")
            + (component.hasPrefix("/") ? String(component.dropFirst()) : component)
    }

    /// `~` and `~/…` in the user's home folder (`$HOME`, else the password database), `~name/…`
    /// in `name`'s; anything else as it is.
    static func expandingTilde(_ path: String) -> String {
        guard path.hasPrefix("~") else { return path }
        let slash = path.firstIndex(of: "/") ?? path.endIndex
        let user = path[path.index(after: path.startIndex)..<slash]
        let home: String?
        if user.isEmpty {
            home = ProcessEnvironment.value("HOME").flatMap { $0.isEmpty ? nil : $0 } ?? passwordHome(nil)
        } else {
            home = passwordHome(String(user))
        }
        guard let home else { return path }
        let rest = path[slash...]
        return rest.isEmpty ? home : join(home, String(rest.dropFirst()))
    }

    /// The home folder of `user` (this process's user when `nil`) in the password database.
    static func passwordHome(_ user: String?) -> String? {
        var entry = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 16384)
        let status =
            user.map { name in getpwnam_r(name, &entry, &buffer, buffer.count, &result) }
            ?? getpwuid_r(getuid(), &entry, &buffer, buffer.count, &result)
        guard status == 0, result != nil, let directory = entry.pw_dir else { return nil }
        return String(cString: directory)
    }

    /// The current folder.
    static var currentFolder: String {
        guard let folder = getcwd(nil, 0) else { return "/" }
        defer { free(folder) }
        return String(cString: folder)
    }
}

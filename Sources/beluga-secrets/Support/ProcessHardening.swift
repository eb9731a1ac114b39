import CGNUExtensions

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// What the process does to itself before anything else: secret values, tokens and private keys
/// pass through its memory (libcurl's and OpenSSL's buffers, the JSON of Secrets), so that
/// memory must not end up in a core file or in a debugger of another process of the same user.
enum ProcessHardening {
    /// Makes the process undumpable (`PR_SET_DUMPABLE` 0: no core dump, no `ptrace` or `gcore`
    /// by processes of the same user, `/proc/<pid>` readable by root only) and sets its core
    /// size limit to 0, which also holds for the programs it starts (credential plugins).
    /// Failures are ignored: the process works as before, only less guarded.
    static func apply() {
        #if os(Linux)
            _ = cgnu_set_dumpable(0)
        #endif
        var limit = rlimit(rlim_cur: 0, rlim_max: 0)
        #if os(Linux)
            _ = setrlimit(__rlimit_resource_t(RLIMIT_CORE.rawValue), &limit)
        #else
            _ = setrlimit(RLIMIT_CORE, &limit)
        #endif
    }
}

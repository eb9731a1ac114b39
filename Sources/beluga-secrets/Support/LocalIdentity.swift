#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Who runs the command, for the `sealedBy` an envelope records.
enum LocalIdentity {
    /// `user@host` from the password database and the host name.
    static func userAtHost() -> String {
        var user = "uid\(geteuid())"
        if let entry = getpwuid(geteuid()), let name = entry.pointee.pw_name {
            user = String(cString: name)
        }
        var host = [CChar](repeating: 0, count: 256)
        guard gethostname(&host, host.count - 1) == 0 else { return user }
        let hostName = String(decoding: host.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return hostName.isEmpty ? user : "\(user)@\(hostName)"
    }
}

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// This process's environment, read from `environ` when asked (so a variable removed with
/// `unsetenv`, as `--from-env` does with the value it read, is gone from it).
public enum ProcessEnvironment {
    /// The variables by name; for a name defined twice, the first definition (the one
    /// `getenv` finds).
    public static var current: [String: String] {
        var variables: [String: String] = [:]
        for entry in entries {
            guard let equals = entry.firstIndex(of: "=") else { continue }
            let name = String(entry[..<equals])
            if variables[name] == nil { variables[name] = String(entry[entry.index(after: equals)...]) }
        }
        return variables
    }

    /// The `NAME=value` entries, in order.
    static var entries: [String] {
        var result: [String] = []
        let start: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = environ
        guard var pointer = start else { return result }
        while let entry = pointer.pointee {
            result.append(String(cString: entry))
            pointer += 1
        }
        return result
    }

    /// The value of `name`, or `nil` when it is not set.
    public static func value(_ name: String) -> String? { getenv(name).map { String(cString: $0) } }
}

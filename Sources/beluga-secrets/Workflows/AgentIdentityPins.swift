import JSONValue
import SecretSync
import Sealing
import TimeFormat

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The agents' identity keys this user has trusted, per API server, namespace and public-key
/// ConfigMap, in `known-agents.json` of the configuration folder (like ssh's known_hosts).
/// Several releases in one namespace have several agents, each with its own identity and its own
/// public-key ConfigMap, so each has its own pin. An entry without `configMap` (written before
/// pins named it) is the pin of the fixed name `beluga-secrets-public-key`.
///
/// The first `set` in a namespace pins the identity key the agent publishes; later ones accept
/// any sealing key that identity signed and marked current, and refuse a different identity
/// until the user accepts it with `--accept-new-identity`. With the identity, each entry keeps
/// the highest current-key counter seen, so a current-key statement replayed from before a
/// rotation is refused. The file holds public keys only; it is written 0600 in a 0700 folder,
/// replaced atomically, each change made under a lock on `known-agents.json.lock` to the file as
/// it is then.
struct AgentIdentityPins {
    let path: String

    /// One pinned identity.
    struct Pin: Equatable {
        var server: String
        var namespace: String
        /// The public-key ConfigMap the identity was read from.
        var configMap: String
        /// Standard base64 of the Ed25519 identity public key.
        var identity: String
        var pinnedAt: String
        /// The highest current-key counter seen under this identity, and the key it named.
        var currentCounter: Int?
        var currentKid: String?

        func matches(server: String, namespace: String, configMap: String) -> Bool {
            self.server == server && self.namespace == namespace && self.configMap == configMap
        }
    }

    static func standard() throws -> AgentIdentityPins {
        AgentIdentityPins(path: try ConfigFolder.path() + "/known-agents.json")
    }

    /// What checking an identity found.
    enum Verdict: Equatable {
        /// This identity is pinned for the server and namespace.
        case known
        /// Nothing is pinned yet: it will be pinned on first use.
        case firstUse
        /// Another identity is pinned: the published one changed.
        case changed(pinned: Pin)
    }

    func check(_ identity: SigningPublicKey, server: String, namespace: String, configMap: String) throws
        -> Verdict
    {
        guard let pin = try pinned(server: server, namespace: namespace, configMap: configMap) else {
            return .firstUse
        }
        return pin.identity == identity.base64 ? .known : .changed(pinned: pin)
    }

    /// What checking the published keys found: the identity's verdict, and for a known identity
    /// whether the key marked current is older than one seen before.
    enum KeysVerdict: Equatable {
        case known
        case firstUse
        case changed(pinned: Pin)
        /// The identity is the pinned one, but its statement of the current key has a lower
        /// counter than one seen (or the same counter for another key): an old one put back.
        case currentReplayed(pinned: Pin)
    }

    func check(_ published: PublishedKeys, server: String, namespace: String, configMap: String) throws
        -> KeysVerdict
    {
        guard let pin = try pinned(server: server, namespace: namespace, configMap: configMap) else {
            return .firstUse
        }
        guard pin.identity == published.identity.base64 else { return .changed(pinned: pin) }
        let statement = published.currentStatement
        if let seen = pin.currentCounter,
            statement.counter < seen
                || (statement.counter == seen && pin.currentKid.map { $0 != statement.kid } ?? false)
        {
            return .currentReplayed(pinned: pin)
        }
        return .known
    }

    func pinned(server: String, namespace: String, configMap: String) throws -> Pin? {
        try read().first(where: { $0.matches(server: server, namespace: namespace, configMap: configMap) })
    }

    /// Pins the published identity for the server and namespace with its current key's counter,
    /// replacing what was pinned.
    func pin(_ published: PublishedKeys, server: String, namespace: String, configMap: String) throws {
        try update { pins in
            pins.removeAll { $0.matches(server: server, namespace: namespace, configMap: configMap) }
            pins.append(
                Pin(
                    server: server, namespace: namespace, configMap: configMap,
                    identity: published.identity.base64,
                    pinnedAt: RFC3339.format(.now()), currentCounter: published.currentStatement.counter,
                    currentKid: published.currentStatement.kid))
            return true
        }
    }

    /// Raises the counter kept for the pinned identity to the published one, if higher.
    func noteCurrent(_ published: PublishedKeys, server: String, namespace: String, configMap: String) throws
    {
        try update { pins in
            guard
                let index = pins.firstIndex(where: {
                    $0.matches(server: server, namespace: namespace, configMap: configMap)
                        && $0.identity == published.identity.base64
                }),
                (pins[index].currentCounter ?? 0) < published.currentStatement.counter
            else { return false }
            pins[index].currentCounter = published.currentStatement.counter
            pins[index].currentKid = published.currentStatement.kid
            return true
        }
    }

    /// Applies `change` to the pins as the file holds them now and writes the result when
    /// `change` says so, holding an exclusive lock on the sibling `known-agents.json.lock`
    /// throughout: two commands pinning two clusters at once (processes, or the tasks of one
    /// run on several contexts) would otherwise each write back what it read, and one pin
    /// would be lost. The lock is held for a read and a write, never across a request.
    private func update(_ change: (inout [Pin]) throws -> Bool) throws {
        try KeyFolder.prepare(folder)
        let lockPath = path + ".lock"
        let lock = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard lock >= 0 else {
            throw CommandError(
                "cannot open \(lockPath): \(String(cString: strerror(errno))); check the folder's permissions"
            )
        }
        // Closing the descriptor releases the lock.
        defer { close(lock) }
        while flock(lock, LOCK_EX) != 0 {
            guard errno == EINTR else {
                throw CommandError(
                    "cannot lock \(lockPath): \(String(cString: strerror(errno))); check the folder's permissions"
                )
            }
        }
        var pins = try read()
        guard try change(&pins) else { return }
        try write(pins)
    }

    private var folder: String { String(path[..<(path.lastIndex(of: "/") ?? path.startIndex)]) }

    func read() throws -> [Pin] {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            if errno == ENOENT { return [] }
            throw CommandError(
                "cannot read \(path): \(String(cString: strerror(errno))); check its permissions")
        }
        defer { close(descriptor) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = buffer.withUnsafeMutableBytes { ValueReader.readAll(descriptor, into: $0) }
            guard count >= 0 else {
                throw CommandError(
                    "cannot read \(path): \(String(cString: strerror(errno))); check its permissions")
            }
            bytes += buffer[0..<count]
            if count < buffer.count { break }
        }
        guard let json = try? JSON(parsing: bytes), let agents = json["agents"]?.arrayValue else {
            throw CommandError(
                "\(path) is not the file beluga-secrets writes: remove it (the next set pins the agents again)"
            )
        }
        return agents.compactMap { entry in
            guard let server = entry["server"]?.stringValue, let namespace = entry["namespace"]?.stringValue,
                let identity = entry["identity"]?.stringValue
            else { return nil }
            return Pin(
                server: server, namespace: namespace,
                configMap: entry["configMap"]?.stringValue ?? ObjectNames.Legacy.publicKeyConfigMap,
                identity: identity,
                pinnedAt: entry["pinnedAt"]?.stringValue ?? "",
                currentCounter: entry["currentCounter"]?.intValue.flatMap {
                    $0 >= 1 && $0 <= CurrentKeyStatement.maximumCounter ? $0 : nil
                },
                currentKid: entry["currentKid"]?.stringValue)
        }
    }

    private func write(_ pins: [Pin]) throws {
        let document: JSON = [
            "agents": .array(
                pins.map { pin in
                    var entry: JSON = [
                        "server": .string(pin.server), "namespace": .string(pin.namespace),
                        "configMap": .string(pin.configMap), "identity": .string(pin.identity),
                        "pinnedAt": .string(pin.pinnedAt),
                    ]
                    if let counter = pin.currentCounter { entry["currentCounter"] = .int(counter) }
                    if let kid = pin.currentKid { entry["currentKid"] = .string(kid) }
                    return entry
                })
        ]
        let temporary = path + ".tmp-\(getpid())"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw CommandError(
                "cannot write \(temporary): \(String(cString: strerror(errno))); check the folder's permissions"
            )
        }
        let written = StandardOutput.writeAll(Array((document.prettyText() + "\n").utf8), to: descriptor)
        let synced = fsync(descriptor) == 0
        close(descriptor)
        guard written, synced, rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw CommandError("cannot write \(path): \(reason); check the folder's permissions")
        }
    }
}

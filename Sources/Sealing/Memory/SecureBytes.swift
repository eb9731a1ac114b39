import CSodium
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Bytes that must not leak: secret values, private keys, decrypted payloads.
///
/// The memory is locked (`sodium_mlock`: kept out of swap and core dumps) when the system
/// allows it, and is zeroed when the buffer is released. A released page-sized buffer's page may
/// stay locked, zeroed, for the next buffer (`LockedPages`). The contents are fixed once the
/// initialiser returns, which is what makes sharing a buffer between tasks sound. A buffer never
/// prints its contents: `description`, `debugDescription` and reflection show
/// `<redacted N bytes>`. Equality runs in constant time (`sodium_memcmp`).
public final class SecureBytes: @unchecked Sendable {
    /// Page-aligned and page-rounded, so that unlocking one buffer never unlocks a page another
    /// buffer shares (mlock does not nest).
    private let base: UnsafeMutableRawPointer?
    private let allocatedLength: Int

    /// Number of bytes held.
    public let count: Int

    /// Whether the memory is locked. Locking fails without privileges or above
    /// `RLIMIT_MEMLOCK`; the buffer is then still zeroed on release.
    public let isLocked: Bool

    /// A buffer of at most `capacity` bytes, filled by `body`, which returns how many bytes it
    /// wrote. Whatever `body` wrote beyond that count is zeroed before this returns.
    public init<E: Error>(
        capacity: Int, initializingWith body: (UnsafeMutableRawBufferPointer) throws(E) -> Int
    ) throws(E) {
        precondition(capacity >= 0, "negative capacity")
        Sodium.ensureInitialised()
        guard capacity > 0 else {
            let written = try body(UnsafeMutableRawBufferPointer(start: nil, count: 0))
            precondition(written == 0, "wrote beyond the capacity of a SecureBytes")
            base = nil
            allocatedLength = 0
            count = 0
            isLocked = false
            return
        }
        let page = LockedPages.pageSize
        let length = (capacity + page - 1) / page * page
        let pointer: UnsafeMutableRawPointer
        let locked: Bool
        if length == page, let reused = LockedPages.take() {
            // Zeroed and still locked since its last use.
            pointer = reused
            locked = true
        } else {
            var allocated: UnsafeMutableRawPointer?
            guard posix_memalign(&allocated, page, length) == 0, let allocated else {
                fatalError("out of memory allocating \(length) bytes")
            }
            pointer = allocated
            // Failure to lock (ENOMEM above RLIMIT_MEMLOCK, EPERM in restricted containers) is
            // not fatal: the bytes are still zeroed on release, which is what matters most.
            locked = sodium_mlock(pointer, length) == 0
            sodium_memzero(pointer, length)
        }
        let written: Int
        do {
            written = try body(UnsafeMutableRawBufferPointer(start: pointer, count: capacity))
        } catch {
            Self.release(pointer, length: length, locked: locked)
            throw error
        }
        precondition((0...capacity).contains(written), "wrote beyond the capacity of a SecureBytes")
        sodium_memzero(pointer + written, length - written)
        base = pointer
        allocatedLength = length
        count = written
        isLocked = locked
    }

    /// A copy of `bytes`. The caller stays responsible for zeroing its own copy.
    public convenience init(copying bytes: UnsafeRawBufferPointer) {
        self.init(capacity: bytes.count) { target in
            target.copyMemory(from: bytes)
            return bytes.count
        }
    }

    /// A copy of `bytes`, for values that are not secret at their origin (tests, fixtures).
    public convenience init(_ bytes: [UInt8]) {
        self.init(capacity: bytes.count) { target in
            bytes.withUnsafeBytes { target.copyMemory(from: $0) }
            return bytes.count
        }
    }

    /// `count` bytes from libsodium's random source (`randombytes_buf`).
    public convenience init(randomCount: Int) {
        self.init(capacity: randomCount) { target in
            randombytes_buf(target.bytes, target.count)
            return target.count
        }
    }

    /// Gives `body` read access to the bytes; the pointer must not escape the call.
    public func withUnsafeBytes<R, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        try body(UnsafeRawBufferPointer(start: base, count: count))
    }

    /// Zeroes memory this module does not own (for instance the process's copy of an
    /// environment variable that held a secret), in a way the compiler cannot optimise away.
    public static func wipe(_ pointer: UnsafeMutableRawPointer, count: Int) {
        sodium_memzero(pointer, count)
    }

    deinit {
        if let base { Self.release(base, length: allocatedLength, locked: isLocked) }
    }

    private static func release(_ pointer: UnsafeMutableRawPointer, length: Int, locked: Bool) {
        if locked, length == LockedPages.pageSize {
            sodium_memzero(pointer, length)
            if LockedPages.give(pointer) { return }
        }
        if locked {
            // sodium_munlock zeroes before unlocking.
            _ = sodium_munlock(pointer, length)
        } else {
            sodium_memzero(pointer, length)
        }
        free(pointer)
    }
}

/// Locked pages of released one-page buffers, zeroed, kept for the next buffers: locking and
/// unlocking are system calls, and the agent makes two small buffers for every envelope it
/// opens. At most `capacity` pages stay locked this way.
enum LockedPages {
    static let pageSize = max(Int(sysconf(Int32(_SC_PAGESIZE))), 4096)
    static let capacity = 32
    /// The pages' addresses.
    private static let pages = Mutex<[UInt]>([])

    /// A zeroed, locked page, or nil when none is kept.
    static func take() -> UnsafeMutableRawPointer? {
        pages.withLock { $0.popLast() }.flatMap { UnsafeMutableRawPointer(bitPattern: $0) }
    }

    /// Keeps a zeroed, locked page; false when enough are kept (the caller then unlocks and
    /// frees it).
    static func give(_ page: UnsafeMutableRawPointer) -> Bool {
        let address = UInt(bitPattern: page)
        return pages.withLock { pages in
            guard pages.count < capacity else { return false }
            pages.append(address)
            return true
        }
    }

    /// How many pages are kept.
    static var count: Int { pages.withLock { $0.count } }
}

extension SecureBytes: Equatable {
    /// Constant-time comparison of the contents (the lengths are not secret).
    public static func == (lhs: SecureBytes, rhs: SecureBytes) -> Bool {
        guard lhs.count == rhs.count else { return false }
        guard lhs.count > 0 else { return true }
        return lhs.withUnsafeBytes { left in
            rhs.withUnsafeBytes { right in sodium_memcmp(left.bytes, right.bytes, left.count) == 0 }
        }
    }
}

extension SecureBytes: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var description: String { "<redacted \(count) bytes>" }
    public var debugDescription: String { description }
    public var customMirror: Mirror { Mirror(self, children: [], displayStyle: .struct) }
}

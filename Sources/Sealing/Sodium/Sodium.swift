import CSodium

/// One-time initialisation of libsodium.
///
/// `sodium_init` must run before any other libsodium call (it picks the fastest implementations
/// and opens the random source). A global `let` is initialised exactly once, thread-safely, on
/// first use, which is what libsodium asks for.
enum Sodium {
    private static let initialised: Bool = sodium_init() >= 0

    /// Makes sure libsodium is ready; every entry point of this module calls it first.
    static func ensureInitialised() {
        guard initialised else {
            // sodium_init only fails when the system offers no random source; nothing in this
            // module can work without one, so stopping is the only safe answer.
            fatalError("libsodium could not be initialised (no usable random source)")
        }
    }
}

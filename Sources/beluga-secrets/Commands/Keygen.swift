import ArgumentParser
import Sealing

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// `beluga-secrets keygen`: a sealing key pair in files, for sealing without a cluster.
struct Keygen: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create a sealing key pair (X25519) in a folder.",
        discussion: """
            Writes sealing.key (the private key, mode 0600) and sealing.pub (the public key) \
            into the folder, both or neither, creating it with mode 0700 when missing, and prints \
            the key id. \
            Each file holds the base64 of the raw 32-byte key and a newline. Envelopes sealed \
            to sealing.pub open only with sealing.key: keep it safe.
            """)

    @Option(name: .long, help: ArgumentHelp("Folder to write the key files into.", valueName: "dir"))
    var out: String

    @Flag(
        help: "Replace existing key files (envelopes sealed to the old key no longer open with the new one).")
    var force = false

    func run() throws {
        try KeyFolder.prepare(out)
        let privatePath = out + "/sealing.key"
        let publicPath = out + "/sealing.pub"
        if !force {
            for path in [privatePath, publicPath] where access(path, F_OK) == 0 {
                throw CommandError(
                    "\(path) already exists: pass --force to replace the key pair "
                        + "(envelopes sealed to the old key will not open with the new one)")
            }
        }
        let pair = SealingKeyPair.generate()
        try pair.writeFiles(privateKey: privatePath, publicKey: publicPath, replacing: force)
        print(pair.keyID)
    }
}

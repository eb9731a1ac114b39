import CGNUExtensions

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A program started with `posix_spawn` and watched to its end, blocking the calling thread:
/// its standard output (and, unless it is inherited, standard error) read through pipes, a
/// time limit after which it is killed, and nothing of this process leaking into it: the
/// environment is the one given, descriptors other than 0, 1 and 2 are closed, the signal mask
/// is empty and every signal has its default action (a handler or an ignored SIGPIPE here would
/// otherwise carry over).
struct ChildProcess {
    var executable: String
    /// `argv[1...]`.
    var arguments: [String]
    /// `NAME=value` entries, the whole environment of the child.
    var environment: [String]
    /// Standard input and error are this process's own (a plugin talking to the user); else
    /// input is `/dev/null` and error a pipe, and the child leads a process group of its own,
    /// so that a time-out kills what it started too.
    var interactive: Bool

    enum Termination: Equatable {
        case exited(Int32)
        case signalled(Int32)
        /// Not finished within the time limit: killed.
        case timedOut
        /// Reaped by someone else (SIGCHLD ignored): how it ended is not known.
        case unknown
    }

    struct Outcome {
        var termination: Termination
        var output: [UInt8]
        var errorOutput: [UInt8]
    }

    /// Once the child has ended, how long its output may stay open (a grandchild that inherited
    /// it may keep it open): the output read by then is what there is.
    static let drainLimit: Duration = .seconds(5)

    /// How long a program that is busy being written (ETXTBSY) is tried again.
    static let busyLimit: Duration = .seconds(10)

    /// Runs the program; the `errno` of the failure when it could not be started.
    func run(timeout: Duration, outputLimit: Int, errorLimit: Int) -> Result<Outcome, SpawnFailure> {
        var outputPipe: [Int32] = [-1, -1]
        var errorPipe: [Int32] = [-1, -1]
        defer { for descriptor in outputPipe + errorPipe where descriptor >= 0 { close(descriptor) } }
        guard pipe2(&outputPipe, O_CLOEXEC) == 0, interactive || pipe2(&errorPipe, O_CLOEXEC) == 0 else {
            return .failure(SpawnFailure(code: errno))
        }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, outputPipe[1], 1)
        if !interactive {
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
            posix_spawn_file_actions_adddup2(&actions, errorPipe[1], 2)
        }
        #if os(Linux)
            // Sockets and files this process holds without close-on-exec stay here.
            posix_spawn_file_actions_addclosefrom_np(&actions, 3)
        #endif

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        var allSignals = sigset_t()
        sigfillset(&allSignals)
        posix_spawnattr_setsigdefault(&attributes, &allSignals)
        var flags = Int32(POSIX_SPAWN_SETSIGMASK) | Int32(POSIX_SPAWN_SETSIGDEF)
        if !interactive {
            flags |= Int32(POSIX_SPAWN_SETPGROUP)
            posix_spawnattr_setpgroup(&attributes, 0)
        }
        posix_spawnattr_setflags(&attributes, Int16(flags))

        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup($0) } + [nil]
        defer { for pointer in argv + envp { free(pointer) } }
        var pid = pid_t()
        var spawned = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
        // ETXTBSY: the program is still open for writing somewhere, typically in a child that
        // another thread forked just as the file was written and that has not reached its exec
        // (which closes it) yet. That ends by itself, so try again for a while, as Go's os/exec
        // does, rather than fail a plugin that was just installed.
        let clock = ContinuousClock()
        let giveUp = clock.now + Self.busyLimit
        var wait = Duration.milliseconds(1)
        while spawned == ETXTBSY, clock.now < giveUp {
            usleep(UInt32(wait.inMicroseconds))
            wait = min(wait * 2, .milliseconds(100))
            spawned = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
        }
        // The child holds the write ends now; this process must not, or their end never comes.
        close(outputPipe[1])
        outputPipe[1] = -1
        if errorPipe[1] >= 0 {
            close(errorPipe[1])
            errorPipe[1] = -1
        }
        guard spawned == 0 else { return .failure(SpawnFailure(code: spawned)) }

        var reader = OutputReader(
            output: outputPipe[0], error: errorPipe[0], outputLimit: outputLimit, errorLimit: errorLimit)
        let termination = watch(pid, reader: &reader, timeout: timeout)
        return .success(
            Outcome(termination: termination, output: reader.output, errorOutput: reader.errorOutput))
    }

    /// Reads the output while waiting for the child to end, until the time limit.
    private func watch(_ pid: pid_t, reader: inout OutputReader, timeout: Duration) -> Termination {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        var ended: Termination?
        var drainDeadline = deadline
        var pause = Duration.milliseconds(1)
        while true {
            if ended == nil {
                ended = Self.reap(pid, blocking: false)
                if ended != nil { drainDeadline = clock.now + Self.drainLimit }
            }
            let now = clock.now
            if let ended, reader.finished || now >= drainDeadline { return ended }
            if ended == nil, now >= deadline {
                kill(interactive ? pid : -pid, SIGKILL)
                _ = Self.reap(pid, blocking: true)
                return .timedOut
            }
            if reader.finished {
                // The output has ended, the child not yet: it is exiting, or it closed its
                // output and goes on. Look again soon, then less and less often.
                usleep(UInt32(pause.inMicroseconds))
                pause = min(pause * 2, .milliseconds(50))
            } else {
                // Wake up now and then to notice a child that ended while a grandchild keeps
                // its output open.
                reader.readAvailable(
                    waiting: min(.milliseconds(50), (ended == nil ? deadline : drainDeadline) - now))
            }
        }
    }

    /// The child's end, if it has ended (or, `blocking`, once it has).
    private static func reap(_ pid: pid_t, blocking: Bool) -> Termination? {
        var status: Int32 = 0
        while true {
            let result = waitpid(pid, &status, blocking ? 0 : WNOHANG)
            if result == pid { break }
            if result == 0 { return nil }
            if errno == EINTR { continue }
            return .unknown
        }
        // WIFEXITED, WEXITSTATUS, WTERMSIG: macros Swift does not import.
        let signal = status & 0x7F
        return signal == 0 ? .exited((status >> 8) & 0xFF) : .signalled(signal)
    }
}

/// Why a program could not be started: an `errno` value.
struct SpawnFailure: Error {
    var code: Int32
    var description: String { String(cString: strerror(code)) }
}

/// Reads a child's standard output and error as they come, keeping at most a limit of each
/// (and reading on past it, so that the child never blocks on a full pipe).
private struct OutputReader {
    private var descriptors: [pollfd]
    private let limits: [Int]
    private var buffers: [[UInt8]] = [[], []]

    init(output: Int32, error: Int32, outputLimit: Int, errorLimit: Int) {
        descriptors = [
            pollfd(fd: output, events: Int16(POLLIN), revents: 0),
            pollfd(fd: error, events: Int16(POLLIN), revents: 0),
        ]
        limits = [outputLimit, errorLimit]
    }

    var output: [UInt8] { buffers[0] }
    var errorOutput: [UInt8] { buffers[1] }
    /// Every stream has reached its end.
    var finished: Bool { descriptors.allSatisfy { $0.fd < 0 } }

    /// Waits up to `limit` for output, and reads what there is. A stream at its end is no longer
    /// watched (`poll` skips negative descriptors); the descriptors are the caller's to close.
    mutating func readAvailable(waiting limit: Duration) {
        let milliseconds = Int32(clamping: max(0, limit.inMilliseconds))
        let ready = descriptors.withUnsafeMutableBufferPointer {
            poll($0.baseAddress, nfds_t($0.count), milliseconds)
        }
        guard ready > 0 else { return }
        var chunk = [UInt8](repeating: 0, count: 16384)
        for index in descriptors.indices where descriptors[index].fd >= 0 && descriptors[index].revents != 0 {
            let count = chunk.withUnsafeMutableBytes { read(descriptors[index].fd, $0.baseAddress, $0.count) }
            if count > 0 {
                let room = max(0, limits[index] - buffers[index].count)
                buffers[index].append(contentsOf: chunk[0..<min(count, room)])
            } else if count == 0 || (errno != EINTR && errno != EAGAIN) {
                descriptors[index].fd = -1
            }
        }
    }
}

// GNU extensions of glibc that Swift's Glibc module does not show (it is built without
// _GNU_SOURCE). All are in glibc 2.34 and later (Debian bookworm has 2.36).
#include <pthread.h>
#include <spawn.h>
#include <sys/prctl.h>

// pipe(2) with flags: the descriptors are close-on-exec from the start, so a process spawned by
// another thread meanwhile cannot inherit them.
extern int pipe2(int pipefd[2], int flags);

// Closes every descriptor from `from` up in the child, whatever this process holds open.
extern int posix_spawn_file_actions_addclosefrom_np(posix_spawn_file_actions_t *actions, int from);

// Names a thread (15 bytes at most), as debuggers and /proc/<pid>/task/*/comm show it.
extern int pthread_setname_np(pthread_t thread, const char *name);

// prctl(2) is variadic, which Swift cannot call: PR_SET_DUMPABLE and PR_GET_DUMPABLE. A process
// that is not dumpable writes no core file and cannot be attached to (ptrace, gcore) by other
// processes of its user; its /proc/<pid> files belong to root.
static inline int cgnu_set_dumpable(int dumpable) {
    return prctl(PR_SET_DUMPABLE, (unsigned long)dumpable, 0UL, 0UL, 0UL);
}
static inline int cgnu_get_dumpable(void) {
    return prctl(PR_GET_DUMPABLE, 0UL, 0UL, 0UL, 0UL);
}

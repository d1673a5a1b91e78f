// Linux system calls that Swift's Glibc module leaves out: glibc declares them only
// under _GNU_SOURCE, which the Glibc module is not built with.
#define _GNU_SOURCE 1
#include <unistd.h>

// syncfs(2): flushes one filesystem (data and metadata), for group commit.
static inline int arc_syncfs(int fd) {
    return syncfs(fd);
}

// Linux system calls that Swift's Glibc module leaves out: glibc declares them only
// under _GNU_SOURCE, which the Glibc module is not built with.
#define _GNU_SOURCE 1
#include <unistd.h>

// syncfs(2): flushes one filesystem (data and metadata), for group commit.
static inline int arc_syncfs(int fd) {
    return syncfs(fd);
}

#include <sys/vfs.h>

// Whether syncfs(2) on `fd`'s filesystem reaches the storage: not on FUSE (its daemons
// hear of fsync, not of syncfs), where each file must be fsync'ed on its own.
static inline int arc_syncfs_is_durable(int fd) {
    struct statfs st;
    if (fstatfs(fd, &st) != 0) return 0;
    return st.f_type != 0x65735546; // FUSE_SUPER_MAGIC
}

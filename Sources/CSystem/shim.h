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

#include <fcntl.h>
#include <errno.h>

// fallocate(2) of a whole file's blocks (mode 0: the size grows to `length`), or the errno
// why not. Not posix_fallocate: where the filesystem cannot, glibc's falls back to writing
// a byte into every block, slower than the writes it was meant to spare.
static inline int arc_fallocate(int fd, long long length) {
    return fallocate(fd, 0, 0, (off_t)length) == 0 ? 0 : errno;
}

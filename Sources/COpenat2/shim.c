#include "COpenat2.h"

#include <errno.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

int COpenat2_openat2(int dirfd, const char *path, uint64_t flags, uint64_t resolve) {
#ifdef SYS_openat2
    struct open_how how = { .flags = flags, .mode = 0, .resolve = resolve };
    return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof how);
#else
    errno = ENOSYS;
    return -1;
#endif
}

const uint64_t COpenat2_RESOLVE_BENEATH = RESOLVE_BENEATH;
const uint64_t COpenat2_RESOLVE_NO_SYMLINKS = RESOLVE_NO_SYMLINKS;
const uint64_t COpenat2_RESOLVE_NO_MAGICLINKS = RESOLVE_NO_MAGICLINKS;

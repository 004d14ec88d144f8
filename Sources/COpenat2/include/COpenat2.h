// Shim over openat2(2): glibc 2.36 has no wrapper, and syscall(2) is variadic (Swift cannot call it).
// Only Sources/Pipeline/Input may import this module.
#ifndef COPENAT2_H
#define COPENAT2_H

#include <stdint.h>

/// `openat2(dirfd, path, {flags, 0, resolve})`: the new descriptor, or -1 and errno (ENOSYS where the kernel
/// predates Linux 5.6, EPERM where a seccomp filter refuses it).
int COpenat2_openat2(int dirfd, const char *path, uint64_t flags, uint64_t resolve);

/// Refuse `..` and absolute paths that leave `dirfd`, and symlinks that would.
extern const uint64_t COpenat2_RESOLVE_BENEATH;
/// Refuse every symbolic link on the path (the last component included).
extern const uint64_t COpenat2_RESOLVE_NO_SYMLINKS;
/// Refuse /proc-style magic links.
extern const uint64_t COpenat2_RESOLVE_NO_MAGICLINKS;

#endif

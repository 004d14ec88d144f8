// Shim over the Linux file calls Swift's Glibc module does not import (they are declared only under _GNU_SOURCE):
// renameat2(RENAME_NOREPLACE), syncfs, copy_file_range and open-file-description locks.
// Only Sources/WatchFolder/Files may import this module.
#ifndef CFILES_H
#define CFILES_H

#include <stddef.h>
#include <sys/types.h>

/// `renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE)`: 0, or -1 and errno (`EEXIST` when `to` exists;
/// `EINVAL` or `ENOSYS` when the filesystem or kernel does not support the flag). Never replaces `to`.
int CFiles_rename_noreplace(const char *from, const char *to);

/// `syncfs(fd)`: 0, or -1 and errno.
int CFiles_syncfs(int fd);

/// `copy_file_range(in, NULL, out, NULL, length, 0)`: bytes copied, 0 at the end of `in`, or -1 and errno.
ssize_t CFiles_copy_file_range(int in, int out, size_t length);

/// `fcntl(fd, F_OFD_SETLKW, {F_WRLCK, start, 1})`: waits for an exclusive lock on byte `start` of `fd`'s file, owned by
/// this open file description (other processes, and other descriptors of this one, wait); closing `fd` releases it.
/// 0, or -1 and errno (`EINTR`: call again).
int CFiles_lock_byte(int fd, long long start);

#endif

// Shim over <sys/inotify.h>, <sys/eventfd.h> and <sys/vfs.h>: the event's name is a flexible array member,
// the IN_* and EFD_* masks are macros, and statfs' f_type has a libc-dependent type.
// Only Sources/WatchFolder/Intake may import this module.
#ifndef CINOTIFY_H
#define CINOTIFY_H

#include <stdint.h>
#include <sys/inotify.h>

/// The name of an inotify event (empty for events on the watched directory itself).
const char *CInotify_event_name(const struct inotify_event *e);

/// `eventfd(initval, EFD_NONBLOCK | EFD_CLOEXEC)`: -1 and errno on failure.
int CInotify_eventfd_nonblocking(unsigned int initval);

/// `statfs(path)`'s filesystem magic (`f_type`) in `*type`: 0 on success, -1 and errno on failure.
int CInotify_statfs_type(const char *path, int64_t *type);

extern const uint32_t CInotify_IN_CLOSE_WRITE;
extern const uint32_t CInotify_IN_MOVED_TO;
extern const uint32_t CInotify_IN_MOVED_FROM;
extern const uint32_t CInotify_IN_CREATE;
extern const uint32_t CInotify_IN_DELETE;
extern const uint32_t CInotify_IN_MODIFY;
extern const uint32_t CInotify_IN_DELETE_SELF;
extern const uint32_t CInotify_IN_MOVE_SELF;
extern const uint32_t CInotify_IN_Q_OVERFLOW;
extern const uint32_t CInotify_IN_IGNORED;
extern const uint32_t CInotify_IN_ISDIR;
extern const uint32_t CInotify_IN_UNMOUNT;
extern const uint32_t CInotify_IN_ONLYDIR;
extern const uint32_t CInotify_IN_EXCL_UNLINK;
extern const int CInotify_IN_NONBLOCK;
extern const int CInotify_IN_CLOEXEC;

#endif

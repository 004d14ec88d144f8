// Shim over <sys/inotify.h>: the event's name is a flexible array member and the IN_* masks are macros.
// Only Sources/WatchFolder/Intake may import this module.
#ifndef CINOTIFY_H
#define CINOTIFY_H

#include <stdint.h>
#include <sys/inotify.h>

/// The name of an inotify event (empty for events on the watched directory itself).
const char *CInotify_event_name(const struct inotify_event *e);

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

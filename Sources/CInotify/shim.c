#include "CInotify.h"

#include <sys/eventfd.h>
#include <sys/vfs.h>

const char *CInotify_event_name(const struct inotify_event *e) { return e->len > 0 ? e->name : ""; }

int CInotify_eventfd_nonblocking(unsigned int initval) { return eventfd(initval, EFD_NONBLOCK | EFD_CLOEXEC); }

int CInotify_statfs_type(const char *path, int64_t *type) {
    struct statfs s;
    int rc = statfs(path, &s);
    if (rc == 0) *type = (int64_t)(uint32_t)s.f_type;  // f_type is a 32-bit magic stored in a signed long
    return rc;
}

const uint32_t CInotify_IN_CLOSE_WRITE = IN_CLOSE_WRITE;
const uint32_t CInotify_IN_MOVED_TO = IN_MOVED_TO;
const uint32_t CInotify_IN_MOVED_FROM = IN_MOVED_FROM;
const uint32_t CInotify_IN_CREATE = IN_CREATE;
const uint32_t CInotify_IN_DELETE = IN_DELETE;
const uint32_t CInotify_IN_MODIFY = IN_MODIFY;
const uint32_t CInotify_IN_DELETE_SELF = IN_DELETE_SELF;
const uint32_t CInotify_IN_MOVE_SELF = IN_MOVE_SELF;
const uint32_t CInotify_IN_Q_OVERFLOW = IN_Q_OVERFLOW;
const uint32_t CInotify_IN_IGNORED = IN_IGNORED;
const uint32_t CInotify_IN_ISDIR = IN_ISDIR;
const uint32_t CInotify_IN_UNMOUNT = IN_UNMOUNT;
const uint32_t CInotify_IN_ONLYDIR = IN_ONLYDIR;
const uint32_t CInotify_IN_EXCL_UNLINK = IN_EXCL_UNLINK;
const int CInotify_IN_NONBLOCK = IN_NONBLOCK;
const int CInotify_IN_CLOEXEC = IN_CLOEXEC;

#!/usr/bin/python3
"""A FUSE filesystem serving one file whose reads block past a given offset: a network share that hangs mid-read.

    stall_fs.py MOUNTPOINT NAME SOURCE STALL_AT MARKER

MOUNTPOINT shows NAME with SOURCE's bytes (a regular file, st_mtime of SOURCE). A read that reaches STALL_AT bytes
blocks until the filesystem is unmounted (`umount -l` ends the peer); each such read appends a line to MARKER first, so a test knows when a
reader is stuck. Reads are direct (no page cache, no read-ahead), so the offsets are the reader's own. Runs in the
foreground; SIGTERM (or the mount going away) ends it. Uses Debian's python3-fusepy (libfuse2).
"""
import errno
import os
import stat
import sys
import threading

try:
    from fusepy import FUSE, FuseOSError, Operations
except ImportError:  # fusepy from PyPI names its module fuse
    from fuse import FUSE, FuseOSError, Operations

mountpoint, name, source, stall_at, marker = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
with open(source, "rb") as f:
    data = f.read()
mtime = os.stat(source).st_mtime
released = threading.Event()


def mounted():
    """True while MOUNTPOINT is mounted (read from the kernel's table: a stat of it would ask this filesystem)."""
    with open("/proc/self/mountinfo") as table:
        return any(line.split()[4] == os.path.abspath(mountpoint) for line in table)


class StallFS(Operations):
    def getattr(self, path, fh=None):
        if path == "/":
            return dict(st_mode=stat.S_IFDIR | 0o755, st_nlink=2, st_mtime=mtime)
        if path == "/" + name:
            return dict(st_mode=stat.S_IFREG | 0o644, st_nlink=1, st_size=len(data), st_mtime=mtime, st_ino=2)
        raise FuseOSError(errno.ENOENT)

    def readdir(self, path, fh):
        return [".", "..", name]

    def open(self, path, flags):
        return 0

    def read(self, path, size, offset, fh):
        if offset + size > stall_at:
            with open(marker, "a") as m:
                m.write("blocked at %d\n" % offset)
            while not released.wait(0.5) and mounted():
                pass
            raise FuseOSError(errno.EIO)
        return data[offset:offset + size]

    def destroy(self, path):
        released.set()


FUSE(StallFS(), mountpoint, foreground=True, nothreads=False, direct_io=True, allow_other=True, ro=True)
released.set()

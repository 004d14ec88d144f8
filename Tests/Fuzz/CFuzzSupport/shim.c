#include <sys/mman.h>
#include "CFuzzSupport.h"

int CFuzzSupport_memfd_create(const char *name) { return memfd_create(name, MFD_CLOEXEC); }

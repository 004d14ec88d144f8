#ifndef CFUZZSUPPORT_H
#define CFUZZSUPPORT_H

#include <stddef.h>
#include <stdint.h>

/// An anonymous in-memory file (`memfd_create(name, MFD_CLOEXEC)`): a regular file with no path, for the fuzz
/// harness to hand the engine bytes by descriptor. Swift's Glibc module does not import `memfd_create`.
/// Returns the descriptor, or -1 with errno set.
int CFuzzSupport_memfd_create(const char *name);

/// libFuzzer's driver (in libclang_rt.fuzzer, linked by `-sanitize=fuzzer`): parses libFuzzer's flags from
/// argv and calls `callback` with every input. Declared only; the fuzz target calls it from its `main` (SwiftPM
/// renames an executable's entry point, so libFuzzer's own `main` is not the one linked).
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));

#endif

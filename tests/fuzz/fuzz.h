/* Shared by the libFuzzer harnesses (tests/fuzz/fuzz_*.c) and the replay
 * driver that runs them in `make check` (replay.c). */
#ifndef B2I_FUZZ_H
#define B2I_FUZZ_H

#include "log.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* No log lines and no stale reason from the input before. */
static inline void fuzz_quiet(void)
{
	log_set_level(LOG_QUIET);
	err_clear();
}

/* The input as a file for APIs that open a path: a memfd, so nothing is
 * written to disk; its name is /proc/self/fd/N.  -1 if it cannot be made. */
static inline int fuzz_memfd(const uint8_t *data, size_t size, char path[64])
{
	int fd = memfd_create("fuzz-input", MFD_CLOEXEC);
	size_t done = 0;

	if (fd < 0)
		return -1;
	while (done < size) {
		ssize_t w = write(fd, data + done, size - done);
		if (w <= 0) {
			close(fd);
			return -1;
		}
		done += (size_t)w;
	}
	snprintf(path, 64, "/proc/self/fd/%d", fd);
	return fd;
}

#endif

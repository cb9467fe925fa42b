/* linux_banner: "Linux version <release> (<builder>) (<compiler>) <version>\n\0".
 * Volatility3 identifies a profile by these exact bytes (constant_data). */
#ifndef B2I_BANNER_H
#define B2I_BANNER_H

#include "util.h"

#define BANNER_PREFIX "Linux version "
#define BANNER_MAX 1024

/* Length of the banner at the start of `s`, including its terminating NUL,
 * or 0 if `s` does not start with a plausible banner ("Linux version " +
 * digit, printable text, "\n\0" at the end). */
size_t banner_len(struct span s);

/* Copy the release ("6.1.0-56-amd64") out of a banner into out[n]. */
void banner_release(const uint8_t *banner, size_t len, char *out, size_t n);

/* Banner bytes from a --banner argument: TEXT, or @FILE for a file's content.
 * A missing trailing newline is added, then the NUL, so the bytes match the
 * kernel's array.  -1 with err_set() on a bad argument. */
int banner_from_arg(const char *arg, struct buf *out);

#endif

/* Kernels inside distribution packages and archives, read in-process through
 * libarchive: Debian/Ubuntu .deb (an ar archive whose data.tar.{xz,zst,gz,bz2}
 * is read as a second, nested archive), RPM (its cpio payload), Arch
 * .pkg.tar.zst, and plain tar or cpio with any compression.
 *
 * A member is a kernel when its path is where distributions install one
 * (boot/vmlinu[xz]*, [usr/]lib/modules/REL/vmlinu[xz], usr/lib/debug/...) and
 * its bytes say so (an ELF file, or a compressed kernel kimage recognises).
 * Everything is streamed: a package is never held whole, a member is read
 * into memory (or, above 64 MiB, such as a -dbg vmlinux, into an unlinked
 * temporary file that is mapped), and hostile sizes are capped. */
#ifndef B2I_PACKAGE_H
#define B2I_PACKAGE_H

#include "util.h"

#include <stdbool.h>
#include <stddef.h>

#define PACKAGE_MEMBER_MAX (4ULL << 30)	/* larger members are refused */
#define PACKAGE_HEAD_SIZE (256u << 10)	/* what package_sniff() wants to see */

/* True when `head` (the first PACKAGE_HEAD_SIZE bytes of a file, or all of
 * it) is an archive this module reads: ar, RPM, tar or cpio, compressed or
 * not.  A compressed stream counts only when its content is an archive (a
 * gzip'd vmlinux is not).  Never fails. */
bool package_sniff(struct span head);

/* A kernel copied out of an archive (owned). */
struct package_blob {
	struct span bytes;
	void *heap;		/* bytes are heap memory ... */
	size_t map_len;		/* ... or a mapping of this length */
};
void package_blob_free(struct package_blob *b);	/* NULL-safe, idempotent */

/* A kernel found in an archive: its path inside (leading "./" and "/"
 * removed) and its bytes, valid during the callback only, unless the
 * callback takes them: *own may be moved out (then zero *own). */
struct package_kernel {
	const char *member;
	struct span bytes;
	struct package_blob *own;
};

/* Called for each kernel in archive order.  Return 0 to go on; -1 (with
 * err_set()) stops the walk and package_kernels() returns -1. */
typedef int (*package_kernel_fn)(void *ctx, const struct package_kernel *k);

/* Walk the archive read from fd (streamed; fd >= 0) or held in `mem`
 * (fd < 0), calling fn for every kernel.  `name` names the archive in
 * messages.  Members larger than 64 MiB go to an unlinked file in `tmpdir`
 * (NULL: $TMPDIR, else /tmp).  A .deb whose control.tar lists its files
 * (md5sums) is read only up to its last kernel.  Returns the number of
 * kernels, or -1 with err_set() ("NAME: MEMBER: why") when the archive is
 * corrupt or truncated, a member is too big, or fn failed. */
int package_kernels(const char *name, int fd, struct span mem, const char *tmpdir,
		    package_kernel_fn fn, void *ctx);

/* The one kernel of an in-memory archive (the one-input command line):
 * copied into *out, its name "NAME:MEMBER" into member[n].  -1 with err_set()
 * when the archive holds no kernel or several (they are listed). */
int package_one_kernel(const char *name, struct span mem, struct package_blob *out, char *member,
		       size_t n);

#endif

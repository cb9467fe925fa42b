/* Compressed kernel containers → the vmlinux ELF inside.
 *
 * Handles an x86 bzImage (boot-protocol setup header, payload_offset /
 * payload_length) and, as a fallback, a bare or embedded compressed stream found
 * by magic (gzip, xz, lzma, zstd, lz4 legacy frame, bzip2, lzo as written by the
 * kernel's lzop-compatible compressor).  Decompression uses the Debian -dev
 * libraries (zlib, liblzma, libzstd, liblz4, libbz2, liblzo2). */
#ifndef B2I_KIMAGE_H
#define B2I_KIMAGE_H

#include "util.h"

/* True when `in` is recognisably a compressed kernel container that
 * kimage_extract_vmlinux() should be tried on (bzImage header, or a known
 * compression magic at offset 0).  Cheap; never fails. */
bool kimage_is_compressed_kernel(struct span in);

/* Find and decompress the kernel payload of `in`.  On success returns 0, fills
 * *out (owned by the caller: buf_free) with bytes that start with an ELF header
 * (\x7fELF), and sets *codec to a static name ("gzip", "xz", "lzma", "zstd",
 * "lz4", "bzip2", "lzo").  On failure returns -1 with err_set() naming what was
 * tried and why it failed.  Output is capped at 1 GiB so hostile input cannot
 * exhaust memory; trailing bytes after a compressed stream are ignored. */
int kimage_extract_vmlinux(struct span in, struct buf *out, const char **codec);

#endif

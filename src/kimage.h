/* Compressed kernel containers → the vmlinux ELF inside.
 *
 * Handles an x86 bzImage (boot-protocol setup header: setup_sects,
 * payload_offset / payload_length, protocol ≥ 2.08) and, as a fallback, a bare
 * or embedded compressed stream found by magic like scripts/extract-vmlinux
 * (gzip, xz, lzma, zstd, lz4 legacy frame, bzip2, lzo in the lzop file format
 * the kernel's compressor writes).  Decompression uses the Debian -dev
 * libraries (zlib, liblzma, libzstd, liblz4, libbz2, liblzo2), streaming into
 * one growable buffer; nothing is printed (failures go through err_set()). */
#ifndef B2I_KIMAGE_H
#define B2I_KIMAGE_H

#include "util.h"

/* True when `in` is recognisably a compressed kernel container that
 * kimage_extract_vmlinux() should be tried on (bzImage header, or a known
 * compression magic at offset 0).  Cheap; never fails. */
bool kimage_is_compressed_kernel(struct span in);

/* When `in` starts with a compressed stream: up to n (at most 4096) of its
 * first decompressed bytes into out, whatever they are, and its codec; 0
 * when there is no stream at offset 0 or it does not decode.  To name what a
 * compressed file holds when it is not a kernel. */
size_t kimage_peek(struct span in, uint8_t *out, size_t n, const char **codec);

/* Find and decompress the kernel payload of `in`.
 *
 * The bzImage payload is tried first; if there is no usable setup header or
 * the payload does not decode, every compression magic in the file is tried
 * in file order and the first stream that decompresses to "\x7fELF..." wins.
 *
 * On success returns 0, replaces *out (owned by the caller: buf_free; any
 * previous contents are freed, so pass it zeroed or valid) with bytes that
 * start with an ELF header, and sets *codec to a static name ("gzip", "xz",
 * "lzma", "zstd", "lz4", "bzip2", "lzo").  On failure returns -1, leaves *out
 * untouched, and err_set() says "vmlinuz: " + what was tried, where (file
 * offsets) and why it failed.
 *
 * Trailing bytes after a stream (the kernel's appended size word, padding) are
 * ignored; concatenated members of the same codec (cat a.gz b.gz, pbzip2,
 * pzstd) are decoded as one.  Hostile input is bounded: output is capped at
 * 1 GiB, decoding stops as soon as the first bytes are not "\x7fELF", and the
 * fallback scan gives up after 256 candidates or 2 GiB decoded in vain. */
int kimage_extract_vmlinux(struct span in, struct buf *out, const char **codec);

/* As kimage_extract_vmlinux(), but decompression stops as soon as `enough`
 * says the output holds what the caller needs: it is called with the bytes
 * so far and returns how many are needed (SIZE_MAX: unknown yet, go on). */
typedef size_t (*kimage_enough_fn)(struct span so_far);
int kimage_extract_vmlinux_prefix(struct span in, struct buf *out, const char **codec,
				  kimage_enough_fn enough);

#endif

/* vmlinuz / bzImage (kimage.c): the bzImage setup header and the seven
 * codecs (gzip, xz, lzma, zstd, lz4, bzip2, lzo), found by header or magic. */
#include "fuzz.h"
#include "kimage.h"
#include "vmlinux.h"

#include <stdlib.h>
#include <string.h>

/* What the CLI decompresses (the read-only segments), but at most 64 MiB:
 * the library's own cap is 1 GiB, which a tiny zstd or xz input reaches
 * legitimately in seconds; the harness bounds the time per input. */
static size_t enough(struct span so_far)
{
	size_t need = vmlinux_needed_prefix(so_far);
	return need < ((size_t)64 << 20) ? need : (size_t)64 << 20;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct span in = { data, size };
	struct buf out = { 0 };
	const char *codec = NULL;

	fuzz_quiet();
	(void)kimage_is_compressed_kernel(in);
	if (kimage_extract_vmlinux_prefix(in, &out, &codec, enough) == 0) {
		if (out.len < 4 || memcmp(out.p, "\x7f" "ELF", 4) || !codec)
			abort();	/* success promises an ELF header */
	}
	buf_free(&out);
	return 0;
}

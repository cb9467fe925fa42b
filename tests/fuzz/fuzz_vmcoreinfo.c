/* VMCOREINFO (vmcoreinfo.c): the text parser, and the copies found in RAM
 * by their landmark (the input as a raw image) or in an ELF core's note. */
#include "fuzz.h"
#include "vmcoreinfo.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vmcoreinfo v;
	char path[64];
	struct image img;
	int fd;

	fuzz_quiet();
	memset(&v, 0, sizeof(v));
	(void)vmcoreinfo_parse((struct span){ data, size }, &v);
	if ((fd = fuzz_memfd(data, size, path)) < 0)
		return 0;
	if (image_open(path, &img) == 0) {
		/* Every landmark, as scan.c would report them (at most 64). */
		static const char mark[] = VMCOREINFO_LANDMARK;
		uint64_t hits[64];
		size_t nhits = 0;
		for (size_t i = 0; i < img.nruns && nhits < 64; i++) {
			struct span b = img.runs[i].bytes;
			const uint8_t *p = b.p, *end = b.p + b.n;
			while (nhits < 64 && (p = memmem(p, (size_t)(end - p), mark, sizeof(mark) - 1))) {
				hits[nhits++] = img.runs[i].pa + (uint64_t)(p - b.p);
				p++;
			}
		}
		static struct vmcoreinfo found[8], kept[8];
		size_t n = vmcoreinfo_collect(&img, hits, nhits, found, 8), nkept = 0;
		for (size_t i = 0; i < n; i++)
			(void)vmcoreinfo_keep(kept, &nkept, 8, &found[i]);
		image_close(&img);
	}
	close(fd);
	return 0;
}

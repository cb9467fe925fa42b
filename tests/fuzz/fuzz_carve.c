/* Kernels in a memory image (carve.c with sample.c, scan.c, kallsyms.c,
 * vmcoreinfo.c, pagetable.c): kallsyms + BTF + banner tied together, the
 * BTF blob's checks, and the KASLR slide.  The input is an image file of any
 * container format. */
#include "carve.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[64];
	struct image img;
	int fd;

	fuzz_quiet();
	if ((fd = fuzz_memfd(data, size, path)) < 0)
		return 0;
	if (image_open(path, &img) == 0) {
		struct carve_opts o = { .list_banners = true };
		struct carve_result r = { 0 };
		if (carve_kernels(&img, &o, &r) == 0) {
			char other[512];
			carve_describe_other_banners(&r, &r.k[0], &img, other, sizeof(other));
			for (size_t i = 0; i < r.n; i++) {
				struct symbols s = { 0 };
				carve_symbols(&r.k[i], &s);
				symbols_free(&s);
			}
		}
		carve_free(&r);
		image_close(&img);
	}
	close(fd);
	return 0;
}

/* Memory-image containers (image.c): raw, LiME, ELF core, AVML, sniffed from
 * the input's first bytes; then every run is read back through the same
 * calls the carver and `check` use. */
#include "fuzz.h"
#include "image.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[64];
	struct image img;
	int fd;

	fuzz_quiet();
	if ((fd = fuzz_memfd(data, size, path)) < 0)
		return 0;
	(void)image_has_header((struct span){ data, size });
	if (image_open(path, &img) == 0) {
		uint8_t buf[256];
		unsigned sum = 0;
		for (size_t i = 0; i < img.nruns; i++) {
			const struct image_run *r = &img.runs[i];
			uint64_t last = r->pa + r->bytes.n - 1, start;
			struct span s;
			if (!image_at(&img, r->pa, &s) || !image_at(&img, last, &s) || s.n != 1)
				abort();	/* a run's own bytes must be found */
			if (image_window(&img, last, 4096, 4096, &start, &s)) {
				size_t n = s.n < sizeof(buf) ? s.n : sizeof(buf);
				const uint8_t *p = image_read(&img, (struct span){ s.p, n }, buf);
				for (size_t k = 0; k < n; k++)
					sum += p[k];
			}
			(void)image_at(&img, last + 1, &s);
		}
		if (img.vmcoreinfo.n)
			sum += img.vmcoreinfo.p[img.vmcoreinfo.n - 1];
		(void)sum;
		image_close(&img);
	}
	close(fd);
	return 0;
}

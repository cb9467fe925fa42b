/* Find landmark byte strings everywhere in a memory image, with all cores.
 * One pass over the image serves every later step (kallsyms windows,
 * VMCOREINFO), so a 512 MiB image is read about once. */
#ifndef B2I_SCAN_H
#define B2I_SCAN_H

#include "image.h"

struct scan_hits {
	uint64_t *pa;		/* sorted physical addresses (owned) */
	size_t n;
};

/* hits[i] receives the occurrences of needles[i] (1..64 bytes each). */
void scan_image(const struct image *img, const struct span *needles, size_t nneedles,
		struct scan_hits *hits);
void scan_hits_free(struct scan_hits *h, size_t n);

#endif

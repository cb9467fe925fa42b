/* Find landmark byte strings everywhere in a memory image (or in the area
 * of it that sampling picked: an image whose runs are part of another's),
 * with all cores.  One pass serves every later step (kallsyms windows,
 * VMCOREINFO), so the bytes are read about once. */
#ifndef B2I_SCAN_H
#define B2I_SCAN_H

#include "image.h"

struct scan_hits {
	uint64_t *pa;		/* sorted physical addresses (owned) */
	size_t n;
};

#define SCAN_NEEDLE_MAX 64

/* hits[i] receives the occurrences of needles[i] (1..SCAN_NEEDLE_MAX bytes
 * each; at most 4 needles). */
void scan_image(const struct image *img, const struct span *needles, size_t nneedles,
		struct scan_hits *hits);
void scan_hits_free(struct scan_hits *h, size_t n);

/* The first occurrence of needle (1..SCAN_NEEDLE_MAX bytes) in hay, or NULL:
 * memmem with the scanner's filter, several times faster on long spans. */
const uint8_t *scan_find(struct span hay, struct span needle);

/* The widest vectors the matcher may use, in bytes (16, 32 or 64; 0: the
 * widest this CPU has).  Set by tests to cover every width the CPU runs. */
extern unsigned scan_max_width;

#endif

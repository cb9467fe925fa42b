/* Where in a memory image a kernel can be, without reading all of it.
 *
 * Every kernel btf2isf can profile carries BTF, whose string section is
 * megabytes of NUL-separated identifiers (1.7 MiB on Debian 6.1, 2.2 MiB on
 * 7.2).  Testing one page per SAMPLE_STRIDE for that look finds every kernel
 * whose BTF strings span more than SAMPLE_STRIDE + 4 KiB, reading under 1 %
 * of the image.  Its kallsyms tables and .BTF header lie below the strings,
 * in .rodata and .BTF, so the area around each such page is what needs a
 * full scan.  Callers fall back to scanning everything when the area does
 * not explain itself (carve.c). */
#ifndef B2I_SAMPLE_H
#define B2I_SAMPLE_H

#include "image.h"

#define SAMPLE_STRIDE (512u << 10)
#define SAMPLE_PAGE 4096u
/* The area kept around a sampled string page: BTF is at most 64 MiB (carve.c's
 * BTF_MAX_SIZE) and kallsyms sits just below it. */
#define SAMPLE_AREA_BELOW (64u << 20)
#define SAMPLE_AREA_ABOVE (1u << 20)

/* Does this page look like part of a BTF string section: identifiers
 * ([A-Za-z0-9_.]) separated by NULs, mostly letters? */
bool sample_is_btf_strings(const uint8_t *page, size_t n);

struct sampled_area {
	struct image area;	/* the image, limited to runs around the hits (runs owned) */
	uint64_t *hit_pa;	/* sampled pages that passed, in address order (owned) */
	size_t nhits, npages;
};

/* Sample img and build the area around the pages that pass.  False (nothing
 * allocated; npages and nhits still tell what was seen) when none passes or
 * the area would be over half the image, where a whole scan costs as much. */
bool sample_kernel_area(const struct image *img, struct sampled_area *out);
void sampled_area_free(struct sampled_area *s);

#endif

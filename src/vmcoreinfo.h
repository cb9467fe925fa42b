/* VMCOREINFO: the kernel's own "KEY=VALUE" notes for crash tools, found in
 * ELF core notes or anywhere in physical memory (the note and its data page). */
#ifndef B2I_VMCOREINFO_H
#define B2I_VMCOREINFO_H

#include "image.h"

struct vmcoreinfo {
	uint64_t pa;			/* where the text was found (0: ELF note) */
	char osrelease[65];
	char build_id[41];
	bool has_kerneloffset, has_phys_base, has_stext, has_pgd, has_l5;
	uint64_t kerneloffset;		/* KERNELOFFSET: runtime _text - link _text */
	int64_t phys_base;		/* NUMBER(phys_base), signed */
	uint64_t stext;			/* SYMBOL(_stext), runtime */
	uint64_t swapper_pg_dir;	/* SYMBOL(swapper_pg_dir) = init_top_pgt */
	bool l5;			/* NUMBER(pgtable_l5_enabled) */
};

/* Parse VMCOREINFO text (stops at the first NUL or non-text byte). */
bool vmcoreinfo_parse(struct span text, struct vmcoreinfo *v);

/* The text every VMCOREINFO copy starts with: scan the image for it. */
#define VMCOREINFO_LANDMARK "OSRELEASE="

/* Every distinct VMCOREINFO text: the ELF core note first, then the copies at
 * the physical addresses where VMCOREINFO_LANDMARK was found.  Returns how many
 * were stored in out[max]. */
size_t vmcoreinfo_collect(const struct image *img, const uint64_t *hits, size_t nhits,
			  struct vmcoreinfo *out, size_t max);

/* Store v in set[0..*n) unless an identical text is there: the stored entry,
 * or NULL when the set (max entries) is full. */
const struct vmcoreinfo *vmcoreinfo_keep(struct vmcoreinfo *set, size_t *n, size_t max,
					 const struct vmcoreinfo *v);

#endif

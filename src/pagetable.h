/* x86-64 virtual → physical translation over a memory image.
 *
 * 4-level (PML4, 48-bit) and 5-level (PML5, 57-bit) paging with 4 KiB pages
 * and 2 MiB / 1 GiB large pages.  Entries: bit 0 present, bit 7 page size
 * (PDPT and PD levels only; reserved at PML4/PML5), frame bits 12–51
 * (0x000ffffffffff000).  Large-page frames also drop the bits below the page
 * size (bit 12 is PAT there).  The AMD SME C-bit is not stripped.
 *
 * Images are attacker-influenced: every table and data read is bounds-checked
 * against the image's runs, nothing recurses, and a walk is at most `levels`
 * reads.  Faults are values, not errors: callers phrase the message. */
#ifndef B2I_PAGETABLE_H
#define B2I_PAGETABLE_H

#include "image.h"

#define PT_PRESENT 0x1ULL
#define PT_LARGE 0x80ULL
#define PT_FRAME 0x000ffffffffff000ULL
#define PT_START_KERNEL_MAP 0xffffffff80000000ULL

enum pt_fault {
	PT_OK = 0,
	PT_NONCANONICAL,	/* bits above the top level's width are not a sign extension */
	PT_NOT_PRESENT,		/* an entry on the way has the present bit clear */
	PT_RESERVED,		/* page-size bit where the architecture reserves it */
	PT_TABLE_MISSING,	/* a page-table page is not in the image */
	PT_PAGE_MISSING,	/* the mapped physical page is not in the image */
	PT_BAD_LEVELS,		/* levels is neither 4 nor 5 */
};

/* An address space: the image plus a top-level table (CR3 value; only the
 * frame bits are used) and the paging depth. */
struct pt_space {
	const struct image *img;
	uint64_t root;
	int levels;		/* 4 or 5 */
};

/* What a translation found.  On a fault, `level` is where the walk stopped
 * (5..1 for PML5..PT) and `entry` the entry read there (0 if unread). */
struct pt_walk {
	enum pt_fault fault;
	int level;
	uint64_t entry;
	uint64_t pa;		/* PT_OK: the physical address of va */
	uint64_t page_size;	/* PT_OK: 4 KiB, 2 MiB or 1 GiB */
};

const char *pt_fault_name(enum pt_fault f);

/* True when va is canonical for this paging depth. */
bool pt_canonical(uint64_t va, int levels);

/* Kernel half (top bit set) / user half of the canonical space. */
static inline bool pt_is_kernel(uint64_t va) { return va >> 63; }

/* The 8-byte table entry `index` of the table at physical table_pa. */
bool pt_entry(const struct image *img, uint64_t table_pa, unsigned index, uint64_t *entry);

/* Translate va.  Returns true with w->pa set, or false with w->fault. */
bool pt_translate(const struct pt_space *as, uint64_t va, struct pt_walk *w);

/* Copy len physical bytes at pa (may span runs).  False if any byte is not
 * in the image. */
bool pt_phys_read(const struct image *img, uint64_t pa, void *buf, size_t len);
/* The little-endian 64-bit word at physical pa. */
bool pt_phys_read_u64(const struct image *img, uint64_t pa, uint64_t *v);

/* Copy len virtual bytes at va, page by page.  On a fault returns false with
 * w->fault, *done = bytes copied before it, and w->pa unset; the faulting
 * address is va + *done.  done may be NULL. */
bool pt_read(const struct pt_space *as, uint64_t va, void *buf, size_t len, struct pt_walk *w,
	     size_t *done);

/* 8-byte little-endian value at va. */
bool pt_read_u64(const struct pt_space *as, uint64_t va, uint64_t *v, struct pt_walk *w);

/* The x86-64 kernel text mapping: walk root down to the page directory of
 * __START_KERNEL_map (PML5[511], PML4[511], PDPT[510]); at boot the kernel
 * clears every PMD below _text, so the first present PD entry is _text.
 * Gives its virtual and physical address. */
bool pt_kernel_text(const struct image *img, uint64_t root, int levels, uint64_t *va, uint64_t *pa);

#endif

/* Binary kallsyms tables: find them in a kernel image's bytes and decode them.
 *
 * Landmark-based and version-agnostic (see docs/kallsyms notes): the token
 * table's digit run locates token_table/token_index, markers and num_syms are
 * found backwards from there, and every layout era from 4.18 to 7.3 is tried
 * as a hypothesis (offsets/relative_base before num_syms up to 6.3, optional
 * seqs_of_names from 6.2, the 6.4 reordering, 7.0 PC-relative offsets with
 * 4-byte alignment).  Each candidate is accepted only when all markers match,
 * names decode to printable text with valid type characters, addresses are
 * non-decreasing and kernel-like, and seqs_of_names (when present) is a
 * permutation giving sorted names. */
#ifndef B2I_KALLSYMS_H
#define B2I_KALLSYMS_H

#include "util.h"

enum ksym_encoding {
	KSYM_ENC_ABSOLUTE = 'A',	/* kallsyms_addresses[] (u64) */
	KSYM_ENC_BASE_RELATIVE = 'B',	/* relative_base + (u32)off */
	KSYM_ENC_ABS_PERCPU = 'C',	/* off >= 0 ? off : relative_base - 1 - off */
	KSYM_ENC_PC_RELATIVE = 'D',	/* VA(&offsets[i]) + (s32)off  (7.0+) */
};

enum ksym_layout {
	KSYM_LAYOUT_PRE_4_20,	/* u64 num_syms/markers, addresses before num_syms */
	KSYM_LAYOUT_4_20,	/* 4.20 – 6.1: u32 num_syms/markers, no seqs */
	KSYM_LAYOUT_6_2,	/* 6.2 – 6.3 (and backports): + seqs_of_names */
	KSYM_LAYOUT_6_4,	/* 6.4 – 6.19: tables after token_index */
	KSYM_LAYOUT_7_0,	/* 7.0+: PC-relative, no relative_base, .balign 4 */
};

struct ksym {
	uint64_t addr;		/* decoded address (see kallsyms_table notes) */
	uint32_t name;		/* offset of the NUL-terminated name in table->names */
	char type;		/* nm type character (T, t, D, A, ...) */
	bool absolute;		/* not relocated by KASLR (per-CPU 'A' entries of
				 * encoding C); the caller must not un-slide it */
};

struct kallsyms_table {
	size_t n;
	struct ksym *syms;	/* owned; kallsyms (address) order */
	char *names;		/* owned pool */
	size_t names_size;
	enum ksym_encoding enc;
	enum ksym_layout layout;
	uint64_t relative_base;	/* as stored (B/C); 0 otherwise */
	/* Offsets of the arrays inside the searched region (diagnostics, and
	 * for pinning physical addresses when carving memory). */
	size_t off_num_syms, off_names, off_markers, off_token_table,
	       off_token_index, off_addresses, off_seqs;
	bool has_seqs;
	/* Offset just past the table block's lowest array start, i.e. the first
	 * kallsyms label: min(off_num_syms, off_addresses). */
	size_t off_block_start;
};

/* Decode every kallsyms table in region `r`.
 *
 * `va_of_start` is the virtual address of r.p[0] (link-time for a vmlinux
 * file).  It is only needed for encoding D; pass 0 when it is unknown (e.g. a
 * physical memory run): D addresses are then relative to r.p[0] and the caller
 * adds the base afterwards (all D addresses shift by the same constant).
 *
 * Returns the number of fully validated, distinct tables found (0 = none; then
 * err_set() explains the nearest miss), and an owned array in *out
 * (kallsyms_free_all).  Tables are ordered by their position in r. */
int kallsyms_carve_all(struct span r, uint64_t va_of_start,
		       struct kallsyms_table **out);

/* Exactly one table expected: returns 0 and fills *out, or -1 with err_set()
 * (none found, or several that disagree). */
int kallsyms_carve(struct span r, uint64_t va_of_start, struct kallsyms_table *out);

void kallsyms_free(struct kallsyms_table *t);
void kallsyms_free_all(struct kallsyms_table *tables, int n);

static inline const char *ksym_name(const struct kallsyms_table *t, const struct ksym *s)
{
	return t->names + s->name;
}

#endif

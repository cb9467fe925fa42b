/* Binary kallsyms tables: find them in a kernel image's bytes and decode them.
 *
 * Landmark-based and version-agnostic (see docs/kallsyms notes): the token
 * table's digit run locates token_table/token_index, markers and num_syms are
 * found backwards from there, and every layout era from 4.18 to 7.3 is tried
 * as a hypothesis (offsets/relative_base before num_syms up to 6.3, optional
 * seqs_of_names from 6.2, the 6.4 reordering, 7.0 PC-relative offsets with
 * 4-byte alignment; 1- and 2-byte name lengths; arm64 ".align 8" = 256-byte
 * labels before 5.x).  Each candidate is accepted only when all markers match,
 * names decode to printable text with valid type characters, addresses are
 * non-decreasing and kernel-like (_text/_stext present and >= 0xffff8000...,
 * or for D placed before the offsets table), and seqs_of_names (when present)
 * is a permutation giving sorted names.  Nothing is chosen from a version
 * string.
 *
 * Hostile input is expected (memory dumps): every read is bounds-checked,
 * N is capped at 2^21, decoded names at 256 MiB, and the work per region is
 * linear in its size.  The region may start at any byte of the kernel; label
 * alignment is only applied to distances between labels. */
#ifndef B2I_KALLSYMS_H
#define B2I_KALLSYMS_H

#include "symbols.h"
#include "util.h"

enum ksym_encoding {
	KSYM_ENC_ABSOLUTE = 'A',	/* kallsyms_addresses[] (u64) */
	KSYM_ENC_BASE_RELATIVE = 'B',	/* relative_base + (u32)off */
	KSYM_ENC_ABS_PERCPU = 'C',	/* off >= 0 ? off : relative_base - 1 - off */
	KSYM_ENC_PC_RELATIVE = 'D',	/* VA(&offsets[i]) + (s32)off  (7.0+) */
};

enum ksym_layout {
	KSYM_LAYOUT_PRE_4_20,	/* u64 num_syms/markers, addresses before num_syms */
	KSYM_LAYOUT_4_20,	/* 4.20 – 6.1 mainline: u32 num_syms/markers, no seqs */
	KSYM_LAYOUT_6_2,	/* 6.2 – 6.3 (and backports such as Debian 6.1.192):
				 * + seqs_of_names between markers and token_table */
	KSYM_LAYOUT_6_4,	/* 6.4 – 6.19: num_syms first, address table,
				 * relative_base, seqs after token_index */
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
	size_t n;		/* kallsyms_num_syms */
	struct ksym *syms;	/* owned; kallsyms (address) order */
	char *names;		/* owned pool of NUL-terminated names (no type char) */
	size_t names_size;
	size_t names_cap;	/* its allocated size: names_size + KALLSYMS_NAMES_ROOM
				 * or more, so that symbols_insert() adds a few
				 * names without copying megabytes */
	enum ksym_encoding enc;
	enum ksym_layout layout;
	uint64_t relative_base;	/* as stored (B/C); 0 otherwise */
	bool has_relative_base;	/* B/C: kallsyms_relative_base at off_relative_base */
	/* Encoding B with relative_base stored as 0: an arm64 vmlinux/Image
	 * file, linked with --no-apply-dynamic-relocs.  addr is then the offset
	 * from the first symbol (relative_base = syms[0]: _text with
	 * KALLSYMS_ALL, _stext without); the caller adds that symbol's link
	 * address (_text = KIMAGE_VADDR for an Image).  Not expected in memory,
	 * where the base has been relocated. */
	bool unrelocated;
	/* Offsets of the arrays inside the searched region (diagnostics, and
	 * for pinning physical addresses when carving memory).
	 * off_addresses is kallsyms_offsets (B/C/D) or kallsyms_addresses (A). */
	size_t off_num_syms, off_names, off_markers, off_token_table,
	       off_token_index, off_addresses, off_seqs, off_relative_base;
	bool has_seqs;		/* off_seqs is meaningful */
	/* Owned, or NULL: indices into syms in strcmp order of their names,
	 * from a kallsyms_seqs_of_names checked to be exactly that. */
	uint32_t *by_name;
	size_t markers_count;	/* ceil(n / 256) */
	/* Offset of the first kallsyms label, min(off_num_syms, off_addresses)
	 * (what linux_banner precedes on 6.1+), and one past the end of the
	 * last array (token_index before 6.4, seqs_of_names from 6.4). */
	size_t off_block_start, off_block_end;
};

/* Decode every kallsyms table in region `r`.
 *
 * `va_of_start` is the virtual address of r.p[0] (link-time for a vmlinux
 * file).  It is only used for encoding D, as addr = va_of_start + position
 * of offsets[i] in r + (s32)offsets[i] (wrapping).  Pass 0 when it is unknown
 * (e.g. a physical memory run): D addresses are then relative to r.p[0] and
 * the caller adds the base afterwards (all D addresses shift by the same
 * constant; passing the run's physical address yields physical addresses).
 *
 * Returns the number of fully validated tables found (0 = none; then
 * err_set() explains the nearest miss, and *out is NULL), and an owned array
 * in *out (kallsyms_free_all).  Tables are ordered by their position in r;
 * intact copies of the same table (a memory dump holding the running kernel
 * and a page-cache copy of its file) each count. */
int kallsyms_carve_all(struct span r, uint64_t va_of_start,
		       struct kallsyms_table **out);

/* The same, looking for token tables only at the given offsets of landmarks
 * in r (ascending), as a scan of a whole image already found them. */
int kallsyms_carve_at(struct span r, uint64_t va_of_start, const size_t *landmarks, size_t nlandmarks,
		      struct kallsyms_table **out);

/* Exactly one table expected: returns 0 and fills *out (kallsyms_free), or
 * -1 with err_set() (none found, or several that disagree).  Copies agree when
 * names, types and addresses are equal; for encoding D addresses are compared
 * relative to the first symbol, since they move with the table's position. */
int kallsyms_carve(struct span r, uint64_t va_of_start, struct kallsyms_table *out);

void kallsyms_free(struct kallsyms_table *t);

/* The bytes every kallsyms token table contains ("0\0" "1\0" ... "9\0": the
 * digits are always single-character tokens).  Searching an image for them
 * finds the candidate tables; kallsyms_carve_all() on a window of a few MiB
 * around a hit decodes them. */
#define KALLSYMS_LANDMARK_LEN 20
extern const uint8_t kallsyms_landmark[KALLSYMS_LANDMARK_LEN];
void kallsyms_free_all(struct kallsyms_table *tables, int n);

#define KALLSYMS_NAMES_ROOM 512

/* kallsyms' own arrays as symbols at va_of_start + their offsets in the
 * region (va_of_start: the link-time address of the region's first byte):
 * kallsyms_addresses (encoding A) or kallsyms_offsets, kallsyms_relative_base
 * (B/C), kallsyms_num_syms, _names, _markers, _token_table, _token_index and
 * kallsyms_seqs_of_names when present.  System.map has them; kallsyms only
 * lists them itself from 7.0.  Fills out[] (names are static); returns the
 * count, at most KALLSYMS_TABLE_SYMBOLS. */
#define KALLSYMS_TABLE_SYMBOLS 8
size_t kallsyms_table_symbols(const struct kallsyms_table *t, uint64_t va_of_start,
			      struct symbol_def out[KALLSYMS_TABLE_SYMBOLS]);

/* "pre-4.20", "4.20-6.1", "6.2-6.3", "6.4-6.19" or "7.0+" (for messages). */
const char *kallsyms_layout_name(enum ksym_layout layout);

static inline const char *ksym_name(const struct kallsyms_table *t, const struct ksym *s)
{
	return t->names + s->name;
}

/* The i-th symbol in name order when the table knows it, else in address
 * order: adding symbols this way lets symbols_finish() skip its sort. */
static inline const struct ksym *ksym_by_name(const struct kallsyms_table *t, size_t i)
{
	return &t->syms[t->by_name ? t->by_name[i] : i];
}

#endif

/* symdb: the version-keyed table "symbol → type" for global variables, which
 * BTF does not type (BTF types only per-CPU variables, via VAR/DATASEC).
 *
 * Text source: symdb/symdb.txt, one row per (symbol, type) and run of kernel
 * series the pair was seen in, TAB-separated:
 *     symbol  first  last  type
 * first/last are kernel series "X.Y" ("-" = unbounded).  Type expressions:
 *     struct NAME | union NAME | enum NAME | base NAME | void | function
 *     *T  (pointer to T)        [N]T  (array of N T; N = 0 for flexible;
 *                                      int[5][2] is "[5][2]base int")
 *     ? TEXT   the symbol is known but its type has no name BTF resolves
 *              (TEXT says what it was); looked up like any row, never valid
 * Names follow the ISF writer (src/isftypes.h), including unnamed_<hash> for
 * anonymous types, which resolve wherever BTF has the identical layout.
 *
 * Compiled form (scripts/symdb2c.sh → build/.../symdb_data.c, and the same in
 * memory for --symdb FILE): symbols are keyed by XXH3_64(name, seed) only,
 * in an open-addressing table of (fingerprint, rows) slots: a lookup is one
 * hash and usually one cache line, and names are not stored.
 */
#ifndef B2I_SYMDB_H
#define B2I_SYMDB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A row whose symbol has several rows, or whose fields do not fit inline. */
struct symdb_prow {
	uint32_t type;		/* index into types */
	uint16_t first, last;	/* series (major << 8 | minor); 0 / 0xffff = unbounded */
};

/* One slot of the open-addressing table: the low 32 bits of the symbol's key
 * and its rows.  ref is either one inline row (bit 31 clear: type in bits
 * 0-18, first/last as indexes into bounds in bits 19-24 / 25-30) or a rows[]
 * slice (bit 31 set: start in bits 0-23, count in bits 24-30);
 * SYMDB_EMPTY marks a free slot. */
struct symdb_slot {
	uint32_t fp, ref;
};
#define SYMDB_EMPTY 0xffffffffu

/* The compiled table.  A symbol's key is XXH3_64(name, seed); its top
 * slot_bits bits are the home slot, probed linearly (the table is at most 3/4
 * full); the low 32 bits are the fingerprint, unique in the table. */
struct symdb_packed {
	uint64_t seed;			/* XXH3 seed of the keys */
	uint32_t nsyms, nrows, ntypes, nbounds, noverflow;
	uint32_t slot_bits;		/* 2^slot_bits slots */
	const struct symdb_slot *slots;
	const struct symdb_prow *rows;	/* [noverflow] */
	const uint16_t *bounds;		/* [nbounds] series values of inline rows */
	const uint32_t *type_off;	/* [ntypes] offset of each expression in strings */
	const char *strings;		/* NUL-terminated type expressions */
};

#define SYMDB_INLINE_TYPE_BITS 19
#define SYMDB_INLINE_BOUND_BITS 6
#define SYMDB_MAX_OVERFLOW_COUNT 127

extern const struct symdb_packed symdb_builtin_packed;

#include "isftypes.h"
#include "jsonw.h"

#include <stdio.h>

/* A kernel version as parsed from a release string ("6.1.0-56-amd64"). */
struct kver {
	unsigned major, minor, patch;
};
/* Parse the leading "X.Y[.Z]" of a release; false if there is none. */
bool kver_parse(const char *release, struct kver *v);

struct symdb;
/* The table compiled into the binary. */
const struct symdb *symdb_builtin(void);
/* Load a replacement table from a text file in symdb.txt format. */
struct symdb *symdb_load(const char *path);
void symdb_free(struct symdb *db);
size_t symdb_rows(const struct symdb *db);
/* Write a loaded table as C source defining symdb_builtin_packed. */
int symdb_write_c(const struct symdb *db, FILE *out, const char *source_name);

/* The type expression recorded for `symbol` (len bytes): from the row whose
 * version range contains v, else from the nearest range (ties: the older
 * row); NULL when the symbol is unknown. */
const char *symdb_lookup(const struct symdb *db, const char *symbol, size_t len, const struct kver *v);
/* The same lookup in steps, so that a walk over many names can start the
 * table's cache miss for a name some entries before it needs the answer. */
uint64_t symdb_hash(const struct symdb *db, const char *symbol, size_t len);
void symdb_prefetch(const struct symdb *db, uint64_t hash);
const char *symdb_lookup_hash(const struct symdb *db, uint64_t hash, const struct kver *v);

/* Is every struct/union/enum/base name the expression mentions defined by
 * this profile's types?  (A type that does not exist in this kernel must not
 * be emitted: the symbol falls back to void.)  False for malformed text and
 * for "? ..." rows. */
bool symdb_type_valid(const char *expr, const struct isf_types *t);
/* Write the ISF type descriptor for an expression accepted by symdb_type_valid. */
void symdb_write_type(const char *expr, struct jsonw *w);
#endif

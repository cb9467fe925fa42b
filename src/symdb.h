/* symdb: the version-keyed table "symbol → type" for global variables, which
 * BTF does not type (BTF types only per-CPU variables, via VAR/DATASEC).
 *
 * Text source: symdb/symdb.txt, one row per (symbol, type) with the range of
 * kernel versions the pair was seen in.  Type expressions:
 *     struct NAME | union NAME | enum NAME | base NAME | void | function
 *     *T  (pointer to T)        [N]T  (array of N T; N = 0 for flexible)
 */
#ifndef B2I_SYMDB_H
#define B2I_SYMDB_H

#include <stddef.h>

struct symdb_row {
	const char *symbol;
	const char *first;	/* first kernel version seen, "-" = unbounded */
	const char *last;	/* last kernel version seen, "-" = unbounded */
	const char *type;	/* type expression */
};

extern const struct symdb_row symdb_builtin_rows[];
extern const size_t symdb_builtin_count;

#include "isftypes.h"
#include "jsonw.h"

#include <stdbool.h>

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

/* The type expression recorded for `symbol`: from the row whose version range
 * contains v, else from the nearest range; NULL when the symbol is unknown. */
const char *symdb_lookup(const struct symdb *db, const char *symbol, const struct kver *v);

/* Is every struct/union/enum/base name the expression mentions defined by
 * this profile's types?  (A type that does not exist in this kernel must not
 * be emitted: the symbol falls back to void.)  False for malformed text. */
bool symdb_type_valid(const char *expr, const struct isf_types *t);
/* Write the ISF type descriptor for an expression accepted by symdb_type_valid. */
void symdb_write_type(const char *expr, struct jsonw *w);
#endif

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

#endif

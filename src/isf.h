/* The whole ISF document: metadata, the three type sections from isf_types,
 * and symbols typed from BTF variables or the symdb. */
#ifndef B2I_ISF_H
#define B2I_ISF_H

#include "isftypes.h"
#include "jsonw.h"
#include "symbols.h"
#include "symdb.h"

#define ISF_FORMAT "6.2.0"

/* One entry of metadata.linux.symbols.  Volatility3's schema allows only the
 * kinds "dwarf", "symtab" and "system-map". */
struct isf_source {
	const char *kind;
	char name[256];
	char sha256[65];
};

struct isf_input {
	const struct isf_types *types;
	const struct symbols *symbols;
	const struct symdb *symdb;
	struct kver version;		/* kernel version, for symdb lookups */
	struct span banner;		/* exact linux_banner bytes, "\n\0" included */
	struct isf_source sources[4];
	int nsources;
};

struct isf_report {
	size_t symbols;
	size_t typed_by_btf;		/* BTF VAR (per-CPU variables) */
	size_t typed_by_symdb;
	size_t symdb_missing_type;	/* symdb type absent from this BTF: void */
	size_t void_typed;
	char missing_example[128];	/* one symdb symbol that fell back to void */
};

/* Write the document.  Returns 0, or -1 (err_set) when a symbol the profile
 * cannot do without is missing.  The symbols section is rendered on another
 * thread meanwhile: in must not change until this returns. */
int isf_write(const struct isf_input *in, struct jsonw *w, struct isf_report *r);

#endif

/* The symbol half of a profile: name → link-time address.
 *
 * Sources (kallsyms carved from an image, an ELF .symtab, System.map or
 * /proc/kallsyms text) all feed one table.  A name that occurs more than once
 * (file-local statics) is kept once, deterministically: the highest address,
 * which is also what dwarf2json's "last System.map line wins" yields. */
#ifndef B2I_SYMBOLS_H
#define B2I_SYMBOLS_H

#include "util.h"

struct symbol {
	uint64_t addr;
	uint32_t name;		/* offset into symbols.names */
	char type;		/* nm type character, '?' when unknown */
	bool absolute;		/* not moved by KASLR (per-CPU offsets, 'A') */
};

struct symbols {
	struct symbol *v;
	size_t n, cap;
	struct buf names;
	size_t duplicates;	/* names seen more than once (after finish) */
};

void symbols_add(struct symbols *s, const char *name, size_t len, uint64_t addr, char type,
		 bool absolute);
/* Fill an empty table at once, taking over (from malloc) a pool of
 * NUL-terminated names (pool_size bytes used of pool_cap allocated) and n
 * entries naming offsets in it: a kallsyms table's 200k names are then not
 * copied one by one. */
void symbols_take(struct symbols *s, char *pool, size_t pool_size, size_t pool_cap, struct symbol *v,
		  size_t n);
/* Sort by name and keep one entry per name.  Call once after adding. */
void symbols_finish(struct symbols *s);
/* A symbol for symbols_insert(); name is copied. */
struct symbol_def {
	const char *name;
	uint64_t addr;
	char type;
	bool absolute;
};
/* After symbols_finish(): add those of the n symbols whose names the table
 * does not hold yet (nor an earlier one of them), keeping it in name order.
 * For a handful of symbols (kallsyms' own tables, linker-script constants):
 * they are sorted and merged in one pass, instead of sorting the table
 * again.  Returns how many were added. */
size_t symbols_insert(struct symbols *s, const struct symbol_def *add, size_t n);
/* After symbols_finish(): exact-name lookup, NULL if absent. */
const struct symbol *symbols_find(const struct symbols *s, const char *name);
static inline const char *symbol_name(const struct symbols *s, const struct symbol *sym)
{
	return (const char *)s->names.p + sym->name;
}
/* Subtract the KASLR slide from every relocatable symbol. */
void symbols_unslide(struct symbols *s, uint64_t slide);
void symbols_free(struct symbols *s);

/* Parse System.map / /proc/kallsyms text ("ADDR TYPE NAME [\t[module]]").
 * Module symbols are skipped; so are lines that are not of this shape, but if
 * no line parses the input is rejected (err_set with `what`). */
int symbols_parse_map(struct span text, const char *what, struct symbols *s);

/* Kernel virtual addresses on 64-bit start here; smaller values in a symbol
 * table are absolute (per-CPU offsets, constants) and never relocated. */
#define KERNEL_VA_MIN 0xffff800000000000ULL

#endif

/* BTF → the type half of an ISF: base_types, user_types, enums, and type
 * descriptors for symbols.
 *
 * Naming follows what Volatility3 expects of dwarf2json profiles:
 *  - typedefs are transparent, except a typedef that directly names an
 *    anonymous struct/union/enum: references through it use that (innermost)
 *    typedef's name, e.g. atomic64_t, pgd_t, kernel_cap_t (>= 6.3);
 *  - a typedef that directly names a struct/union is also listed in user_types
 *    under its own name (as dwarf2json does), e.g. spinlock_t, gate_desc;
 *  - other anonymous types are named unnamed_<16 hex digits of a hash of
 *    their layout>, so identical input gives identical names;
 *  - anonymous members are unnamed_field_<hex counter> with "anonymous": true;
 *  - bitfields (both BTF encodings) get the byte holding their first bit as
 *    offset and the bit position inside that byte.
 */
#ifndef B2I_ISFTYPES_H
#define B2I_ISFTYPES_H

#include "jsonw.h"

#include <stdbool.h>
#include <stdint.h>

struct btf;
struct isf_types;

struct isf_types_stats {
	unsigned base_types, user_types, enums, typedef_aliases, anonymous;
	unsigned duplicate_names;	/* same-name definitions; one kept */
	unsigned unknown_kinds;		/* BTF kinds we do not know: emitted as void */
};

/* Build the ISF type model from a parsed BTF (borrowed; must outlive the
 * result).  Returns NULL with err_set() on failure. */
struct isf_types *isf_types_new(const struct btf *btf);
void isf_types_free(struct isf_types *t);
const struct isf_types_stats *isf_types_stats(const struct isf_types *t);

/* Write the value of the base_types section (a JSON object, keys sorted). */
void isf_types_write_base_types(const struct isf_types *t, struct jsonw *w);

/* The user_types and enums sections are large (a few MB each), so they are
 * written as members, name and value, into an object the caller opened:
 * entries [from, to) of the section's isf_types_count() in key order.  So
 * several threads can render parts of one section (jsonw_new_members). */
enum isf_section { ISF_USER_TYPES, ISF_ENUMS };
size_t isf_types_count(const struct isf_types *t, enum isf_section section);
/* What one rendering thread keeps between calls (scratch space, rendered
 * field values): one per thread, for writers of that mode (pretty or not). */
struct isf_write_cache;
struct isf_write_cache *isf_write_cache_new(bool pretty);
void isf_write_cache_free(struct isf_write_cache *c);	/* NULL-safe */
void isf_types_write_members(const struct isf_types *t, enum isf_section section, struct jsonw *w,
			     size_t from, size_t to, struct isf_write_cache *cache);

/* Write the type descriptor of BTF type `id` (e.g. a VAR's type). */
void isf_types_write_descriptor(const struct isf_types *t, struct jsonw *w, uint32_t id);

/* Does the profile define this name?  kind is "struct"/"union" (user_types,
 * either kind matches), "enum" or "base". */
bool isf_types_has(const struct isf_types *t, const char *kind, const char *name);

/* Per-CPU and other variables BTF types itself (VAR inside DATASEC): returns
 * the BTF type id of variable `name` and its offset in the section, or 0 when
 * BTF does not describe it. */
uint32_t isf_types_var_type(const struct isf_types *t, const char *name, uint32_t *offset);
/* The largest such offset: symbols farther from the section start need no
 * lookup. */
uint32_t isf_types_var_offset_max(const struct isf_types *t);

#endif

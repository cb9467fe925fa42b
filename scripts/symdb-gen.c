/* symdb-gen: a vmlinux with DWARF (Debian's linux-image-*-dbg) → the symdb
 * rows of that kernel: every global and file-static variable that has an
 * address in the ELF symbol table (the names kallsyms and System.map carry),
 * with its type as a symdb type expression (grammar in src/symdb.h).
 *
 *     symdb-gen [-o OUT] [--release R] [--explain] VMLINUX
 *
 * Output (sorted, LC_ALL=C order):
 *     # symdb-gen: release R series X.Y
 *     # banner: Linux version ...
 *     symbol <TAB> type-expression [<TAB> function]
 * The third field marks a symbol that is a function in .symtab but that C
 * declares as a variable (see below): not a global variable, but typed as
 * dwarf2json types it; scripts/symdb-eval keeps them out of its variable
 * count.
 * A type that this kernel's own BTF (the vmlinux's .BTF section) cannot
 * resolve is written "? EXPR": the symbol is known, its type is not
 * expressible in BTF names (e.g. an anonymous struct whose layout pahole
 * encoded differently, or a struct BTF only has as a forward declaration).
 *
 * Naming follows the ISF writer (src/isftypes.c) exactly:
 *  - qualifiers and typedefs are transparent, except that a typedef whose
 *    target (qualifiers skipped) is an anonymous struct/union/enum names it:
 *    "struct pgd_t";
 *  - other anonymous struct/union/enum types are "unnamed_<16 hex>", the
 *    XXH64 (seed 0) of the same canonical layout text isftypes.c hashes:
 *        S|U|E <size> { member: name:bit_offset:bitfield_size:DESC; ... }
 *        enumerator: name=VALUE;  (int32 for 1..4-byte enums, u64 for 8-byte)
 *    where DESC is v | f | *DESC | [N]DESC | b:NAME | s:NAME | u:NAME | e:NAME.
 *    isftypes.c's layout_text()/desc_text() and layout_text()/desc_printer
 *    here must change together; a mismatch shows up as "? struct
 *    unnamed_..." rows;
 *  - arrays keep every DWARF dimension: int[5][2] is "[5][2]base int";
 *    a missing bound (extern T x[]) is count 0.
 *
 * Which DWARF entry gives a symbol its type: the definition whose address
 * is the symbol's (the highest address of that name in .symtab, as the ISF
 * writer keeps); a symbol defined outside C (asm, Rust) takes the type of its
 * extern declaration -- even a function: rust/exports.c declares every
 * exported Rust function "extern int", and dwarf2json types them so.  An
 * array definition whose extern declaration leaves the size open
 * ("extern const char linux_banner[]") takes the declaration's count 0, as
 * dwarf2json mostly does and as is stable across builds.  A definition at
 * another address is used only when nothing else names the symbol and it is
 * not a function.  Function-scope statics are not read: .symtab names them
 * "name.N" with a compiler-chosen N that no other kernel shares.  --explain
 * prints, per symbol, every candidate considered.
 */
#include "isftypes.h"
#include "symdb.h"

#include <bpf/btf.h>
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

#define MAX_DEPTH 64

static void die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("symdb-gen: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

static void *xmalloc_(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		die("out of memory");
	return p;
}

static void *xcalloc_(size_t n, size_t sz)
{
	void *p = calloc(n ? n : 1, sz ? sz : 1);
	if (!p)
		die("out of memory");
	return p;
}

/* ---- growable string ---- */

struct str {
	char *p;
	size_t len, cap;
};

static void str_add(struct str *s, const char *t, size_t n)
{
	if (s->len + n + 1 > s->cap) {
		s->cap = (s->len + n + 1) * 2;
		s->p = realloc(s->p, s->cap);
		if (!s->p)
			die("out of memory");
	}
	memcpy(s->p + s->len, t, n);
	s->len += n;
	s->p[s->len] = 0;
}

static void str_cat(struct str *s, const char *t) { str_add(s, t, strlen(t)); }

static void str_fmt(struct str *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void str_fmt(struct str *s, const char *fmt, ...)
{
	char tmp[128];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(tmp))
		die("internal: format overflow");
	str_add(s, tmp, (size_t)n);
}

/* ---- string interning (expressions compare by pointer) ---- */

struct intern {
	char **slot;
	size_t n, cap;	/* cap is a power of two */
};

static const char *intern(struct intern *t, const char *s)
{
	if (2 * (t->n + 1) > t->cap) {
		size_t ncap = t->cap ? t->cap * 2 : 4096;
		char **ns = xcalloc_(ncap, sizeof(*ns));
		for (size_t i = 0; i < t->cap; i++)
			if (t->slot[i]) {
				size_t j = XXH64(t->slot[i], strlen(t->slot[i]), 0) & (ncap - 1);
				while (ns[j])
					j = (j + 1) & (ncap - 1);
				ns[j] = t->slot[i];
			}
		free(t->slot);
		t->slot = ns;
		t->cap = ncap;
	}
	size_t j = XXH64(s, strlen(s), 0) & (t->cap - 1);
	while (t->slot[j]) {
		if (!strcmp(t->slot[j], s))
			return t->slot[j];
		j = (j + 1) & (t->cap - 1);
	}
	t->slot[j] = strdup(s);
	if (!t->slot[j])
		die("out of memory");
	t->n++;
	return t->slot[j];
}

/* ---- per-CU memo: DIE offset → interned text ---- */

struct memo {
	Dwarf_Off *key;
	const char **val;
	size_t n, cap;
};

static const char **memo_slot(struct memo *m, Dwarf_Off off)
{
	if (2 * (m->n + 1) > m->cap) {
		size_t ncap = m->cap ? m->cap * 2 : 1024;
		Dwarf_Off *nk = xcalloc_(ncap, sizeof(*nk));
		const char **nv = xcalloc_(ncap, sizeof(*nv));
		for (size_t i = 0; i < m->cap; i++)
			if (m->val[i]) {
				size_t j = XXH64(&m->key[i], sizeof(Dwarf_Off), 0) & (ncap - 1);
				while (nv[j])
					j = (j + 1) & (ncap - 1);
				nk[j] = m->key[i];
				nv[j] = m->val[i];
			}
		free(m->key);
		free(m->val);
		m->key = nk;
		m->val = nv;
		m->cap = ncap;
	}
	size_t j = XXH64(&off, sizeof(off), 0) & (m->cap - 1);
	while (m->val[j] && m->key[j] != off)
		j = (j + 1) & (m->cap - 1);
	if (!m->val[j])
		m->key[j] = off;
	return &m->val[j];
}

static void memo_clear(struct memo *m)
{
	if (m->cap) {
		memset(m->val, 0, m->cap * sizeof(*m->val));
		m->n = 0;
	}
}

static void memo_set(struct memo *m, const char **slot, const char *v)
{
	if (!*slot)
		m->n++;
	*slot = v;
}

/* ---- symbols of the ELF symbol table ---- */

enum cand { C_DEF_AT_ADDR, C_DEF_OTHER, C_DECL, C_LAST, C_N };

struct sym {
	const char *name;
	uint64_t addr;		/* highest address of this name */
	bool is_func;		/* the symbol there is a function */
	unsigned ndef, ndecl;
	bool decl_conflict;	/* declarations disagree */
	const char *c[C_N];	/* interned expressions, see enum cand */
};

struct symtab {
	struct sym *slot;
	size_t n, cap;
};

static struct sym *sym_find(struct symtab *t, const char *name, bool add)
{
	if (add && 2 * (t->n + 1) > t->cap) {
		size_t ncap = t->cap ? t->cap * 2 : 65536;
		struct sym *ns = xcalloc_(ncap, sizeof(*ns));
		for (size_t i = 0; i < t->cap; i++)
			if (t->slot[i].name) {
				size_t j = XXH64(t->slot[i].name, strlen(t->slot[i].name), 0) & (ncap - 1);
				while (ns[j].name)
					j = (j + 1) & (ncap - 1);
				ns[j] = t->slot[i];
			}
		free(t->slot);
		t->slot = ns;
		t->cap = ncap;
	}
	if (!t->cap)
		return NULL;
	size_t j = XXH64(name, strlen(name), 0) & (t->cap - 1);
	while (t->slot[j].name) {
		if (!strcmp(t->slot[j].name, name))
			return &t->slot[j];
		j = (j + 1) & (t->cap - 1);
	}
	if (!add)
		return NULL;
	t->slot[j].name = name;
	t->n++;
	return &t->slot[j];
}

/* ---- DWARF helpers ---- */

static Dwarf_Die *type_of(Dwarf_Die *die, Dwarf_Die *mem)
{
	Dwarf_Attribute a;
	if (!dwarf_attr_integrate(die, DW_AT_type, &a))
		return NULL;
	return dwarf_formref_die(&a, mem);
}

static bool is_qualifier(int tag)
{
	switch (tag) {
	case DW_TAG_const_type:
	case DW_TAG_volatile_type:
	case DW_TAG_restrict_type:
	case DW_TAG_atomic_type:
	case DW_TAG_immutable_type:
	case DW_TAG_packed_type:
	case DW_TAG_shared_type:
		return true;
	default:
		return false;
	}
}

/* Follow qualifiers; NULL for void. */
static Dwarf_Die *skip_cv(Dwarf_Die *die, Dwarf_Die *mem)
{
	for (int i = 0; die && i < MAX_DEPTH; i++) {
		if (!is_qualifier(dwarf_tag(die)))
			return die;
		die = type_of(die, mem);
	}
	return die;
}

static bool is_composite_or_enum(int tag)
{
	return tag == DW_TAG_structure_type || tag == DW_TAG_union_type ||
	       tag == DW_TAG_enumeration_type || tag == DW_TAG_class_type;
}

static bool is_anon_composite_or_enum(Dwarf_Die *die)
{
	return die && is_composite_or_enum(dwarf_tag(die)) && !dwarf_diename(die);
}

static uint64_t udata(Dwarf_Die *die, int at, uint64_t dflt)
{
	Dwarf_Attribute a;
	Dwarf_Word w;
	if (!dwarf_attr_integrate(die, at, &a) || dwarf_formudata(&a, &w))
		return dflt;
	return w;
}

/* Element count of one DW_TAG_subrange_type; 0 when open or not constant. */
static uint32_t subrange_count(Dwarf_Die *sr)
{
	Dwarf_Attribute a;
	Dwarf_Word w;
	Dwarf_Sword lo = 0;

	if (dwarf_attr(sr, DW_AT_count, &a)) {
		if (dwarf_whatform(&a) == DW_FORM_exprloc || dwarf_whatform(&a) == DW_FORM_ref4 ||
		    dwarf_formudata(&a, &w))
			return 0;
		return (uint32_t)w;
	}
	if (!dwarf_attr(sr, DW_AT_upper_bound, &a))
		return 0;
	int form = dwarf_whatform(&a);
	if (form == DW_FORM_exprloc || form == DW_FORM_ref4 || form == DW_FORM_ref_udata ||
	    form == DW_FORM_ref1 || form == DW_FORM_ref2 || form == DW_FORM_ref8)
		return 0;
	if (dwarf_formudata(&a, &w))
		return 0;
	if (dwarf_attr(sr, DW_AT_lower_bound, &a)) {
		Dwarf_Word l;
		if (!dwarf_formudata(&a, &l))
			lo = (Dwarf_Sword)l;
	}
	/* gcc writes int x[0] as upper bound -1 (sdata, or data8 all ones). */
	uint64_t ub = w;
	if ((Dwarf_Sword)ub < lo)
		return 0;
	return (uint32_t)(ub - (uint64_t)lo + 1);
}

/* ---- the generator state ---- */

struct gen {
	Dwarf *dw;
	struct intern strings;
	struct memo expr_memo, anon_memo;
	struct symtab syms;
	const struct isf_types *types;	/* this kernel's BTF names */
	bool explain;
	unsigned long n_vars, n_cus, n_flat;
};

static const char *anon_name(struct gen *g, Dwarf_Die *die, int depth);

static const char *kind_word(int tag)
{
	return tag == DW_TAG_union_type ? "union" : tag == DW_TAG_enumeration_type ? "enum" : "struct";
}

/* How a type reference is written.  One walk (type_text) serves both texts:
 * the symdb expression of a symbol's type, and the DESC of a member in the
 * layout text hashed into unnamed_<hash>, which must match isftypes.c's
 * desc_text(). */
struct printer {
	const char *base, *s, *u, *e;	/* before a base / struct / union / enum name */
	const char *noname;		/* a base type or typedef without a name */
	const char *deep, *none, *function;	/* too deep; void; a function */
	bool tag_note;			/* "? DWARF tag 0xN" for tags C has not (else none) */
	bool flat;			/* arrays as one dimension (older pahole's BTF) */
};

static const struct printer expr_printer = {
	"base ", "struct ", "union ", "enum ", "?", "void", "void", "function", true, false,
};
static const struct printer desc_printer[2] = {
	{ "b:", "s:", "u:", "e:", "", "?", "v", "f", false, false },
	{ "b:", "s:", "u:", "e:", "", "?", "v", "f", false, true },
};

static const char *kind_prefix(const struct printer *p, int tag)
{
	return tag == DW_TAG_union_type ? p->u : tag == DW_TAG_enumeration_type ? p->e : p->s;
}

/* The text of a reference to the type DIE (NULL = void) as printer p writes it. */
static void type_text(struct gen *g, struct str *b, const struct printer *p, Dwarf_Die *die, int depth)
{
	Dwarf_Die mem, tmem;

	if (depth > MAX_DEPTH) {
		str_cat(b, p->deep);
		return;
	}
	for (int hops = 0; die && hops < MAX_DEPTH; hops++) {
		int tag = dwarf_tag(die);
		if (is_qualifier(tag)) {
			die = type_of(die, &mem);
			continue;
		}
		const char *name = dwarf_diename(die);
		switch (tag) {
		case DW_TAG_typedef: {
			Dwarf_Die *t = skip_cv(type_of(die, &tmem), &tmem);
			if (is_anon_composite_or_enum(t)) {
				str_cat(b, kind_prefix(p, dwarf_tag(t)));
				str_cat(b, name ? name : p->noname);
				return;
			}
			die = type_of(die, &mem);
			continue;
		}
		case DW_TAG_base_type:
			str_cat(b, p->base);
			str_cat(b, name ? name : p->noname);
			return;
		case DW_TAG_pointer_type:
			str_cat(b, "*");
			type_text(g, b, p, type_of(die, &mem), depth + 1);
			return;
		case DW_TAG_array_type: {
			/* pahole flattens int[5][2] to int[10] (older versions). */
			Dwarf_Die sr;
			uint32_t total = 1;
			if (dwarf_child(die, &sr) == 0)
				do {
					if (dwarf_tag(&sr) != DW_TAG_subrange_type)
						continue;
					if (p->flat)
						total *= subrange_count(&sr);
					else
						str_fmt(b, "[%u]", subrange_count(&sr));
				} while (dwarf_siblingof(&sr, &sr) == 0);
			if (p->flat)
				str_fmt(b, "[%u]", total);
			type_text(g, b, p, type_of(die, &mem), depth + 1);
			return;
		}
		case DW_TAG_structure_type:
		case DW_TAG_class_type:
		case DW_TAG_union_type:
		case DW_TAG_enumeration_type:
			str_cat(b, kind_prefix(p, tag));
			str_cat(b, name ? name : anon_name(g, die, depth + 1));
			return;
		case DW_TAG_subroutine_type:
			str_cat(b, p->function);
			return;
		case DW_TAG_unspecified_type:
			str_cat(b, p->none);
			return;
		default:	/* nothing C has (BTF cannot hold it): the symbol is kept, marked */
			if (p->tag_note)
				str_fmt(b, "? DWARF tag 0x%x", (unsigned)tag);
			else
				str_cat(b, p->none);
			return;
		}
	}
	str_cat(b, p->none);
}

/* Bit offset of a member from the start of its struct (little-endian). */
static uint64_t member_bit_offset(Dwarf_Die *m)
{
	Dwarf_Attribute a;
	Dwarf_Word w;
	uint64_t byte_off = 0;

	if (dwarf_attr(m, DW_AT_data_bit_offset, &a) && !dwarf_formudata(&a, &w))
		return w;
	if (dwarf_attr(m, DW_AT_data_member_location, &a)) {
		if (!dwarf_formudata(&a, &w)) {
			byte_off = w;
		} else {
			Dwarf_Op *ops;
			size_t nops;
			if (dwarf_getlocation(&a, &ops, &nops) == 0 && nops == 1 &&
			    ops[0].atom == DW_OP_plus_uconst)
				byte_off = ops[0].number;
		}
	}
	if (dwarf_attr(m, DW_AT_bit_offset, &a) && !dwarf_formudata(&a, &w)) {
		/* DWARF 2-4: bit_offset counts from the storage unit's MSB. */
		uint64_t bit_size = udata(m, DW_AT_bit_size, 0);
		Dwarf_Word storage = 0;
		if (!dwarf_hasattr(m, DW_AT_byte_size)) {
			Dwarf_Die tm, *t = type_of(m, &tm);
			if (!t || dwarf_aggregate_size(t, &storage))
				storage = 0;
		} else {
			storage = udata(m, DW_AT_byte_size, 0);
		}
		return byte_off * 8 + storage * 8 - w - bit_size;
	}
	return byte_off * 8;
}

/* The canonical layout text of isftypes.c's layout_text(). */
static void layout_text(struct gen *g, struct str *b, Dwarf_Die *die, int depth, bool flat)
{
	int tag = dwarf_tag(die);
	uint64_t size = udata(die, DW_AT_byte_size, 0);
	Dwarf_Die c, mem;

	str_fmt(b, "%c%u{", tag == DW_TAG_union_type ? 'U' : tag == DW_TAG_enumeration_type ? 'E' : 'S',
		(unsigned)size);
	if (dwarf_child(die, &c) == 0)
		do {
			int ct = dwarf_tag(&c);
			if (ct == DW_TAG_member) {
				const char *mn = dwarf_diename(&c);
				str_cat(b, mn ? mn : "");
				str_fmt(b, ":%u:%u:", (unsigned)member_bit_offset(&c),
					(unsigned)udata(&c, DW_AT_bit_size, 0));
				type_text(g, b, &desc_printer[flat], type_of(&c, &mem), depth + 1);
				str_cat(b, ";");
			} else if (ct == DW_TAG_enumerator) {
				const char *en = dwarf_diename(&c);
				Dwarf_Attribute a;
				Dwarf_Sword sv = 0;
				Dwarf_Word uv = 0;
				if (dwarf_attr(&c, DW_AT_const_value, &a)) {
					int form = dwarf_whatform(&a);
					if (form == DW_FORM_sdata || form == DW_FORM_implicit_const) {
						dwarf_formsdata(&a, &sv);
						uv = (Dwarf_Word)sv;
					} else {
						dwarf_formudata(&a, &uv);
					}
				}
				str_cat(b, en ? en : "");
				if (size == 8)	/* BTF_KIND_ENUM64 */
					str_fmt(b, "=%llu;", (unsigned long long)uv);
				else		/* BTF_KIND_ENUM: s32 */
					str_fmt(b, "=%d;", (int32_t)(uint32_t)uv);
			}
		} while (dwarf_siblingof(&c, &c) == 0);
	str_cat(b, "}");
}

static const char *layout_name(struct gen *g, Dwarf_Die *die, int depth, bool flat)
{
	struct str b = { 0 };
	char name[32];

	layout_text(g, &b, die, depth, flat);
	snprintf(name, sizeof(name), "unnamed_%016llx", (unsigned long long)XXH64(b.p, b.len, 0));
	free(b.p);
	return intern(&g->strings, name);
}

/* The ISF writer's name of an anonymous type: the hash of its layout with
 * arrays as DWARF has them, or flattened if that is what this kernel's BTF
 * holds (pahole's encoding of multi-dimensional arrays). */
static const char *anon_name(struct gen *g, Dwarf_Die *die, int depth)
{
	const char **slot = memo_slot(&g->anon_memo, dwarf_dieoffset(die));
	const char *kind = kind_word(dwarf_tag(die));

	if (*slot)
		return *slot;
	if (depth > MAX_DEPTH)
		return "unnamed_cycle";
	memo_set(&g->anon_memo, slot, "unnamed_cycle");	/* guards self-reference */
	const char *name = layout_name(g, die, depth, false);
	if (g->types && !isf_types_has(g->types, kind, name)) {
		const char *flat = layout_name(g, die, depth, true);
		if (isf_types_has(g->types, kind, flat)) {
			name = flat;
			g->n_flat++;
		}
	}
	/* layout_text may have grown the memo: look the slot up again. */
	slot = memo_slot(&g->anon_memo, dwarf_dieoffset(die));
	memo_set(&g->anon_memo, slot, name);
	return name;
}

static const char *expr_of(struct gen *g, Dwarf_Die *type)
{
	const char **slot = memo_slot(&g->expr_memo, dwarf_dieoffset(type));
	struct str b = { 0 };

	if (*slot)
		return *slot;
	type_text(g, &b, &expr_printer, type, 0);
	const char *e = intern(&g->strings, b.p);
	free(b.p);
	slot = memo_slot(&g->expr_memo, dwarf_dieoffset(type));
	memo_set(&g->expr_memo, slot, e);
	return e;
}

/* Address of a variable: DW_AT_location that is a single DW_OP_addr. */
static bool var_address(Dwarf_Die *v, uint64_t *addr)
{
	Dwarf_Attribute a;
	Dwarf_Op *ops;
	size_t nops;

	if (!dwarf_attr(v, DW_AT_location, &a))
		return false;
	if (dwarf_getlocation(&a, &ops, &nops) != 0 || nops < 1 || ops[0].atom != DW_OP_addr)
		return false;
	*addr = ops[0].number;
	return true;
}

/* A variable DIE: at CU level (in_function false) any declaration or
 * definition; inside a function only extern declarations and statics at the
 * symbol's own address (automatic variables have no DW_OP_addr). */
static void visit_variable(struct gen *g, Dwarf_Die *v, bool in_function)
{
	Dwarf_Attribute a;
	Dwarf_Die tmem, *type;
	const char *name;
	struct sym *s;
	uint64_t addr;

	if (!dwarf_attr_integrate(v, DW_AT_name, &a) || !(name = dwarf_formstring(&a)))
		return;
	if (!(s = sym_find(&g->syms, name, false)))
		return;
	if (!(type = type_of(v, &tmem)))
		return;
	g->n_vars++;
	const char *e = expr_of(g, type);
	if (dwarf_hasattr(v, DW_AT_declaration)) {
		if (s->c[C_DECL] && s->c[C_DECL] != e)
			s->decl_conflict = true;
		s->c[C_DECL] = e;
		s->ndecl++;
	} else if (var_address(v, &addr)) {
		s->ndef++;
		if (addr == s->addr)
			s->c[C_DEF_AT_ADDR] = e;
		else if (!in_function)
			s->c[C_DEF_OTHER] = e;
		else
			return;
	} else {
		return;	/* optimised out, or a TLS/register location */
	}
	s->c[C_LAST] = e;
}

/* Variables declared inside a function body ("extern char _etext[];" in a
 * function), down through nested blocks.  Inlined copies only point back at
 * their abstract instance, which is walked as a subprogram. */
static void walk_scope(struct gen *g, Dwarf_Die *scope, int depth)
{
	Dwarf_Die c;

	if (depth > MAX_DEPTH || dwarf_child(scope, &c) != 0)
		return;
	do {
		switch (dwarf_tag(&c)) {
		case DW_TAG_variable:
			visit_variable(g, &c, true);
			break;
		case DW_TAG_lexical_block:
		case DW_TAG_subprogram:
			walk_scope(g, &c, depth + 1);
			break;
		default:
			break;
		}
	} while (dwarf_siblingof(&c, &c) == 0);
}

static void walk_dwarf(struct gen *g)
{
	Dwarf_CU *cu = NULL;
	Dwarf_Die cudie, child;
	uint8_t unit_type;
	Dwarf_Half version;

	while (dwarf_get_units(g->dw, cu, &cu, &version, &unit_type, &cudie, NULL) == 0) {
		if (unit_type != DW_UT_compile && unit_type != DW_UT_partial)
			continue;
		if (udata(&cudie, DW_AT_language, 0) == DW_LANG_Rust)
			continue;
		g->n_cus++;
		memo_clear(&g->expr_memo);
		memo_clear(&g->anon_memo);
		if (dwarf_child(&cudie, &child) != 0)
			continue;
		do {
			if (dwarf_tag(&child) == DW_TAG_variable)
				visit_variable(g, &child, false);
			else if (dwarf_tag(&child) == DW_TAG_subprogram)
				walk_scope(g, &child, 0);
		} while (dwarf_siblingof(&child, &child) == 0);
	}
}

/* ---- ELF: symbol table and banner ---- */

static bool sym_is_candidate(const GElf_Sym *s)
{
	int type = GELF_ST_TYPE(s->st_info);
	if (s->st_shndx == SHN_UNDEF)
		return false;
	return type == STT_OBJECT || type == STT_NOTYPE || type == STT_TLS || type == STT_COMMON ||
	       type == STT_FUNC;
}

static void read_symtab(struct gen *g, Elf *elf, char **banner)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;
	uint64_t banner_addr = 0;

	*banner = NULL;
	while ((scn = elf_nextscn(elf, scn))) {
		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_SYMTAB)
			continue;
		Elf_Data *d = elf_getdata(scn, NULL);
		size_t n = sh.sh_entsize ? sh.sh_size / sh.sh_entsize : 0;
		for (size_t i = 0; d && i < n; i++) {
			GElf_Sym s;
			if (!gelf_getsym(d, (int)i, &s) || !sym_is_candidate(&s))
				continue;
			const char *name = elf_strptr(elf, sh.sh_link, s.st_name);
			if (!name || !*name)
				continue;
			struct sym *e = sym_find(&g->syms, name, true);
			if (s.st_value >= e->addr) {
				e->addr = s.st_value;
				e->is_func = GELF_ST_TYPE(s.st_info) == STT_FUNC;
			}
			if (!strcmp(name, "linux_banner"))
				banner_addr = s.st_value;
		}
	}
	if (!g->syms.n)
		die("no .symtab: a -dbg vmlinux (with DWARF and symbols) is needed");
	/* linux_banner's bytes, from the allocated section holding its address. */
	scn = NULL;
	while (banner_addr && (scn = elf_nextscn(elf, scn))) {
		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_PROGBITS || !(sh.sh_flags & SHF_ALLOC) ||
		    banner_addr < sh.sh_addr || banner_addr >= sh.sh_addr + sh.sh_size)
			continue;
		Elf_Data *d = elf_getdata(scn, NULL);
		if (!d || !d->d_buf)
			break;
		const char *p = (const char *)d->d_buf + (banner_addr - sh.sh_addr);
		size_t max = sh.sh_size - (banner_addr - sh.sh_addr);
		size_t len = strnlen(p, max < 1024 ? max : 1024);
		*banner = strndup(p, len);
		while (*banner && len && ((*banner)[len - 1] == '\n'))
			(*banner)[--len] = 0;
		break;
	}
}

/* ---- choosing and writing ---- */

/* "[N]T" with N > 0 → "[0]T" when the declaration says "[0]T". */
static bool open_array_of(const char *decl, const char *def)
{
	if (!decl || !def || strncmp(decl, "[0]", 3) || def[0] != '[')
		return false;
	const char *d = strchr(def, ']');
	return d && !strcmp(decl + 3, d + 1);
}

static const char *choose(const struct sym *s)
{
	const char *def = s->c[C_DEF_AT_ADDR];
	if (!def && !s->c[C_DECL] && !s->is_func)
		def = s->c[C_DEF_OTHER];
	if (def)
		return open_array_of(s->c[C_DECL], def) ? s->c[C_DECL] : def;
	return s->c[C_DECL];
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp((*(const struct sym *const *)a)->name, (*(const struct sym *const *)b)->name);
}

static void usage(void)
{
	fputs("usage: symdb-gen [-o OUT] [--release R] [--explain] VMLINUX\n", stderr);
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "release", required_argument, NULL, 'r' },
		{ "explain", no_argument, NULL, 'x' },
		{ NULL, 0, NULL, 0 },
	};
	struct gen g = { 0 };
	const char *out_path = NULL, *release = NULL;
	char *banner = NULL, rel_buf[128] = "";
	int c;
	struct timespec t0, t1;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while ((c = getopt_long(argc, argv, "o:r:x", opts, NULL)) != -1) {
		switch (c) {
		case 'o': out_path = optarg; break;
		case 'r': release = optarg; break;
		case 'x': g.explain = true; break;
		default: usage();
		}
	}
	if (optind != argc - 1)
		usage();
	const char *path = argv[optind];

	elf_version(EV_CURRENT);
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		die("%s: %s", path, strerror(errno));
	Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!elf)
		die("%s: %s", path, elf_errmsg(-1));
	read_symtab(&g, elf, &banner);
	if (!release && banner && !strncmp(banner, "Linux version ", 14)) {
		sscanf(banner + 14, "%127s", rel_buf);
		release = rel_buf;
	}
	if (!release)
		die("%s: no linux_banner to take the release from: use --release", path);
	struct kver kv;
	if (!kver_parse(release, &kv))
		die("%s: cannot parse a kernel version from '%s'", path, release);

	/* This kernel's BTF: which type names a profile of it can resolve. */
	struct btf *btf = btf__parse_elf(path, NULL);
	if (!btf)
		die("%s: no usable .BTF section", path);
	struct isf_types *types = isf_types_new(btf);
	if (!types)
		die("%s: BTF: cannot build the type model", path);

	g.types = types;
	g.dw = dwarf_begin_elf(elf, DWARF_C_READ, NULL);
	if (!g.dw)
		die("%s: no DWARF: %s", path, dwarf_errmsg(-1));
	walk_dwarf(&g);

	size_t n = 0, typed = 0, unresolved = 0;
	struct sym **list = xmalloc_(g.syms.n * sizeof(*list));
	for (size_t i = 0; i < g.syms.cap; i++)
		if (g.syms.slot[i].name && (g.syms.slot[i].c[C_DECL] || g.syms.slot[i].ndef))
			list[n++] = &g.syms.slot[i];
	qsort(list, n, sizeof(*list), name_cmp);

	FILE *out = out_path ? fopen(out_path, "w") : stdout;
	if (!out)
		die("%s: %s", out_path, strerror(errno));
	fprintf(out, "# symdb-gen: release %s series %u.%u\n", release, kv.major, kv.minor);
	if (banner)
		fprintf(out, "# banner: %s\n", banner);
	for (size_t i = 0; i < n; i++) {
		const struct sym *s = list[i];
		const char *e = choose(s);
		if (!e)
			continue;
		bool ok = symdb_type_valid(e, types);
		typed++;
		unresolved += !ok;
		fprintf(out, "%s\t%s%s%s\n", s->name, ok || e[0] == '?' ? "" : "? ", e,
			s->is_func ? "\tfunction" : "");
		if (g.explain)
			fprintf(out, "#\tdef@addr=%s def-other=%s decl=%s last=%s ndef=%u ndecl=%u%s\n",
				s->c[C_DEF_AT_ADDR] ? s->c[C_DEF_AT_ADDR] : "-",
				s->c[C_DEF_OTHER] ? s->c[C_DEF_OTHER] : "-",
				s->c[C_DECL] ? s->c[C_DECL] : "-", s->c[C_LAST] ? s->c[C_LAST] : "-",
				s->ndef, s->ndecl, s->decl_conflict ? " decl-conflict" : "");
	}
	if (out != stdout && fclose(out))
		die("%s: %s", out_path, strerror(errno));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	fprintf(stderr, "symdb-gen: %s: %zu typed symbols (%zu not resolvable in its BTF), %lu variable DIEs, %lu CUs, %lu anonymous types with flattened arrays, %.1f s\n",
		release, typed, unresolved, g.n_vars, g.n_cus, g.n_flat,
		(double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	free(list);
	free(banner);
	for (size_t i = 0; i < g.strings.cap; i++)
		free(g.strings.slot[i]);
	free(g.strings.slot);
	free(g.expr_memo.key);
	free(g.expr_memo.val);
	free(g.anon_memo.key);
	free(g.anon_memo.val);
	free(g.syms.slot);
	isf_types_free(types);
	btf__free(btf);
	dwarf_end(g.dw);
	elf_end(elf);
	close(fd);
	return 0;
}

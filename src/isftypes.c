#include "isftypes.h"

#include "log.h"
#include "util.h"
#include "valtmpl.h"

#include <bpf/btf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

/* Bound on typedef/qualifier chains and descriptor nesting: hostile BTF may
 * contain reference cycles that libbpf does not reject. */
#define MAX_CHAIN 64

/* A name under which a BTF type is listed in user_types or enums.  When two
 * entries share a name (a driver's private "struct controller" beside
 * another's), the higher priority wins, then the definition that more members,
 * parameters and variables use (the canonical one), then the higher BTF id. */
enum entry_prio { PRIO_ANON = 1, PRIO_TYPEDEF = 2, PRIO_TAG = 3 };

/* A name's first 16 bytes as two big-endian words, zero-padded: keys order
 * like the names.  Most names differ there (anonymous types' "unnamed_"
 * and the like share 8), so comparing keys spares a sort a cache miss into
 * the string section per comparison. */
struct name_key {
	uint64_t hi, lo;
};

struct entry {
	const char *name;
	struct name_key key;
	uint32_t id;
	uint32_t uses;
	uint8_t prio;
};

struct entry_list {
	struct entry *v;
	size_t n, cap;
};

struct base_type {
	const char *name;
	uint32_t size;
	bool is_signed;
	const char *kind;	/* "int", "char", "bool", "float", "void" */
};

struct var_type {
	const char *name;
	uint32_t type;
	uint32_t offset;	/* within its DATASEC (.data..percpu) */
};

enum anon_state { ANON_NONE, ANON_BUSY, ANON_DONE };

struct isf_types {
	const struct btf *btf;
	uint32_t n;			/* type count including void (id 0) */
	unsigned ptr_size;
	bool enum_sign_known;		/* BTF marks signed enums (pahole >= 1.24) */
	char **anon_name;		/* per id, for anonymous struct/union/enum */
	uint8_t *anon_state;
	struct entry_list users, enums;
	struct base_type *bases;
	size_t n_bases;
	struct var_type *vars;
	size_t n_vars;
	uint32_t *var_slots;		/* open-addressing hash of vars: index + 1 */
	size_t var_mask;
	uint32_t var_offset_max;
	struct isf_types_stats stats;
};

/* The resolved shape of a type reference, as an ISF type descriptor. */
enum desc_kind { D_VOID, D_BASE, D_POINTER, D_ARRAY, D_STRUCT, D_UNION, D_ENUM, D_FUNCTION };

struct desc {
	enum desc_kind kind;
	const char *name;	/* base/struct/union/enum name */
	uint32_t count;		/* array element count */
	uint32_t sub;		/* BTF id of the pointer target / array element */
};

/* ---- safe BTF accessors: ids and string offsets come from hostile input ---- */

static const struct btf_type *type_at(const struct isf_types *t, uint32_t id)
{
	if (id == 0 || id >= t->n)
		return NULL;
	return btf__type_by_id(t->btf, id);
}

static const char *name_of(const struct isf_types *t, const struct btf_type *bt)
{
	const char *s = bt ? btf__name_by_offset(t->btf, bt->name_off) : NULL;
	return s ? s : "";
}

static bool is_cv(const struct btf_type *bt)
{
	switch (btf_kind(bt)) {
	case BTF_KIND_CONST:
	case BTF_KIND_VOLATILE:
	case BTF_KIND_RESTRICT:
	case BTF_KIND_TYPE_TAG:
		return true;
	default:
		return false;
	}
}

/* Follow qualifiers (not typedefs) from id; returns the first other id. */
static uint32_t skip_cv(const struct isf_types *t, uint32_t id)
{
	for (int i = 0; i < MAX_CHAIN; i++) {
		const struct btf_type *bt = type_at(t, id);
		if (!bt || !is_cv(bt))
			return id;
		id = bt->type;
	}
	return 0;
}

/* Follow qualifiers and typedefs: the underlying type id. */
static uint32_t skip_cv_typedef(const struct isf_types *t, uint32_t id)
{
	for (int i = 0; i < MAX_CHAIN; i++) {
		const struct btf_type *bt = type_at(t, id);
		if (!bt || !(is_cv(bt) || btf_is_typedef(bt)))
			return id;
		id = bt->type;
	}
	return 0;
}

static bool is_anon_composite_or_enum(const struct btf_type *bt)
{
	return bt && bt->name_off == 0 && (btf_is_composite(bt) || btf_is_any_enum(bt));
}

/* ---- anonymous type names: unnamed_<xxh64 of a canonical layout text> ---- */

static const char *anon_name(struct isf_types *t, uint32_t id);
static struct desc resolve(struct isf_types *t, uint32_t id);

/* Canonical text of a descriptor, used only as hash input. */
static void desc_text(struct isf_types *t, struct buf *b, uint32_t id, int depth)
{
	struct desc d = resolve(t, id);

	if (depth > MAX_CHAIN) {
		buf_append(b, "?", 1);
		return;
	}
	switch (d.kind) {
	case D_VOID: buf_append(b, "v", 1); return;
	case D_FUNCTION: buf_append(b, "f", 1); return;
	case D_POINTER:
		buf_append(b, "*", 1);
		desc_text(t, b, d.sub, depth + 1);
		return;
	case D_ARRAY:
		buf_append(b, "[", 1);
		buf_append_uint(b, d.count);
		buf_append(b, "]", 1);
		desc_text(t, b, d.sub, depth + 1);
		return;
	case D_BASE: buf_append(b, "b:", 2); break;
	case D_STRUCT: buf_append(b, "s:", 2); break;
	case D_UNION: buf_append(b, "u:", 2); break;
	case D_ENUM: buf_append(b, "e:", 2); break;
	}
	buf_append(b, d.name, strlen(d.name));
}

/* printf-free, as there are thousands of anonymous types: the text (and so
 * the names) must stay as "%c%u{" ... ":%u:%u:" ... "=%d;" would put it. */
static void layout_text(struct isf_types *t, struct buf *b, const struct btf_type *bt)
{
	uint16_t vlen = btf_vlen(bt);

	buf_append(b, btf_is_struct(bt) ? "S" : btf_is_union(bt) ? "U" : "E", 1);
	buf_append_uint(b, bt->size);
	buf_append(b, "{", 1);
	if (btf_is_composite(bt)) {
		const struct btf_member *m = btf_members(bt);
		for (uint16_t i = 0; i < vlen; i++, m++) {
			const char *mn = btf__name_by_offset(t->btf, m->name_off);
			buf_append(b, mn ? mn : "", mn ? strlen(mn) : 0);
			buf_append(b, ":", 1);
			buf_append_uint(b, btf_member_bit_offset(bt, i));
			buf_append(b, ":", 1);
			buf_append_uint(b, btf_member_bitfield_size(bt, i));
			buf_append(b, ":", 1);
			desc_text(t, b, m->type, 0);
			buf_append(b, ";", 1);
		}
	} else if (btf_is_enum(bt)) {
		const struct btf_enum *e = btf_enum(bt);
		for (uint16_t i = 0; i < vlen; i++, e++) {
			const char *en = btf__name_by_offset(t->btf, e->name_off);
			buf_append(b, en ? en : "", en ? strlen(en) : 0);
			buf_append(b, "=", 1);
			buf_append_int(b, e->val);
			buf_append(b, ";", 1);
		}
	} else {
		const struct btf_enum64 *e = btf_enum64(bt);
		for (uint16_t i = 0; i < vlen; i++, e++) {
			const char *en = btf__name_by_offset(t->btf, e->name_off);
			buf_append(b, en ? en : "", en ? strlen(en) : 0);
			buf_append(b, "=", 1);
			buf_append_uint(b, btf_enum64_value(e));
			buf_append(b, ";", 1);
		}
	}
	buf_append(b, "}", 1);
}

static const char *anon_name(struct isf_types *t, uint32_t id)
{
	const struct btf_type *bt = type_at(t, id);
	struct buf b = { 0 };
	char name[32];

	if (t->anon_state[id] == ANON_DONE)
		return t->anon_name[id];
	if (t->anon_state[id] == ANON_BUSY)	/* self-reference in hostile BTF */
		return "unnamed_cycle";
	t->anon_state[id] = ANON_BUSY;
	layout_text(t, &b, bt);
	snprintf(name, sizeof(name), "unnamed_%016llx", (unsigned long long)XXH64(b.p, b.len, 0));
	buf_free(&b);
	t->anon_name[id] = xstrdup(name);
	t->anon_state[id] = ANON_DONE;
	return t->anon_name[id];
}

/* ---- references: BTF id → ISF descriptor ---- */

static struct desc named_desc(struct isf_types *t, const struct btf_type *bt, uint32_t id,
			      const char *name_override)
{
	struct desc d = { 0 };

	d.kind = btf_is_struct(bt) ? D_STRUCT : btf_is_union(bt) ? D_UNION : D_ENUM;
	if (name_override)
		d.name = name_override;
	else if (bt->name_off)
		d.name = name_of(t, bt);
	else
		d.name = anon_name(t, id);
	return d;
}

static struct desc resolve(struct isf_types *t, uint32_t id)
{
	struct desc d = { .kind = D_VOID, .name = "void" };

	for (int hops = 0; hops < MAX_CHAIN; hops++) {
		const struct btf_type *bt = type_at(t, id);
		if (!bt)
			return d;
		switch (btf_kind(bt)) {
		case BTF_KIND_INT:
		case BTF_KIND_FLOAT:
			d.kind = D_BASE;
			d.name = name_of(t, bt);
			return d;
		case BTF_KIND_PTR:
			d.kind = D_POINTER;
			d.sub = bt->type;
			return d;
		case BTF_KIND_ARRAY:
			d.kind = D_ARRAY;
			d.count = btf_array(bt)->nelems;
			d.sub = btf_array(bt)->type;
			return d;
		case BTF_KIND_STRUCT:
		case BTF_KIND_UNION:
		case BTF_KIND_ENUM:
		case BTF_KIND_ENUM64:
			return named_desc(t, bt, id, NULL);
		case BTF_KIND_FWD:
			d.kind = btf_kflag(bt) ? D_UNION : D_STRUCT;
			d.name = name_of(t, bt);
			return d;
		case BTF_KIND_TYPEDEF: {
			uint32_t target = skip_cv(t, bt->type);
			const struct btf_type *tt = type_at(t, target);
			if (is_anon_composite_or_enum(tt))
				return named_desc(t, tt, target, name_of(t, bt));
			id = bt->type;
			continue;
		}
		case BTF_KIND_CONST:
		case BTF_KIND_VOLATILE:
		case BTF_KIND_RESTRICT:
		case BTF_KIND_TYPE_TAG:
			id = bt->type;
			continue;
		case BTF_KIND_FUNC:
		case BTF_KIND_FUNC_PROTO:
			d.kind = D_FUNCTION;
			return d;
		default:	/* VAR, DATASEC, DECL_TAG: not value types */
			return d;
		}
	}
	return d;
}

static void write_desc(const struct isf_types *ct, struct jsonw *w, uint32_t id, int depth)
{
	/* resolve() memoises anonymous names; the model is logically const. */
	struct isf_types *t = (struct isf_types *)ct;
	struct desc d = resolve(t, id);

	jsonw_start_object(w);
	if (depth > MAX_CHAIN)
		d = (struct desc){ .kind = D_VOID, .name = "void" };
	switch (d.kind) {
	case D_VOID:
	case D_BASE:
		jsonw_string_field(w, "kind", "base");
		jsonw_string_field(w, "name", d.kind == D_VOID ? "void" : d.name);
		break;
	case D_POINTER:
		jsonw_string_field(w, "kind", "pointer");
		jsonw_name(w, "subtype");
		write_desc(t, w, d.sub, depth + 1);
		break;
	case D_ARRAY:
		jsonw_uint_field(w, "count", d.count);
		jsonw_string_field(w, "kind", "array");
		jsonw_name(w, "subtype");
		write_desc(t, w, d.sub, depth + 1);
		break;
	case D_STRUCT:
	case D_UNION:
	case D_ENUM:
		jsonw_string_field(w, "kind", d.kind == D_STRUCT ? "struct" : d.kind == D_UNION ? "union" : "enum");
		jsonw_string_field(w, "name", d.name);
		break;
	case D_FUNCTION:
		jsonw_string_field(w, "kind", "function");
		break;
	}
	jsonw_end_object(w);
}

void isf_types_write_descriptor(const struct isf_types *t, struct jsonw *w, uint32_t id)
{
	write_desc(t, w, id, 0);
}

/* ---- collecting the entries of user_types and enums ---- */

static struct name_key name_key(const char *name)
{
	uint64_t w[2] = { 0, 0 };
	size_t i = 0;

	for (; i < 16 && name[i]; i++)
		w[i / 8] |= (uint64_t)(uint8_t)name[i] << (8 * (7 - i % 8));
	return (struct name_key){ w[0], w[1] };
}

/* strcmp's order, from the keys where they differ. */
static int name_order(const struct name_key *kx, const char *x, const struct name_key *ky, const char *y)
{
	if (kx->hi != ky->hi)
		return kx->hi < ky->hi ? -1 : 1;
	if (kx->lo != ky->lo)
		return kx->lo < ky->lo ? -1 : 1;
	return strcmp(x, y);
}

static void entry_add(struct entry_list *l, const char *name, uint32_t id, uint8_t prio)
{
	if (!name[0])
		return;
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 1024;
		l->v = xreallocarray(l->v, l->cap, sizeof(*l->v));
	}
	l->v[l->n++] = (struct entry){ name, name_key(name), id, 0, prio };
}

static int entry_cmp(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;
	int c = name_order(&x->key, x->name, &y->key, y->name);
	if (c)
		return c;
	if (x->prio != y->prio)
		return y->prio - x->prio;
	if (x->uses != y->uses)
		return x->uses < y->uses ? 1 : -1;
	return x->id < y->id ? 1 : x->id > y->id ? -1 : 0;
}

/* Sort by name and keep one entry per name (the best, see enum entry_prio). */
static unsigned entry_sort_unique(struct entry_list *l)
{
	unsigned dups = 0;
	size_t out = 0;

	if (l->n)
		qsort(l->v, l->n, sizeof(*l->v), entry_cmp);
	for (size_t i = 0; i < l->n; i++) {
		if (out && strcmp(l->v[out - 1].name, l->v[i].name) == 0) {
			if (l->v[out - 1].id != l->v[i].id && l->v[out - 1].prio == l->v[i].prio)
				dups++;
			continue;
		}
		l->v[out++] = l->v[i];
	}
	l->n = out;
	return dups;
}

/* The type a use of `id` is ultimately about: through pointers, arrays,
 * typedefs and qualifiers. */
static uint32_t use_target(const struct isf_types *t, uint32_t id)
{
	for (int i = 0; i < MAX_CHAIN; i++) {
		const struct btf_type *bt = type_at(t, id);
		if (!bt)
			return 0;
		if (btf_is_ptr(bt) || btf_is_typedef(bt) || is_cv(bt))
			id = bt->type;
		else if (btf_is_array(bt))
			id = btf_array(bt)->type;
		else
			return id;
	}
	return 0;
}

/* use_target(id), worked out once per id: uses name the same types over and
 * over, and following their chains each time took longer than the rest of
 * isf_types_new(). */
static uint32_t counted_target(const struct isf_types *t, uint32_t id, uint32_t *memo)
{
	if (id >= t->n)
		return 0;
	if (memo[id] == UINT32_MAX)
		memo[id] = use_target(t, id);
	return memo[id];
}

/* How often each type is used by a member, parameter, return or variable. */
static uint32_t *count_uses(const struct isf_types *t)
{
	uint32_t *uses = xcalloc(t->n, sizeof(*uses));
	uint32_t *memo = xreallocarray(NULL, t->n, sizeof(*memo));

	memset(memo, 0xff, t->n * sizeof(*memo));
	for (uint32_t id = 1; id < t->n; id++) {
		const struct btf_type *bt = type_at(t, id);
		if (!bt)
			continue;
		if (btf_is_composite(bt)) {
			for (uint16_t i = 0; i < btf_vlen(bt); i++)
				uses[counted_target(t, btf_members(bt)[i].type, memo)]++;
		} else if (btf_is_func_proto(bt)) {
			uses[counted_target(t, bt->type, memo)]++;
			for (uint16_t i = 0; i < btf_vlen(bt); i++)
				uses[counted_target(t, btf_params(bt)[i].type, memo)]++;
		} else if (btf_is_var(bt)) {
			uses[counted_target(t, bt->type, memo)]++;
		}
	}
	free(memo);
	return uses;
}

static void set_uses(struct entry_list *l, const uint32_t *uses)
{
	for (size_t i = 0; i < l->n; i++)
		l->v[i].uses = uses[l->v[i].id];
}

struct uses_job {
	const struct isf_types *t;
	uint32_t *uses;
	struct thread_job job;
};

static void count_uses_job(void *arg)
{
	struct uses_job *u = arg;
	u->uses = count_uses(u->t);
}

static void collect_entries(struct isf_types *t)
{
	/* The counts only read the BTF: another core makes them meanwhile. */
	struct uses_job u = { .t = t };
	thread_job_start(&u.job, count_uses_job, &u);
	for (uint32_t id = 1; id < t->n; id++) {
		const struct btf_type *bt = type_at(t, id);
		if (!bt)
			continue;
		if (btf_is_composite(bt) || btf_is_any_enum(bt)) {
			struct entry_list *l = btf_is_composite(bt) ? &t->users : &t->enums;
			if (bt->name_off) {
				entry_add(l, name_of(t, bt), id, PRIO_TAG);
			} else {
				entry_add(l, anon_name(t, id), id, PRIO_ANON);
				t->stats.anonymous++;
			}
		} else if (btf_is_typedef(bt)) {
			/* typedef → struct/union: listed under the typedef name too;
			 * typedef → anonymous enum: the enum's name is the typedef's. */
			uint32_t target = skip_cv(t, bt->type);
			const struct btf_type *tt = type_at(t, target);
			if (!tt)
				continue;
			if (btf_is_composite(tt)) {
				entry_add(&t->users, name_of(t, bt), target, PRIO_TYPEDEF);
				t->stats.typedef_aliases++;
			} else if (btf_is_any_enum(tt) && tt->name_off == 0) {
				entry_add(&t->enums, name_of(t, bt), target, PRIO_TYPEDEF);
				t->stats.typedef_aliases++;
			}
		} else if (btf_kind(bt) > BTF_KIND_ENUM64) {
			t->stats.unknown_kinds++;
		}
	}
	thread_job_join(&u.job);
	set_uses(&t->users, u.uses);
	set_uses(&t->enums, u.uses);
	free(u.uses);
	t->stats.duplicate_names = entry_sort_unique(&t->users) + entry_sort_unique(&t->enums);
	t->stats.user_types = (unsigned)t->users.n;
	t->stats.enums = (unsigned)t->enums.n;
}

/* ---- base types ---- */

static int base_cmp(const void *a, const void *b)
{
	return strcmp(((const struct base_type *)a)->name, ((const struct base_type *)b)->name);
}

static void base_add(struct isf_types *t, size_t *cap, struct base_type bt)
{
	if (t->n_bases == *cap) {
		*cap = *cap ? *cap * 2 : 32;
		t->bases = xreallocarray(t->bases, *cap, sizeof(*t->bases));
	}
	t->bases[t->n_bases++] = bt;
}

/* dwarf2json's conventions: kind "char" for character types, "bool" for
 * _Bool (reported signed, as Go's DWARF reader does), floats signed. */
static struct base_type base_from_btf(const struct isf_types *t, const struct btf_type *bt)
{
	struct base_type b = { .name = name_of(t, bt), .size = bt->size, .kind = "int" };

	if (btf_is_float(bt)) {
		b.kind = "float";
		b.is_signed = true;
		return b;
	}
	uint8_t enc = btf_int_encoding(bt);
	b.is_signed = enc & BTF_INT_SIGNED;
	if (enc & BTF_INT_BOOL) {
		b.kind = "bool";
		b.is_signed = true;
	} else if ((enc & BTF_INT_CHAR) || strstr(b.name, "char")) {
		b.kind = "char";
	}
	return b;
}

static void collect_bases(struct isf_types *t)
{
	size_t cap = 0, out = 0;

	base_add(t, &cap, (struct base_type){ "void", 0, false, "void" });
	base_add(t, &cap, (struct base_type){ "pointer", t->ptr_size, false, "int" });
	for (uint32_t id = 1; id < t->n; id++) {
		const struct btf_type *bt = type_at(t, id);
		if (!bt || !(btf_is_int(bt) || btf_is_float(bt)) || !bt->name_off)
			continue;
		struct base_type b = base_from_btf(t, bt);
		if (strcmp(b.name, "void") && strcmp(b.name, "pointer"))
			base_add(t, &cap, b);
	}
	/* Stable sort keeps the first definition of a name (lowest id). */
	for (size_t i = 1; i < t->n_bases; i++)
		for (size_t j = i; j > 0 && base_cmp(&t->bases[j - 1], &t->bases[j]) > 0; j--) {
			struct base_type tmp = t->bases[j];
			t->bases[j] = t->bases[j - 1];
			t->bases[j - 1] = tmp;
		}
	for (size_t i = 0; i < t->n_bases; i++)
		if (!out || strcmp(t->bases[out - 1].name, t->bases[i].name))
			t->bases[out++] = t->bases[i];
	t->n_bases = out;
	t->stats.base_types = (unsigned)out;
}

/* ---- variables typed by BTF (VAR inside DATASEC) ---- */

static int var_cmp(const void *a, const void *b)
{
	return strcmp(((const struct var_type *)a)->name, ((const struct var_type *)b)->name);
}

/* Every symbol of a profile is looked up here: a hash, not a search. */
static void index_vars(struct isf_types *t)
{
	size_t slots = 16;

	while (slots < t->n_vars * 2)
		slots *= 2;
	t->var_mask = slots - 1;
	t->var_slots = xcalloc(slots, sizeof(*t->var_slots));
	for (size_t i = 0; i < t->n_vars; i++) {
		size_t h = (size_t)XXH3_64bits(t->vars[i].name, strlen(t->vars[i].name)) & t->var_mask;
		while (t->var_slots[h])
			h = (h + 1) & t->var_mask;
		t->var_slots[h] = (uint32_t)i + 1;
	}
}

static void collect_vars(struct isf_types *t)
{
	size_t cap = 0, out = 0;

	for (uint32_t id = 1; id < t->n; id++) {
		const struct btf_type *bt = type_at(t, id);
		if (!bt || !btf_is_datasec(bt))
			continue;
		const struct btf_var_secinfo *vs = btf_var_secinfos(bt);
		for (uint16_t i = 0; i < btf_vlen(bt); i++, vs++) {
			const struct btf_type *var = type_at(t, vs->type);
			if (!var || !btf_is_var(var) || !var->name_off)
				continue;
			if (t->n_vars == cap) {
				cap = cap ? cap * 2 : 512;
				t->vars = xreallocarray(t->vars, cap, sizeof(*t->vars));
			}
			t->vars[t->n_vars++] = (struct var_type){ name_of(t, var), var->type, vs->offset };
		}
	}
	if (t->n_vars)
		qsort(t->vars, t->n_vars, sizeof(*t->vars), var_cmp);
	for (size_t i = 0; i < t->n_vars; i++)
		if (!out || strcmp(t->vars[out - 1].name, t->vars[i].name))
			t->vars[out++] = t->vars[i];
	t->n_vars = out;
	for (size_t i = 0; i < t->n_vars; i++)
		if (t->vars[i].offset > t->var_offset_max)
			t->var_offset_max = t->vars[i].offset;
	index_vars(t);
}

uint32_t isf_types_var_offset_max(const struct isf_types *t) { return t->var_offset_max; }

uint32_t isf_types_var_type(const struct isf_types *t, const char *name, uint32_t *offset)
{
	size_t h = (size_t)XXH3_64bits(name, strlen(name)) & t->var_mask;

	for (; t->var_slots[h]; h = (h + 1) & t->var_mask) {
		const struct var_type *v = &t->vars[t->var_slots[h] - 1];
		if (!strcmp(v->name, name)) {
			*offset = v->offset;
			return v->type;
		}
	}
	return 0;
}

/* ---- construction ---- */

struct isf_types *isf_types_new(const struct btf *btf)
{
	struct isf_types *t = xcalloc(1, sizeof(*t));

	t->btf = btf;
	t->n = btf__type_cnt(btf);
	t->ptr_size = (unsigned)btf__pointer_size(btf);
	if (!t->ptr_size)
		t->ptr_size = 8;	/* no pointer in the BTF: assume 64-bit */
	t->anon_name = xcalloc(t->n, sizeof(*t->anon_name));
	t->anon_state = xcalloc(t->n, 1);
	for (uint32_t id = 1; id < t->n; id++) {
		const struct btf_type *bt = type_at(t, id);
		if (bt && ((btf_is_enum(bt) && btf_kflag(bt)) || btf_is_enum64(bt)))
			t->enum_sign_known = true;
	}
	collect_entries(t);
	collect_bases(t);
	collect_vars(t);
	return t;
}

void isf_types_free(struct isf_types *t)
{
	if (!t)
		return;
	for (uint32_t i = 0; i < t->n; i++)
		free(t->anon_name[i]);
	free(t->anon_name);
	free(t->anon_state);
	free(t->users.v);
	free(t->enums.v);
	free(t->bases);
	free(t->vars);
	free(t->var_slots);
	free(t);
}

const struct isf_types_stats *isf_types_stats(const struct isf_types *t) { return &t->stats; }

/* ---- emission ---- */

void isf_types_write_base_types(const struct isf_types *t, struct jsonw *w)
{
	jsonw_start_object(w);
	for (size_t i = 0; i < t->n_bases; i++) {
		const struct base_type *b = &t->bases[i];
		jsonw_name(w, b->name);
		jsonw_start_object(w);
		jsonw_uint_field(w, "size", b->size);
		jsonw_bool_field(w, "signed", b->is_signed);
		jsonw_string_field(w, "kind", b->kind);
		jsonw_string_field(w, "endian", btf__endianness(t->btf) == BTF_BIG_ENDIAN ? "big" : "little");
		jsonw_end_object(w);
	}
	jsonw_end_object(w);
}

struct field {
	const char *name;	/* BTF's string, or one of anon_names */
	struct name_key key;
	uint16_t index;
	bool anonymous;
};

/* An "unnamed_field_N" name. */
typedef char anon_name_buf[24];

/* By name; equal names (malformed BTF) in member order. */
static int field_cmp(const void *a, const void *b)
{
	const struct field *x = a, *y = b;
	int c = name_order(&x->key, x->name, &y->key, y->name);
	return c ? c : (x->index > y->index) - (x->index < y->index);
}

struct constant {
	const char *name;
	struct name_key key;
	int64_t value;
};

/* What a rendering thread keeps from type to type and call to call: room
 * for one struct's fields or one enum's constants (rendering runs on two
 * threads sharing one heap, and allocating per type had them sleeping on
 * the allocator's lock), and the values of fields, {"type": T, "offset": N},
 * as templates keyed by T's BTF id and the anonymous flag. */
struct isf_write_cache {
	struct field *fields;
	anon_name_buf *anon_names;
	struct constant *constants;
	size_t cap;
	struct value_templates *field_values;
};

#define FIELD_DEPTH 4	/* document → user_types → type → fields → the field's value */

struct isf_write_cache *isf_write_cache_new(bool pretty)
{
	struct isf_write_cache *c = xcalloc(1, sizeof(*c));

	c->field_values = value_templates_new(pretty, FIELD_DEPTH);
	return c;
}

void isf_write_cache_free(struct isf_write_cache *c)
{
	if (!c)
		return;
	free(c->fields);
	free(c->anon_names);
	free(c->constants);
	value_templates_free(c->field_values);
	free(c);
}

static void scratch_fit(struct isf_write_cache *s, size_t n)
{
	if (n <= s->cap)
		return;
	s->cap = n;
	s->fields = xreallocarray(s->fields, n, sizeof(*s->fields));
	s->anon_names = xreallocarray(s->anon_names, n, sizeof(*s->anon_names));
	s->constants = xreallocarray(s->constants, n, sizeof(*s->constants));
}

/* Bit offset and width of member i; also decodes the pre-kind_flag encoding
 * where the bitfield lives in the INT type's offset/bits. */
static void member_bits(const struct isf_types *t, const struct btf_type *st, uint16_t i,
			uint32_t *bit_off, uint32_t *bit_size)
{
	const struct btf_member *m = btf_members(st) + i;

	*bit_off = btf_member_bit_offset(st, i);
	*bit_size = btf_member_bitfield_size(st, i);
	if (*bit_size || btf_kflag(st))
		return;
	const struct btf_type *it = type_at(t, skip_cv_typedef(t, m->type));
	if (it && btf_is_int(it) && (btf_int_offset(it) || btf_int_bits(it) != it->size * 8)) {
		*bit_off += btf_int_offset(it);
		*bit_size = btf_int_bits(it);
	}
}

/* What follows a field's "type": its offset, the anonymous flag, the end. */
static void end_field(struct jsonw *w, uint32_t offset, bool anonymous)
{
	jsonw_uint_field(w, "offset", offset);
	if (anonymous) {
		jsonw_bool_field(w, "anonymous", true);
	}
	jsonw_end_object(w);
}

/* value_render_fn: a field of type key >> 1, anonymous if key & 1. */
static bool render_field_value(struct jsonw *w, uint64_t key, void *types)
{
	jsonw_start_object(w);
	jsonw_name(w, "type");
	write_desc(types, w, (uint32_t)(key >> 1), 0);
	end_field(w, 0, key & 1);
	return true;
}

static void write_field(const struct isf_types *t, struct jsonw *w, const struct btf_type *st,
			const struct field *f, struct isf_write_cache *cache)
{
	const struct btf_member *m = btf_members(st) + f->index;
	uint32_t bit_off, bit_size;

	member_bits(t, st, f->index, &bit_off, &bit_size);
	jsonw_name(w, f->name);
	if (!bit_size) {
		uint64_t key = (uint64_t)m->type << 1 | f->anonymous;
		struct value_template v = value_template(cache->field_values, key, render_field_value, (void *)t);
		value_template_put(w, &v, bit_off / 8);
		return;
	}
	jsonw_start_object(w);
	jsonw_name(w, "type");
	jsonw_start_object(w);
	jsonw_uint_field(w, "bit_length", bit_size);
	jsonw_uint_field(w, "bit_position", bit_off % 8);
	jsonw_string_field(w, "kind", "bitfield");
	jsonw_name(w, "type");
	write_desc(t, w, m->type, 0);
	jsonw_end_object(w);
	end_field(w, bit_off / 8, f->anonymous);
}

static void write_user_type(const struct isf_types *t, struct jsonw *w, const struct btf_type *st,
			    struct isf_write_cache *cache)
{
	uint16_t vlen = btf_vlen(st);
	unsigned anon_counter = 0;

	scratch_fit(cache, vlen);
	struct field *fields = cache->fields;
	anon_name_buf *anon_names = cache->anon_names;
	for (uint16_t i = 0; i < vlen; i++) {
		const char *mn = btf__name_by_offset(t->btf, btf_members(st)[i].name_off);
		fields[i] = (struct field){ .index = i };
		if (mn && mn[0]) {
			fields[i].name = mn;
		} else {
			snprintf(anon_names[anon_counter], sizeof(anon_names[anon_counter]), "unnamed_field_%x",
				 anon_counter);
			fields[i].name = anon_names[anon_counter++];
			fields[i].anonymous = true;
		}
		fields[i].key = name_key(fields[i].name);
	}
	if (vlen)
		qsort(fields, vlen, sizeof(*fields), field_cmp);

	jsonw_start_object(w);
	jsonw_uint_field(w, "size", st->size);
	jsonw_name(w, "fields");
	jsonw_start_object(w);
	for (uint16_t i = 0; i < vlen; i++) {
		/* Duplicate member names only occur in malformed BTF: keep the first. */
		if (i && strcmp(fields[i].name, fields[i - 1].name) == 0)
			continue;
		write_field(t, w, st, &fields[i], cache);
	}
	jsonw_end_object(w);
	jsonw_string_field(w, "kind", btf_is_union(st) ? "union" : "struct");
	jsonw_end_object(w);
}


/* dwarf2json's rule: the first base type, in name order, of kind int with the
 * enum's size and signedness.  When there is none (1-byte enums: all 1-byte
 * base types are char or bool) any base type of that size will do, so the
 * enum never points at "void". */
static const char *enum_base(const struct isf_types *t, uint32_t size, bool is_signed)
{
	for (int pass = 0; pass < 3; pass++)
		for (size_t i = 0; i < t->n_bases; i++) {
			const struct base_type *b = &t->bases[i];
			if (b->size != size || !strcmp(b->kind, "void") || !strcmp(b->kind, "float"))
				continue;
			if (pass == 0 && (strcmp(b->kind, "int") || b->is_signed != is_signed))
				continue;
			if (pass == 1 && b->is_signed != is_signed)
				continue;
			return b->name;
		}
	return "void";
}

static int constant_cmp(const void *a, const void *b)
{
	const struct constant *x = a, *y = b;
	return name_order(&x->key, x->name, &y->key, y->name);
}

static void write_enum(const struct isf_types *t, struct jsonw *w, const struct btf_type *et,
		       struct isf_write_cache *cache)
{
	uint16_t vlen = btf_vlen(et);
	scratch_fit(cache, vlen);
	struct constant *c = cache->constants;
	/* Without signedness marks (pahole < 1.24) values are raw s32. */
	bool is_signed = btf_kflag(et) || !t->enum_sign_known;
	bool any_negative = false;

	for (uint16_t i = 0; i < vlen; i++) {
		uint32_t name_off;
		if (btf_is_enum(et)) {
			uint32_t raw = (uint32_t)btf_enum(et)[i].val;
			name_off = btf_enum(et)[i].name_off;
			c[i].value = is_signed ? (int64_t)(int32_t)raw : (int64_t)raw;
		} else {
			/* dwarf2json reads 8-byte enumerators as int64 whatever
			 * the enum's signedness; do the same so that values and
			 * the chosen base agree with its profiles. */
			name_off = btf_enum64(et)[i].name_off;
			c[i].value = (int64_t)btf_enum64_value(&btf_enum64(et)[i]);
		}
		const char *cn = btf__name_by_offset(t->btf, name_off);
		c[i].name = cn ? cn : "";
		c[i].key = name_key(c[i].name);
		any_negative |= c[i].value < 0;
	}
	if (vlen)
		qsort(c, vlen, sizeof(*c), constant_cmp);

	jsonw_start_object(w);
	jsonw_uint_field(w, "size", et->size);
	jsonw_string_field(w, "base", enum_base(t, et->size, any_negative));
	jsonw_name(w, "constants");
	jsonw_start_object(w);
	for (uint16_t i = 0; i < vlen; i++) {
		if (i && strcmp(c[i].name, c[i - 1].name) == 0)
			continue;
		jsonw_name(w, c[i].name);
		jsonw_int(w, c[i].value);
	}
	jsonw_end_object(w);
	jsonw_end_object(w);
}

static const struct entry_list *section_list(const struct isf_types *t, enum isf_section section)
{
	return section == ISF_USER_TYPES ? &t->users : &t->enums;
}

size_t isf_types_count(const struct isf_types *t, enum isf_section section)
{
	return section_list(t, section)->n;
}

void isf_types_write_members(const struct isf_types *t, enum isf_section section, struct jsonw *w,
			     size_t from, size_t to, struct isf_write_cache *cache)
{
	const struct entry_list *l = section_list(t, section);

	for (size_t i = from; i < to && i < l->n; i++) {
		jsonw_name(w, l->v[i].name);
		if (section == ISF_USER_TYPES)
			write_user_type(t, w, type_at(t, l->v[i].id), cache);
		else
			write_enum(t, w, type_at(t, l->v[i].id), cache);
	}
}

static bool entries_have(const struct entry_list *l, const char *name)
{
	struct entry key = { .name = name };
	if (!l->n)
		return false;
	/* entry_cmp also orders by prio/id; compare by name only here. */
	size_t lo = 0, hi = l->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(l->v[mid].name, key.name);
		if (c == 0)
			return true;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

bool isf_types_has(const struct isf_types *t, const char *kind, const char *name)
{
	if (!strcmp(kind, "struct") || !strcmp(kind, "union"))
		return entries_have(&t->users, name);
	if (!strcmp(kind, "enum"))
		return entries_have(&t->enums, name);
	if (!strcmp(kind, "base")) {
		struct base_type key = { .name = name };
		return t->n_bases && bsearch(&key, t->bases, t->n_bases, sizeof(key), base_cmp);
	}
	return false;
}

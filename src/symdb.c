#include "symdb.h"

#include "log.h"
#include "util.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#define XXH_INLINE_ALL
#include <xxhash.h>

struct symdb {
	struct symdb_packed p;
	/* Storage of a table built at run time (--symdb); NULL for the built-in. */
	struct symdb_slot *own_slots;
	uint32_t *own_type_off;
	struct symdb_prow *own_rows;
	uint16_t *own_bounds;
	char *own_strings;
};

static struct symdb builtin;

const struct symdb *symdb_builtin(void)
{
	builtin.p = symdb_builtin_packed;
	return &builtin;
}

size_t symdb_rows(const struct symdb *db) { return db->p.nrows; }

bool kver_parse(const char *release, struct kver *v)
{
	char *end;
	unsigned long parts[3] = { 0, 0, 0 };
	const char *p = release;

	for (int i = 0; i < 3; i++) {
		if (*p < '0' || *p > '9') {
			if (i < 2)
				return false;
			break;
		}
		parts[i] = strtoul(p, &end, 10);
		if (parts[i] > 100000)
			return false;
		p = end;
		if (*p != '.')
			break;
		p++;
	}
	v->major = (unsigned)parts[0];
	v->minor = (unsigned)parts[1];
	v->patch = (unsigned)parts[2];
	return true;
}

/* ---- versions: a series is major << 8 | minor ---- */

#define SERIES_MIN 0u		/* "-" as a first version */
#define SERIES_MAX 0xffffu	/* "-" as a last version */

static uint16_t series_of(const struct kver *v)
{
	unsigned major = v->major > 254 ? 254 : v->major, minor = v->minor > 255 ? 255 : v->minor;
	return (uint16_t)(major << 8 | minor);
}

/* Distance between series counts releases, not numbers: 3.x had 20 minors
 * (3.0-3.19), 4.x 21, 5.x and 6.x 20, so 6.19 -> 7.0 is one step and 6.12 is
 * 10 releases before 7.2 and 11 after 6.1.  Later majors are assumed to have
 * 20 minors too. */
static long series_ordinal(uint16_t s)
{
	if (s == SERIES_MIN)
		return LONG_MIN / 2;
	if (s == SERIES_MAX)
		return LONG_MAX / 2;
	long major = s >> 8, ord = s & 0xff;
	for (long m = 3; m < major; m++)
		ord += m == 4 ? 21 : 20;
	return ord;
}

static long row_distance(uint16_t first, uint16_t last, long want)
{
	long lo = series_ordinal(first), hi = series_ordinal(last);
	if (want < lo)
		return lo - want;
	if (want > hi)
		return want - hi;
	return 0;
}

/* ---- lookup ---- */

uint64_t symdb_hash(const struct symdb *db, const char *symbol, size_t len)
{
	return XXH3_64bits_withSeed(symbol, len, db->p.seed);
}

static uint32_t first_slot(const struct symdb_packed *p, uint64_t hash)
{
	return (uint32_t)(hash >> (64 - p->slot_bits));
}

void symdb_prefetch(const struct symdb *db, uint64_t hash)
{
	if (db->p.nsyms)
		__builtin_prefetch(&db->p.slots[first_slot(&db->p, hash)]);
}

static const struct symdb_slot *find_slot(const struct symdb_packed *p, uint64_t hash)
{
	if (!p->nsyms)
		return NULL;
	uint32_t mask = (1u << p->slot_bits) - 1, fp = (uint32_t)hash;
	for (uint32_t i = first_slot(p, hash);; i = (i + 1) & mask) {
		const struct symdb_slot *s = &p->slots[i];
		if (s->ref == SYMDB_EMPTY)
			return NULL;
		if (s->fp == fp)
			return s;
	}
}

const char *symdb_lookup_hash(const struct symdb *db, uint64_t hash, const struct kver *v)
{
	const struct symdb_packed *p = &db->p;
	const struct symdb_slot *slot = find_slot(p, hash);
	uint32_t type;
	long want = series_ordinal(series_of(v));

	if (!slot)
		return NULL;
	uint32_t ref = slot->ref;
	if (!(ref & 0x80000000u)) {
		type = ref & ((1u << SYMDB_INLINE_TYPE_BITS) - 1);
	} else {
		uint32_t start = ref & 0xffffffu, n = (ref >> 24) & 0x7f;
		long best_d = LONG_MAX;
		type = p->rows[start].type;
		for (uint32_t k = start; k < start + n; k++) {
			long d = row_distance(p->rows[k].first, p->rows[k].last, want);
			if (d < best_d) {	/* ties: the earlier (older) row */
				best_d = d;
				type = p->rows[k].type;
			}
		}
	}
	return p->strings + p->type_off[type];
}

const char *symdb_lookup(const struct symdb *db, const char *symbol, size_t len, const struct kver *v)
{
	return symdb_lookup_hash(db, symdb_hash(db, symbol, len), v);
}

/* ---- type expressions ---- */

/* Calls `visit` for each named leaf ("struct foo", "base int", ...) and
 * returns the position after the expression, or NULL if malformed. */
typedef bool (*leaf_fn)(const char *kind, const char *name, void *ctx);

static const char *leaf_kind(const char *p, size_t *kind_len)
{
	static const char *const kinds[] = { "struct ", "union ", "enum ", "base " };
	for (size_t i = 0; i < ARRAY_SIZE(kinds); i++)
		if (!strncmp(p, kinds[i], strlen(kinds[i]))) {
			*kind_len = strlen(kinds[i]) - 1;
			return kinds[i];
		}
	return NULL;
}

static bool walk_expr(const char *p, leaf_fn visit, void *ctx, struct jsonw *w, int depth)
{
	size_t klen;
	const char *kind;

	if (depth > 32)
		return false;
	if (*p == '*' || *p == '[') {	/* pointer to, array of: the rest */
		const char *sub = p + 1;
		unsigned long count = 0;
		if (*p == '[') {
			char *end;
			count = strtoul(p + 1, &end, 10);
			if (end == p + 1 || *end != ']' || count > UINT32_MAX)
				return false;
			sub = end + 1;
		}
		if (w) {
			jsonw_start_object(w);
			if (*p == '[')
				jsonw_uint_field(w, "count", count);
			jsonw_string_field(w, "kind", *p == '[' ? "array" : "pointer");
			jsonw_name(w, "subtype");
		}
		bool ok = walk_expr(sub, visit, ctx, w, depth + 1);
		if (w)
			jsonw_end_object(w);
		return ok;
	}
	if (!strcmp(p, "void") || !strcmp(p, "function")) {
		if (w) {
			jsonw_start_object(w);
			jsonw_string_field(w, "kind", *p == 'v' ? "base" : "function");
			if (*p == 'v') {
				jsonw_string_field(w, "name", "void");
			}
			jsonw_end_object(w);
		}
		return true;
	}
	kind = leaf_kind(p, &klen);
	if (!kind || !p[klen + 1])
		return false;
	char kbuf[8];
	memcpy(kbuf, kind, klen);
	kbuf[klen] = 0;
	if (w) {
		jsonw_start_object(w);
		jsonw_string_field(w, "kind", kbuf);
		jsonw_string_field(w, "name", p + klen + 1);
		jsonw_end_object(w);
	}
	return visit ? visit(kbuf, p + klen + 1, ctx) : true;
}

static bool leaf_defined(const char *kind, const char *name, void *ctx)
{
	return isf_types_has(ctx, kind, name);
}

bool symdb_type_valid(const char *expr, const struct isf_types *t)
{
	return walk_expr(expr, leaf_defined, (void *)t, NULL, 0);
}

void symdb_write_type(const char *expr, struct jsonw *w)
{
	walk_expr(expr, NULL, NULL, w, 0);
}

/* ---- building a table from text rows ---- */

struct text_row {
	const char *symbol, *type;
	uint16_t first, last;
	uint32_t type_index;
};

static int text_row_cmp(const void *a, const void *b)
{
	const struct text_row *x = a, *y = b;
	int c = strcmp(x->symbol, y->symbol);
	if (c)
		return c;
	if (x->first != y->first)
		return x->first < y->first ? -1 : 1;
	if (x->last != y->last)
		return x->last < y->last ? -1 : 1;
	return strcmp(x->type, y->type);
}

static bool parse_bound(const char *s, bool is_first, uint16_t *out)
{
	struct kver v;
	if (!strcmp(s, "-")) {
		*out = is_first ? SERIES_MIN : SERIES_MAX;
		return true;
	}
	if (!kver_parse(s, &v) || v.major == 0)
		return false;
	*out = series_of(&v);
	return true;
}

static bool type_text_ok(const char *t)
{
	if (t[0] == '?')
		return t[1] == ' ' || t[1] == 0;
	return walk_expr(t, NULL, NULL, NULL, 0);
}

static int cstr_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int u32_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

static int u16_cmp(const void *a, const void *b)
{
	uint16_t x = *(const uint16_t *)a, y = *(const uint16_t *)b;
	return x < y ? -1 : x > y;
}

static uint32_t bound_index(const uint16_t *bounds, uint32_t n, uint16_t v)
{
	const uint16_t *p = bsearch(&v, bounds, n, sizeof(v), u16_cmp);
	return p ? (uint32_t)(p - bounds) : UINT32_MAX;
}

/* Pack sorted rows into db (rows[].type_index set).  Returns -1 (err_set) if
 * no seed separates the symbols' keys. */
static int pack(struct symdb *db, struct text_row *rows, size_t nrows, char **types, uint32_t ntypes,
		const char *what)
{
	struct symdb_packed *p = &db->p;
	size_t nsyms = 0;

	if (nrows > 0xffffffu)
		return err_set("%s: too many rows", what);
	/* The rows are sorted: symbol k's are rows[first[k] .. first[k + 1]). */
	size_t *first = xcalloc(nrows + 1, sizeof(*first));
	for (size_t i = 0; i < nrows; i++)
		if (!i || strcmp(rows[i].symbol, rows[i - 1].symbol))
			first[nsyms++] = i;
	first[nsyms] = nrows;

	/* Types, as one string table. */
	size_t slen = 0;
	for (uint32_t i = 0; i < ntypes; i++)
		slen += strlen(types[i]) + 1;
	db->own_strings = xmalloc(slen ? slen : 1);
	db->own_type_off = xcalloc(ntypes ? ntypes : 1, sizeof(uint32_t));
	slen = 0;
	for (uint32_t i = 0; i < ntypes; i++) {
		size_t l = strlen(types[i]) + 1;
		db->own_type_off[i] = (uint32_t)slen;
		memcpy(db->own_strings + slen, types[i], l);
		slen += l;
	}

	/* Bounds of all rows (inline rows index them). */
	uint16_t *bounds = xcalloc(2 * nrows + 1, sizeof(*bounds));
	uint32_t nb = 0;
	for (size_t i = 0; i < nrows; i++) {
		bounds[nb++] = rows[i].first;
		bounds[nb++] = rows[i].last;
	}
	if (nb)
		qsort(bounds, nb, sizeof(*bounds), u16_cmp);
	uint32_t out = 0;
	for (uint32_t i = 0; i < nb; i++)
		if (!out || bounds[out - 1] != bounds[i])
			bounds[out++] = bounds[i];
	nb = out;
	bool inline_ok = nb <= (1u << SYMDB_INLINE_BOUND_BITS) && ntypes <= (1u << SYMDB_INLINE_TYPE_BITS);

	/* Keys: XXH3 of the name; retry seeds until the fingerprints (low 32
	 * bits) are unique, so that a probe never confuses two known symbols. */
	uint32_t bits = 1;
	while (bits < 28 && ((size_t)3 << bits) / 4 < nsyms)
		bits++;
	uint32_t *fps = xcalloc(nsyms ? nsyms : 1, sizeof(*fps));
	uint64_t seed;
	for (seed = 0;; seed++) {
		if (seed == 64) {
			free(fps);
			free(bounds);
			free(first);
			return err_set("%s: no hash seed separates the symbol names", what);
		}
		for (size_t k = 0; k < nsyms; k++) {
			const char *sym = rows[first[k]].symbol;
			fps[k] = (uint32_t)XXH3_64bits_withSeed(sym, strlen(sym), seed);
		}
		if (nsyms)
			qsort(fps, nsyms, sizeof(*fps), u32_cmp);
		bool clash = false;
		for (size_t i = 1; i < nsyms && !clash; i++)
			clash = fps[i] == fps[i - 1];
		if (!clash)
			break;
	}
	free(fps);

	size_t nslots = (size_t)1 << bits;
	db->own_slots = xmalloc(nslots * sizeof(*db->own_slots));
	for (size_t i = 0; i < nslots; i++)
		db->own_slots[i] = (struct symdb_slot){ 0, SYMDB_EMPTY };
	db->own_rows = xcalloc(nrows ? nrows : 1, sizeof(struct symdb_prow));
	uint32_t noverflow = 0;
	for (size_t k = 0; k < nsyms; k++) {
		const struct text_row *r = &rows[first[k]];
		uint32_t n = (uint32_t)(first[k + 1] - first[k]);
		uint32_t ref;
		if (n == 1 && inline_ok) {
			ref = r->type_index | bound_index(bounds, nb, r->first) << SYMDB_INLINE_TYPE_BITS |
			      bound_index(bounds, nb, r->last) << (SYMDB_INLINE_TYPE_BITS + SYMDB_INLINE_BOUND_BITS);
		} else {
			if (n > SYMDB_MAX_OVERFLOW_COUNT) {
				pr_warn("%s: %s has %u rows, only the first %u are kept\n", what, r->symbol, n,
					SYMDB_MAX_OVERFLOW_COUNT);
				n = SYMDB_MAX_OVERFLOW_COUNT;
			}
			ref = 0x80000000u | n << 24 | noverflow;
			for (uint32_t j = 0; j < n; j++)
				db->own_rows[noverflow++] = (struct symdb_prow){ r[j].type_index, r[j].first, r[j].last };
		}
		uint64_t h = XXH3_64bits_withSeed(r->symbol, strlen(r->symbol), seed);
		size_t s = (size_t)(h >> (64 - bits));
		while (db->own_slots[s].ref != SYMDB_EMPTY)
			s = (s + 1) & (nslots - 1);
		db->own_slots[s] = (struct symdb_slot){ (uint32_t)h, ref };
	}
	free(first);

	db->own_bounds = bounds;
	*p = (struct symdb_packed){
		.seed = seed, .nsyms = (uint32_t)nsyms, .nrows = (uint32_t)nrows, .ntypes = ntypes,
		.nbounds = nb, .noverflow = noverflow, .slot_bits = bits, .slots = db->own_slots,
		.rows = db->own_rows, .bounds = db->own_bounds, .type_off = db->own_type_off,
		.strings = db->own_strings,
	};
	return 0;
}

/* A stream of NUL bytes (/dev/zero) is no table: refused at once. */
static bool is_text(struct span head) { return !memchr(head.p, 0, head.n); }

struct symdb *symdb_load(const char *path)
{
	struct mapped_file mf;
	struct text_row *rows = NULL;
	size_t nrows = 0, cap = 0, lineno = 0;
	char *text;

	if (map_file_max(path, CAP_SYMDB, "a symdb table", is_text, &mf) < 0)
		return NULL;
	text = xstrndup((const char *)mf.data, mf.size);
	unmap_file(&mf);
	for (char *line = text, *next; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = 0;
		lineno++;
		if (*line == '#' || !*line)
			continue;
		char *f[4];
		int nf = 0;
		for (char *p = line; p && nf < 4; nf++) {
			f[nf] = p;
			p = nf < 3 ? strchr(p, '\t') : NULL;
			if (p)
				*p++ = 0;
		}
		struct text_row r = { 0 };
		if (nf != 4 || !*f[0] || strchr(f[3], '\t') || !parse_bound(f[1], true, &r.first) ||
		    !parse_bound(f[2], false, &r.last) || !type_text_ok(f[3])) {
			err_set("%s:%zu: expected 'symbol<TAB>first<TAB>last<TAB>type'", path, lineno);
			free(rows);
			free(text);
			return NULL;
		}
		r.symbol = f[0];
		r.type = f[3];
		if (nrows == cap) {
			cap = cap ? cap * 2 : 4096;
			rows = xreallocarray(rows, cap, sizeof(*rows));
		}
		rows[nrows++] = r;
	}
	if (!nrows) {
		/* An empty table would type nothing: a smaller profile, silently. */
		err_set("%s: no rows (want 'symbol<TAB>first<TAB>last<TAB>type' lines)", path);
		free(text);
		return NULL;
	}
	qsort(rows, nrows, sizeof(*rows), text_row_cmp);

	/* Distinct type expressions, sorted (deterministic output). */
	char **types = xcalloc(nrows ? nrows : 1, sizeof(*types));
	uint32_t ntypes = 0;
	for (size_t i = 0; i < nrows; i++)
		types[i] = (char *)rows[i].type;
	if (nrows)
		qsort(types, nrows, sizeof(*types), cstr_cmp);
	for (size_t i = 0; i < nrows; i++)
		if (!ntypes || strcmp(types[ntypes - 1], types[i]))
			types[ntypes++] = types[i];
	for (size_t i = 0; i < nrows; i++) {
		char **t = bsearch(&rows[i].type, types, ntypes, sizeof(*types), cstr_cmp);
		rows[i].type_index = (uint32_t)(t - types);
	}

	struct symdb *db = xcalloc(1, sizeof(*db));
	int rc = pack(db, rows, nrows, types, ntypes, path);
	free(types);
	free(rows);
	free(text);
	if (rc < 0) {
		symdb_free(db);
		return NULL;
	}
	return db;
}

void symdb_free(struct symdb *db)
{
	if (!db || db == &builtin)
		return;
	free(db->own_slots);
	free(db->own_rows);
	free(db->own_bounds);
	free(db->own_type_off);
	free(db->own_strings);
	free(db);
}

/* ---- C source of a table (the build's symdb_data.c) ---- */

static void write_u32s(FILE *out, const char *name, const uint32_t *v, size_t n)
{
	fprintf(out, "static const uint32_t %s[%zu] = {", name, n ? n : 1);
	for (size_t i = 0; i < n; i++)
		fprintf(out, "%s%u,", i % 12 ? " " : "\n\t", v[i]);
	fprintf(out, "%s\n};\n", n ? "" : " 0");
}

int symdb_write_c(const struct symdb *db, FILE *out, const char *source_name)
{
	const struct symdb_packed *p = &db->p;

	fprintf(out, "/* Generated from %s by scripts/symdb2c.sh; do not edit.\n"
		" * %u symbols, %u rows, %u type expressions. */\n#include \"symdb.h\"\n\n",
		source_name, p->nsyms, p->nrows, p->ntypes);
	size_t nslots = (size_t)1 << p->slot_bits;
	fprintf(out, "static const struct symdb_slot slots[%zu] = {", nslots);
	for (size_t i = 0; i < nslots; i++)
		fprintf(out, "%s{ %uu, %uu },", i % 6 ? " " : "\n\t", p->slots[i].fp, p->slots[i].ref);
	fputs("\n};\n", out);
	write_u32s(out, "type_off", p->type_off, p->ntypes);
	fprintf(out, "static const uint16_t bounds[%u] = {", p->nbounds ? p->nbounds : 1);
	for (uint32_t i = 0; i < p->nbounds; i++)
		fprintf(out, " %u,", p->bounds[i]);
	fprintf(out, "%s };\n", p->nbounds ? "" : " 0");
	fprintf(out, "static const struct symdb_prow rows[%u] = {", p->noverflow ? p->noverflow : 1);
	for (uint32_t i = 0; i < p->noverflow; i++)
		fprintf(out, "%s{ %u, %u, %u },", i % 6 ? " " : "\n\t", p->rows[i].type, p->rows[i].first,
			p->rows[i].last);
	fprintf(out, "%s\n};\n", p->noverflow ? "" : " { 0, 0, 0 }");
	fputs("static const char strings[] =", out);
	size_t off = 0;
	for (uint32_t i = 0; i < p->ntypes; i++) {
		const char *s = p->strings + p->type_off[i];
		fputs("\n\t\"", out);
		for (; *s; s++) {
			if (*s == '"' || *s == '\\')
				fprintf(out, "\\%c", *s);
			else if (*s < 0x20 || *s > 0x7e)
				fprintf(out, "\\%03o", (unsigned char)*s);
			else
				fputc(*s, out);
		}
		fputs("\\0\"", out);
		off += strlen(p->strings + p->type_off[i]) + 1;
	}
	fprintf(out, "%s;\n\n", off ? "" : " \"\"");
	fprintf(out, "const struct symdb_packed symdb_builtin_packed = {\n"
		"\t.seed = %lluu, .nsyms = %u, .nrows = %u, .ntypes = %u, .nbounds = %u,\n"
		"\t.noverflow = %u, .slot_bits = %u, .slots = slots, .rows = rows, .bounds = bounds,\n"
		"\t.type_off = type_off, .strings = strings,\n};\n",
		(unsigned long long)p->seed, p->nsyms, p->nrows, p->ntypes, p->nbounds, p->noverflow,
		p->slot_bits);
	return ferror(out) ? err_set("writing C source: I/O error") : 0;
}

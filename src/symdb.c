#include "symdb.h"

#include "log.h"
#include "util.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

struct symdb {
	const struct symdb_row *rows;	/* sorted by symbol (strcmp) */
	size_t n;
	struct symdb_row *owned;	/* rows loaded from a file */
	char *text;			/* their backing storage */
};

static struct symdb builtin;

const struct symdb *symdb_builtin(void)
{
	builtin.rows = symdb_builtin_rows;
	builtin.n = symdb_builtin_count;
	return &builtin;
}

size_t symdb_rows(const struct symdb *db) { return db->n; }

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

/* Versions in rows are "X.Y" (a whole series) or "-" (unbounded). */
static long series(const struct kver *v) { return (long)v->major * 1000 + v->minor; }

static bool row_bound(const char *s, long unbounded, long *out)
{
	struct kver v;
	if (!strcmp(s, "-")) {
		*out = unbounded;
		return true;
	}
	if (!kver_parse(s, &v))
		return false;
	*out = series(&v);
	return true;
}

static long row_distance(const struct symdb_row *r, long want)
{
	long lo, hi;
	if (!row_bound(r->first, LONG_MIN, &lo) || !row_bound(r->last, LONG_MAX, &hi))
		return LONG_MAX;
	if (want < lo)
		return lo - want;
	if (want > hi)
		return want - hi;
	return 0;
}

static int row_cmp(const void *key, const void *elem)
{
	return strcmp(key, ((const struct symdb_row *)elem)->symbol);
}

const char *symdb_lookup(const struct symdb *db, const char *symbol, const struct kver *v)
{
	const struct symdb_row *hit = db->n ? bsearch(symbol, db->rows, db->n, sizeof(*db->rows), row_cmp) : NULL;
	const struct symdb_row *best = NULL;
	long best_d = LONG_MAX, want = series(v);

	if (!hit)
		return NULL;
	while (hit > db->rows && !strcmp(hit[-1].symbol, symbol))
		hit--;
	for (; hit < db->rows + db->n && !strcmp(hit->symbol, symbol); hit++) {
		long d = row_distance(hit, want);
		if (d < best_d) {	/* ties: the earlier (older) row */
			best_d = d;
			best = hit;
		}
	}
	return best ? best->type : NULL;
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
	if (*p == '*') {
		if (w) {
			jsonw_start_object(w);
			jsonw_name(w, "kind");
			jsonw_string(w, "pointer");
			jsonw_name(w, "subtype");
		}
		bool ok = walk_expr(p + 1, visit, ctx, w, depth + 1);
		if (w)
			jsonw_end_object(w);
		return ok;
	}
	if (*p == '[') {
		char *end;
		unsigned long count = strtoul(p + 1, &end, 10);
		if (end == p + 1 || *end != ']' || count > UINT32_MAX)
			return false;
		if (w) {
			jsonw_start_object(w);
			jsonw_name(w, "count");
			jsonw_uint(w, count);
			jsonw_name(w, "kind");
			jsonw_string(w, "array");
			jsonw_name(w, "subtype");
		}
		bool ok = walk_expr(end + 1, visit, ctx, w, depth + 1);
		if (w)
			jsonw_end_object(w);
		return ok;
	}
	if (!strcmp(p, "void") || !strcmp(p, "function")) {
		if (w) {
			jsonw_start_object(w);
			jsonw_name(w, "kind");
			jsonw_string(w, *p == 'v' ? "base" : "function");
			if (*p == 'v') {
				jsonw_name(w, "name");
				jsonw_string(w, "void");
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
		jsonw_name(w, "kind");
		jsonw_string(w, kbuf);
		jsonw_name(w, "name");
		jsonw_string(w, p + klen + 1);
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

/* ---- loading a replacement table ---- */

static int owned_row_cmp(const void *a, const void *b)
{
	const struct symdb_row *x = a, *y = b;
	int c = strcmp(x->symbol, y->symbol);
	if (!c)
		c = strcmp(x->first, y->first);
	return c ? c : strcmp(x->last, y->last);
}

struct symdb *symdb_load(const char *path)
{
	struct mapped_file mf;
	struct symdb *db;
	size_t cap = 0, lineno = 0;

	if (map_file(path, &mf) < 0)
		return NULL;
	db = xcalloc(1, sizeof(*db));
	db->text = xstrndup((const char *)mf.data, mf.size);
	unmap_file(&mf);
	for (char *line = db->text, *next; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = 0;
		lineno++;
		if (*line == '#' || !*line)
			continue;
		char *f[4];
		int nf = 0;
		for (char *p = line; nf < 4; nf++) {
			f[nf] = p;
			p = nf < 3 ? strchr(p, '\t') : NULL;
			if (!p && nf < 3) {
				nf++;
				break;
			}
			if (p)
				*p++ = 0;
		}
		if (nf != 4 || !walk_expr(f[3], NULL, NULL, NULL, 0)) {
			err_set("%s:%zu: expected 'symbol<TAB>first<TAB>last<TAB>type'", path, lineno);
			symdb_free(db);
			return NULL;
		}
		if (db->n == cap) {
			cap = cap ? cap * 2 : 1024;
			db->owned = xreallocarray(db->owned, cap, sizeof(*db->owned));
		}
		db->owned[db->n++] = (struct symdb_row){ f[0], f[1], f[2], f[3] };
	}
	if (db->n)
		qsort(db->owned, db->n, sizeof(*db->owned), owned_row_cmp);
	db->rows = db->owned;
	return db;
}

void symdb_free(struct symdb *db)
{
	if (!db || db == &builtin)
		return;
	free(db->owned);
	free(db->text);
	free(db);
}

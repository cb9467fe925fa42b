#include "symbols.h"

#include "log.h"

#include <stdio.h>
#include <stdlib.h>

void symbols_add(struct symbols *s, const char *name, size_t len, uint64_t addr, char type,
		 bool absolute)
{
	if (!len)
		return;
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 4096;
		s->v = xreallocarray(s->v, s->cap, sizeof(*s->v));
	}
	if (s->names.len > UINT32_MAX - len - 1) {
		pr_warn("warning: symbol name pool full, dropping the rest\n");
		return;
	}
	s->v[s->n++] = (struct symbol){ addr, (uint32_t)s->names.len, type, absolute };
	buf_append(&s->names, name, len);
	buf_append(&s->names, "", 1);
}

void symbols_take(struct symbols *s, char *pool, size_t pool_size, size_t pool_cap, struct symbol *v,
		  size_t n)
{
	if (s->n || s->names.len) {
		fprintf(stderr, "btf2isf: internal error: symbols_take() on a table in use\n");
		abort();
	}
	free(s->v);
	buf_free(&s->names);
	s->v = v;
	s->n = s->cap = n;
	s->names = (struct buf){ (uint8_t *)pool, pool_size, pool_cap > pool_size ? pool_cap : pool_size };
}

/* Spare entries symbols_finish() leaves for symbols_insert(). */
#define SYMBOLS_INSERT_ROOM 16

/* qsort has no context argument in C11: the table is passed through here. */
static const uint8_t *sort_pool;
static const struct symbol *sort_syms;

/* Sorting ~200k names (7.x kernels) with qsort and strcmp took 37 ms of a
 * memory image's run: many names share long prefixes ("__pfx_", "__SCK__tp_func_",
 * "trace_event_raw_event_").  Instead, names are sorted 8 bytes at a time:
 * each round radix-sorts the items of one group by the big-endian word at
 * the group's depth (the same order as strcmp for NUL-padded strings), then
 * handles every run of equal words as a group one word deeper. */
struct sort_item {
	uint64_t word;		/* 8 name bytes from the group's depth */
	uint32_t sym;		/* index into symbols.v */
};

#define SMALL_GROUP 48		/* insertion sort below this */
#define DEEPEST_WORD 64		/* past 512 bytes, plain comparisons (hostile names) */

static uint64_t name_word(const char *name, size_t depth)
{
	const uint8_t *p = (const uint8_t *)name + depth;
	uint64_t v = 0;

	for (int i = 0; i < 8; i++) {
		v = v << 8 | *p;
		if (*p)
			p++;
	}
	return v;
}

static void sort_by_word(struct sort_item *v, struct sort_item *tmp, size_t n)
{
	if (n < SMALL_GROUP) {
		for (size_t i = 1; i < n; i++) {
			struct sort_item x = v[i];
			size_t j = i;
			for (; j && v[j - 1].word > x.word; j--)
				v[j] = v[j - 1];
			v[j] = x;
		}
		return;
	}
	/* LSD radix by bytes; a byte every item shares costs no pass. */
	static _Thread_local size_t count[8][256];
	memset(count, 0, sizeof(count));
	for (size_t i = 0; i < n; i++)
		for (int b = 0; b < 8; b++)
			count[b][(v[i].word >> (8 * b)) & 0xff]++;
	for (int b = 0; b < 8; b++) {
		size_t *c = count[b], sum = 0;
		if (c[(v[0].word >> (8 * b)) & 0xff] == n)
			continue;
		for (int d = 0; d < 256; d++) {
			size_t k = c[d];
			c[d] = sum;
			sum += k;
		}
		for (size_t i = 0; i < n; i++)
			tmp[c[(v[i].word >> (8 * b)) & 0xff]++] = v[i];
		memcpy(v, tmp, n * sizeof(*v));
	}
}

static int by_name(const void *a, const void *b)
{
	const struct symbol *x = &sort_syms[((const struct sort_item *)a)->sym];
	const struct symbol *y = &sort_syms[((const struct sort_item *)b)->sym];
	return strcmp((const char *)sort_pool + x->name, (const char *)sort_pool + y->name);
}

/* Sorts v[0..n): names equal in their first `depth` bytes, all longer than
 * that.  Recursion is one level per 8 name bytes, at most DEEPEST_WORD. */
static void sort_group(const struct symbols *s, struct sort_item *v, struct sort_item *tmp, size_t n,
		       size_t depth)
{
	if (depth >= 8 * DEEPEST_WORD) {
		qsort(v, n, sizeof(*v), by_name);
		return;
	}
	for (size_t i = 0; i < n; i++)
		v[i].word = name_word(symbol_name(s, &s->v[v[i].sym]), depth);
	sort_by_word(v, tmp, n);
	/* Runs of equal words: 8 more bytes in common, then either the same
	 * name (the word holds its end) or a group one word deeper. */
	for (size_t i = 0, j; i < n; i = j) {
		for (j = i + 1; j < n && v[j].word == v[i].word; j++)
			;
		if (j - i > 1 && (v[i].word & 0xff))
			sort_group(s, v + i, tmp, j - i, depth + 8);
	}
}

/* Among equal names the one kept is the highest address, then the first
 * added: deterministic whatever order the sort left them in. */
static bool better_duplicate(const struct symbol *x, const struct symbol *y)
{
	return x->addr != y->addr ? x->addr > y->addr : x->name < y->name;
}

/* One entry per name into kept, reading the symbols in `order` (NULL: as
 * added); the count kept, or SIZE_MAX if that order is not by name.
 * Sources that know their names' order (kallsyms_seqs_of_names) add symbols
 * in it: then this one pass is all symbols_finish() does. */
static size_t keep_one_per_name(struct symbols *s, const struct sort_item *order, struct symbol *kept)
{
	size_t out = 0;

	s->duplicates = 0;
	for (size_t i = 0; i < s->n; i++) {
		if (i + NAME_PREFETCH < s->n) {
			size_t ahead = order ? order[i + NAME_PREFETCH].sym : i + NAME_PREFETCH;
			__builtin_prefetch(symbol_name(s, &s->v[ahead]));
		}
		const struct symbol *sym = &s->v[order ? order[i].sym : i];
		int c = out ? strcmp(symbol_name(s, &kept[out - 1]), symbol_name(s, sym)) : -1;
		if (c > 0)
			return SIZE_MAX;
		if (c == 0) {
			s->duplicates++;
			if (better_duplicate(sym, &kept[out - 1]))
				kept[out - 1] = *sym;
			continue;
		}
		kept[out++] = *sym;
	}
	return out;
}

void symbols_finish(struct symbols *s)
{
	if (!s->n)
		return;
	/* Room for the few symbols_insert() adds, without a copy. */
	size_t cap = s->n + SYMBOLS_INSERT_ROOM;
	struct symbol *kept = xreallocarray(NULL, cap, sizeof(*kept));
	size_t out = keep_one_per_name(s, NULL, kept);
	if (out == SIZE_MAX) {
		/* Every name takes 2 or more bytes of a pool of at most 4 GiB:
		 * indices fit in 32 bits. */
		struct sort_item *v = xreallocarray(NULL, s->n, sizeof(*v));
		struct sort_item *tmp = xreallocarray(NULL, s->n, sizeof(*tmp));
		for (size_t i = 0; i < s->n; i++)
			v[i].sym = (uint32_t)i;
		sort_pool = s->names.p;
		sort_syms = s->v;
		sort_group(s, v, tmp, s->n, 0);
		out = keep_one_per_name(s, v, kept);
		free(tmp);
		free(v);
		if (out == SIZE_MAX) {
			fprintf(stderr, "btf2isf: internal error: symbols not in name order after sorting\n");
			abort();
		}
	}
	free(s->v);
	s->v = kept;
	s->n = out;
	s->cap = cap;
}

/* By name; of equal names the highest address first, as symbols_finish()
 * keeps it. */
static int def_cmp(const void *a, const void *b)
{
	const struct symbol_def *x = a, *y = b;
	int c = strcmp(x->name, y->name);
	if (c)
		return c;
	if (x->addr != y->addr)
		return x->addr > y->addr ? -1 : 1;
	return (int)x->absolute - (int)y->absolute;
}

/* Index of the first symbol whose name is >= name. */
static size_t lower_bound(const struct symbols *s, size_t n, const char *name)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (strcmp(symbol_name(s, &s->v[mid]), name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

size_t symbols_insert(struct symbols *s, const struct symbol_def *add, size_t n)
{
	if (!n)
		return 0;
	struct symbol_def *d = xreallocarray(NULL, n, sizeof(*d));
	size_t k = 0;

	memcpy(d, add, n * sizeof(*d));
	qsort(d, n, sizeof(*d), def_cmp);
	for (size_t i = 0; i < n; i++) {
		if (!d[i].name[0] || (k && !strcmp(d[k - 1].name, d[i].name)) || symbols_find(s, d[i].name))
			continue;
		d[k++] = d[i];
	}
	if (k) {
		/* Names first (the pool may move), then merge from the back:
		 * each existing run moves once. */
		uint32_t *off = xreallocarray(NULL, k, sizeof(*off));
		for (size_t i = 0; i < k; i++) {
			size_t len = strlen(d[i].name);
			if (s->names.len > UINT32_MAX - len - 1) {
				pr_warn("warning: symbol name pool full, dropping the rest\n");
				k = i;
				break;
			}
			off[i] = (uint32_t)s->names.len;
			buf_append(&s->names, d[i].name, len + 1);
		}
		if (s->cap < s->n + k) {
			s->cap = s->n + k;
			s->v = xreallocarray(s->v, s->cap, sizeof(*s->v));
		}
		size_t end = s->n;	/* existing symbols [0, end) not yet moved */
		for (size_t j = k; j-- > 0;) {
			size_t at = lower_bound(s, end, d[j].name);
			memmove(&s->v[at + j + 1], &s->v[at], (end - at) * sizeof(*s->v));
			s->v[at + j] = (struct symbol){ d[j].addr, off[j], d[j].type, d[j].absolute };
			end = at;
		}
		s->n += k;
		free(off);
	}
	free(d);
	return k;
}

static int name_cmp(const void *key, const void *elem)
{
	return strcmp(key, (const char *)sort_pool + ((const struct symbol *)elem)->name);
}

const struct symbol *symbols_find(const struct symbols *s, const char *name)
{
	if (!s->n)
		return NULL;
	sort_pool = s->names.p;
	return bsearch(name, s->v, s->n, sizeof(*s->v), name_cmp);
}

void symbols_unslide(struct symbols *s, uint64_t slide)
{
	for (size_t i = 0; i < s->n; i++)
		if (!s->v[i].absolute)
			s->v[i].addr -= slide;
}

void symbols_free(struct symbols *s)
{
	free(s->v);
	buf_free(&s->names);
	memset(s, 0, sizeof(*s));
}

static bool parse_hex(const char **pp, const char *end, uint64_t *out)
{
	const char *p = *pp;
	uint64_t v = 0;
	int digits = 0;

	for (; p < end && digits <= 16; p++, digits++) {
		char c = *p;
		unsigned d;
		if (c >= '0' && c <= '9')
			d = (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			d = (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			d = (unsigned)(c - 'A' + 10);
		else
			break;
		v = v << 4 | d;
	}
	if (digits == 0 || digits > 16)
		return false;
	*pp = p;
	*out = v;
	return true;
}

/* One line: "ffffffff81000000 T _text" (+ "\t[module]" in /proc/kallsyms). */
static bool parse_map_line(const char *p, const char *end, struct symbols *s)
{
	uint64_t addr;

	if (!parse_hex(&p, end, &addr) || p + 3 > end || *p != ' ' || p[2] != ' ')
		return false;
	char type = p[1];
	const char *name = p + 3, *q = name;
	while (q < end && *q != '\t' && *q != ' ' && *q != '\r')
		q++;
	if (q < end && *q == '\t')	/* "\t[module]": not part of vmlinux */
		return true;
	if (q == name || type < 0x21 || type > 0x7e)
		return false;
	symbols_add(s, name, (size_t)(q - name), addr, type,
		    addr < KERNEL_VA_MIN);
	return true;
}

int symbols_parse_map(struct span text, const char *what, struct symbols *s)
{
	const char *p = (const char *)text.p, *end = p + text.n;
	size_t lines = 0, good = 0, lineno = 0, first_bad = 0;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *eol = nl ? nl : end;
		lineno++;
		if (eol > p) {
			lines++;
			if (parse_map_line(p, eol, s))
				good++;
			else if (!first_bad)
				first_bad = lineno;
		}
		p = nl ? nl + 1 : end;
	}
	if (!good)
		return err_set("%s: not a System.map or kallsyms file (line %zu is not 'ADDRESS TYPE NAME')",
			       what, first_bad ? first_bad : 1);
	if (good < lines)
		pr_info("%s: %zu of %zu lines were not symbols (first: line %zu)\n", what,
			lines - good, lines, first_bad);
	return 0;
}

#include "symbols.h"

#include "log.h"

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

/* qsort has no context argument in C11: the pool is passed through here. */
static const uint8_t *sort_pool;

/* Sorting ~200k names with strcmp dominated a profile run; compare two
 * big-endian 8-byte prefixes first (the same order as strcmp for NUL-padded
 * strings; 16 bytes get past common prefixes such as "__pfx_"). */
struct sort_item {
	uint64_t prefix[2];
	struct symbol sym;
};

static void name_prefix(const char *name, uint64_t out[2])
{
	for (int w = 0; w < 2; w++) {
		uint64_t v = 0;
		for (int i = 0; i < 8; i++) {
			v = v << 8 | (uint8_t)*name;
			if (*name)
				name++;
		}
		out[w] = v;
	}
}

static int by_name_then_addr(const void *a, const void *b)
{
	/* Pointers are sorted, not the 40-byte items: qsort moves less. */
	const struct sort_item *x = *(const struct sort_item *const *)a, *y = *(const struct sort_item *const *)b;
	for (int w = 0; w < 2; w++)
		if (x->prefix[w] != y->prefix[w])
			return x->prefix[w] < y->prefix[w] ? -1 : 1;
	int c = strcmp((const char *)sort_pool + x->sym.name, (const char *)sort_pool + y->sym.name);
	if (c)
		return c;
	if (x->sym.addr != y->sym.addr)
		return x->sym.addr > y->sym.addr ? -1 : 1;	/* highest address first */
	return x->sym.name < y->sym.name ? -1 : x->sym.name > y->sym.name;	/* input order */
}

void symbols_finish(struct symbols *s)
{
	struct sort_item *items;
	size_t out = 0;

	if (!s->n)
		return;
	sort_pool = s->names.p;
	items = xreallocarray(NULL, s->n, sizeof(*items));
	for (size_t i = 0; i < s->n; i++) {
		items[i].sym = s->v[i];
		name_prefix(symbol_name(s, &s->v[i]), items[i].prefix);
	}
	struct sort_item **order = xreallocarray(NULL, s->n, sizeof(*order));
	for (size_t i = 0; i < s->n; i++)
		order[i] = &items[i];
	qsort(order, s->n, sizeof(*order), by_name_then_addr);
	for (size_t i = 0; i < s->n; i++) {
		const struct sort_item *it = order[i];
		if (out && it->prefix[0] == order[i - 1]->prefix[0] && it->prefix[1] == order[i - 1]->prefix[1] &&
		    !strcmp(symbol_name(s, &s->v[out - 1]), symbol_name(s, &it->sym))) {
			s->duplicates++;
			continue;
		}
		s->v[out++] = it->sym;
	}
	free(order);
	free(items);
	s->n = out;
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

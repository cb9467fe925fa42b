/* symbols_finish() against a plain model (qsort with strcmp, then one entry
 * per name: the highest address, then the first added), on name sets built
 * to stress the word-at-a-time radix sort: long shared prefixes that end at,
 * before and after 8-byte word boundaries, bytes above 0x7f (strcmp compares
 * them unsigned), names past the 512 bytes where the sort falls back to
 * qsort, and many duplicates.  Each set is added shuffled, and already in
 * name order (the kallsyms_seqs_of_names path) with duplicates in varying
 * address order.  symbols_insert() against the same model: the names added
 * are exactly those absent before (present ones keep their entry), the table
 * stays in name order, with the pool full or with room to spare. */
#include "check.h"
#include "symbols.h"

#include <stdlib.h>

/* The upper half of check_random(): its best bits. */
static uint32_t next_random(void) { return (uint32_t)(check_random() >> 32); }

struct entry {
	char *name;
	uint64_t addr;
	char type;
	size_t added;		/* position when added */
};

static int model_cmp(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;
	int c = strcmp(x->name, y->name);
	if (c)
		return c;
	if (x->addr != y->addr)
		return x->addr > y->addr ? -1 : 1;
	return x->added < y->added ? -1 : x->added > y->added;
}

/* Names from a few stems and suffixes, lengths around word boundaries. */
static char *random_name(void)
{
	static const char *const stems[] = {
		"__pfx_", "__SCK__tp_func_", "trace_event_raw_event_", "a", "ab", "abcdefg", "abcdefgh",
		"abcdefghi", "\xc3\xa9t\xc3\xa9_", "\x7f\x80", "__ksymtab_", "x",
	};
	char buf[1200];
	size_t n = 0;
	int parts = 1 + (int)(next_random() % 4);

	for (int i = 0; i < parts; i++) {
		const char *s = stems[next_random() % ARRAY_SIZE(stems)];
		size_t l = strlen(s);
		memcpy(buf + n, s, l);
		n += l;
	}
	if (next_random() % 50 == 0) {	/* past the radix sort's depth */
		size_t extra = 500 + next_random() % 100;
		memset(buf + n, 'q', extra);
		n += extra;
	}
	int tail = (int)(next_random() % 3);
	for (int i = 0; i < tail; i++)
		buf[n++] = (char)('0' + next_random() % 4);
	buf[n] = 0;
	return strdup(buf);
}

static void check_set(const char *what, struct entry *e, size_t n)
{
	struct symbols s = { 0 };

	for (size_t i = 0; i < n; i++) {
		e[i].added = i;
		symbols_add(&s, e[i].name, strlen(e[i].name), e[i].addr, e[i].type, false);
	}
	symbols_finish(&s);

	struct entry *want = malloc(n * sizeof(*want));
	memcpy(want, e, n * sizeof(*want));
	qsort(want, n, sizeof(*want), model_cmp);
	size_t kept = 0, bad = n;
	for (size_t i = 0; i < n; i++) {
		if (i && !strcmp(want[i].name, want[i - 1].name))
			continue;
		if (kept >= s.n || strcmp(symbol_name(&s, &s.v[kept]), want[i].name) ||
		    s.v[kept].addr != want[i].addr || s.v[kept].type != want[i].type) {
			if (bad == n)
				bad = kept;
		}
		kept++;
	}
	CHECK(kept == s.n && bad == n && s.duplicates == n - kept,
	      "%s: %zu symbols -> %zu names (model %zu), %zu duplicates; first difference at %zd", what,
	      n, s.n, kept, s.duplicates, bad == n ? (ssize_t)-1 : (ssize_t)bad);
	CHECK(s.n == 0 || symbols_find(&s, want[n / 2].name) != NULL, "%s: symbols_find finds a name",
	      what);
	free(want);
	symbols_free(&s);
}

static void test_random_sets(void)
{
	static const size_t sizes[] = { 1, 2, 47, 48, 200, 5000, 60000 };

	for (size_t k = 0; k < ARRAY_SIZE(sizes); k++) {
		size_t n = sizes[k];
		struct entry *e = malloc(n * sizeof(*e));
		for (size_t i = 0; i < n; i++) {
			/* Every fourth name repeats an earlier one. */
			e[i].name = i && next_random() % 4 == 0 ? strdup(e[next_random() % i].name) : random_name();
			e[i].addr = 0xffffffff81000000ull + next_random() % 64;	/* equal addresses too */
			e[i].type = "TtDdBbAR"[next_random() % 8];
		}
		char what[64];
		snprintf(what, sizeof(what), "%zu shuffled", n);
		check_set(what, e, n);

		/* In name order, as from kallsyms_seqs_of_names: duplicates in
		 * address order, not the order kept. */
		qsort(e, n, sizeof(*e), model_cmp);
		for (size_t i = 0; i + 1 < n; i++)
			if (!strcmp(e[i].name, e[i + 1].name) && e[i].addr > e[i + 1].addr) {
				struct entry t = e[i];
				e[i] = e[i + 1];
				e[i + 1] = t;
			}
		snprintf(what, sizeof(what), "%zu in name order", n);
		check_set(what, e, n);
		for (size_t i = 0; i < n; i++)
			free(e[i].name);
		free(e);
	}
}

/* A finished table of n random names, then k insertions: some present,
 * some repeated among themselves, some new. */
static void check_insert(size_t n, size_t k, bool room)
{
	struct symbols s = { 0 };
	struct entry *e = malloc((n ? n : 1) * sizeof(*e));

	for (size_t i = 0; i < n; i++) {
		e[i].name = random_name();
		symbols_add(&s, e[i].name, strlen(e[i].name), 0xffffffff81000000ull + i, 'T', false);
	}
	if (room)
		buf_reserve(&s.names, 4096);
	symbols_finish(&s);
	size_t before = s.n;
	struct symbol *old = malloc((before ? before : 1) * sizeof(*old));
	char **old_names = malloc((before ? before : 1) * sizeof(*old_names));
	for (size_t i = 0; i < before; i++) {
		old[i] = s.v[i];
		old_names[i] = strdup(symbol_name(&s, &s.v[i]));
	}

	struct symbol_def *add = malloc((k ? k : 1) * sizeof(*add));
	char **names = malloc((k ? k : 1) * sizeof(*names));
	size_t fresh = 0;
	for (size_t i = 0; i < k; i++) {
		unsigned r = next_random() % 4;
		if (r == 0 && n)
			names[i] = strdup(e[next_random() % n].name);	/* present */
		else if (r == 1 && i)
			names[i] = strdup(names[next_random() % i]);	/* repeated */
		else
			names[i] = random_name();
		add[i] = (struct symbol_def){ names[i], 0x1000 + i, 'A', true };
	}
	/* The model: distinct names of add[] not in the table before. */
	for (size_t i = 0; i < k; i++) {
		bool seen = symbols_find(&s, names[i]) != NULL;
		for (size_t j = 0; j < i && !seen; j++)
			seen = !strcmp(names[j], names[i]);
		fresh += !seen;
	}
	size_t added = symbols_insert(&s, add, k);
	bool sorted = true, kept = true, found = true;
	for (size_t i = 1; i < s.n; i++)
		sorted &= strcmp(symbol_name(&s, &s.v[i - 1]), symbol_name(&s, &s.v[i])) < 0;
	for (size_t i = 0; i < before; i++) {
		const struct symbol *x = symbols_find(&s, old_names[i]);
		kept &= x && x->addr == old[i].addr && x->type == old[i].type && !x->absolute;
	}
	for (size_t i = 0; i < k; i++)
		found &= symbols_find(&s, names[i]) != NULL;
	CHECK(added == fresh && s.n == before + fresh && sorted && kept && found,
	      "insert %zu into %zu names (%s): added %zu (model %zu), %zu names; sorted %d, old kept %d, all found %d",
	      k, n, room ? "room" : "pool full", added, fresh, s.n, sorted, kept, found);
	for (size_t i = 0; i < k; i++)
		free(names[i]);
	for (size_t i = 0; i < before; i++)
		free(old_names[i]);
	for (size_t i = 0; i < n; i++)
		free(e[i].name);
	free(names);
	free(add);
	free(old);
	free(old_names);
	free(e);
	symbols_free(&s);
}

static void test_insert(void)
{
	static const size_t sizes[][2] = { { 0, 3 }, { 1, 1 }, { 50, 0 }, { 50, 14 }, { 5000, 14 }, { 5000, 300 } };

	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++)
		for (int room = 0; room < 2; room++)
			check_insert(sizes[i][0], sizes[i][1], room);
}

int main(void)
{
	test_random_sets();
	test_insert();
	return check_finish();
}

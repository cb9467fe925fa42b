/* symbols_finish() against a plain model (qsort with strcmp, then one entry
 * per name: the highest address, then the first added), on name sets built
 * to stress the word-at-a-time radix sort: long shared prefixes that end at,
 * before and after 8-byte word boundaries, bytes above 0x7f (strcmp compares
 * them unsigned), names past the 512 bytes where the sort falls back to
 * qsort, and many duplicates.  Each set is added shuffled, and already in
 * name order (the kallsyms_seqs_of_names path) with duplicates in varying
 * address order. */
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

int main(void)
{
	test_random_sets();
	return check_finish();
}

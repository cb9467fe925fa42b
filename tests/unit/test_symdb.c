/* Unit test for src/symdb.c: text loading, the compiled (xxhash-keyed) form,
 * version-range lookup, the C emitter and the built-in table.
 * One line per check; exit 0 pass, 1 fail. */
#include "check.h"
#include "log.h"
#include "symdb.h"

#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static char dir[] = "/tmp/test_symdb.XXXXXX";

static const char *write_file(const char *name, const char *text)
{
	static char path[512];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	if (!f) {
		perror(path);
		exit(1);
	}
	fputs(text, f);
	fclose(f);
	return path;
}

static const char *look(const struct symdb *db, const char *sym, const char *release)
{
	struct kver v;
	if (!kver_parse(release, &v))
		return "(bad version)";
	return symdb_lookup(db, sym, strlen(sym), &v);
}

int main(void)
{
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	log_set_level(LOG_QUIET);

	/* Rows deliberately out of order: loading sorts them. */
	const char *path = write_file("a.txt",
		"# comment\n"
		"\n"
		"swap\t6.1\t6.1\tstruct a\n"
		"swap\t7.2\t7.3\tstruct a\n"
		"swap\t6.12\t6.12\tstruct b\n"
		"arr\t5.10\t7.3\t[5][2]base int\n"
		"ptr\t-\t-\t*function\n"
		"anon\t6.1\t6.1\t? union unnamed_0123456789abcdef\n"
		"open\t-\t5.10\tbase int\n"
		"open\t6.1\t-\tbase long int\n"
		"tie\t6.3\t6.3\tstruct newer\n"
		"tie\t6.1\t6.1\tstruct older\n"
		"gap\t6.1\t6.1\tstruct old\n"
		"gap\t7.2\t7.2\tstruct new\n"
		"major\t4.19\t4.19\tstruct four\n"
		"major\t5.19\t5.19\tstruct five\n");
	struct symdb *db = symdb_load(path);
	CHECK(db != NULL, "load a valid table (%s)", db ? "ok" : err_get());
	if (!db)
		return check_finish();
	CHECK(symdb_rows(db) == 14, "14 rows loaded (%zu)", symdb_rows(db));

	CHECK_STR(look(db, "swap", "6.1.0-56-amd64"), "struct a", "range contains 6.1");
	CHECK_STR(look(db, "swap", "6.12.117+deb13-amd64"), "struct b", "range contains 6.12");
	CHECK_STR(look(db, "swap", "7.2.13"), "struct a", "A-B-A: 7.2 is A again");
	CHECK_STR(look(db, "swap", "6.6.0"), "struct a", "6.6: nearest is 6.1 (5 series) not 6.12 (6)");
	CHECK_STR(look(db, "swap", "6.7.0"), "struct b", "6.7: nearest is 6.12 (5 series)");
	CHECK_STR(look(db, "swap", "6.12.117"), "struct b", "inside its own range");
	CHECK_STR(look(db, "tie", "6.2.16"), "struct older", "equidistant rows: the older one");
	CHECK_STR(look(db, "gap", "6.12.117"), "struct new", "6.12: 10 releases before 7.2, 11 after 6.1");
	CHECK_STR(look(db, "major", "5.8"), "struct four", "5.8: 10 releases after 4.19 (4.20 exists), 11 before 5.19");
	CHECK_STR(look(db, "major", "5.10"), "struct five", "5.10: 9 releases before 5.19, 11 after 4.19");
	CHECK_STR(look(db, "swap", "6.8.0"), "struct b", "6.8: nearest is 6.12");
	CHECK_STR(look(db, "swap", "4.19.0"), "struct a", "older than everything: the oldest row");
	CHECK_STR(look(db, "swap", "8.0.0"), "struct a", "newer than everything: the newest row");
	CHECK_STR(look(db, "swap", "6.19.0"), "struct a", "6.19 is 3 series before 7.2, 7 after 6.12");
	CHECK_STR(look(db, "swap", "7.0.0"), "struct a", "7.0 is one series after 6.19: nearer 7.2 than 6.12");
	CHECK_STR(look(db, "arr", "6.1"), "[5][2]base int", "nested array expression");
	CHECK_STR(look(db, "ptr", "3.10"), "*function", "unbounded row");
	CHECK_STR(look(db, "open", "5.4"), "base int", "'-' first bound");
	CHECK_STR(look(db, "open", "6.1"), "base long int", "'-' last bound");
	CHECK_STR(look(db, "open", "5.15"), "base int", "between the two: 5.15 is nearer 5.10");
	CHECK(look(db, "nosuch", "6.1") == NULL, "unknown symbol: NULL");
	CHECK(look(db, "", "6.1") == NULL, "empty name: NULL");
	CHECK_STR(look(db, "anon", "6.1"), "? union unnamed_0123456789abcdef", "unresolvable row is found");
	CHECK(!symdb_type_valid("? union unnamed_0123456789abcdef", NULL),
	      "unresolvable row is never valid");
	symdb_free(db);

	/* Malformed rows are refused with the line number. */
	static const char *const bad[] = {
		"x\t6.1\t6.1\n",			/* 3 fields */
		"x\t6.1\t6.1\tstruct\n",		/* no name */
		"x\tsix\t6.1\tstruct a\n",		/* bad version */
		"x\t6.1\t6.1\t[x]base int\n",		/* bad count */
		"x\t6.1\t6.1\tstruct a\textra\n",	/* 5 fields */
		"\t6.1\t6.1\tstruct a\n",		/* no symbol */
		"x\t6.1\t6.1\tnonsense\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char text[128];
		snprintf(text, sizeof(text), "# c\n%s", bad[i]);
		struct symdb *b = symdb_load(write_file("bad.txt", text));
		CHECK(!b && strstr(err_get(), ":2:"), "malformed row %zu refused (%s)", i,
		      b ? "accepted" : err_get());
		symdb_free(b);
	}
	CHECK(!symdb_load("/nonexistent/symdb.txt"), "missing file refused");

	/* Many symbols: every one is found, none confused (fingerprint keys). */
	{
		char p[512];
		snprintf(p, sizeof(p), "%s/big.txt", dir);
		FILE *f = fopen(p, "w");
		for (int i = 0; i < 50000; i++)
			fprintf(f, "sym_%d\t6.1\t6.1\t[%d]base char\n", i, i);
		fprintf(f, "sym_7\t7.2\t7.2\tstruct later\n");
		fclose(f);
		struct symdb *big;
		big = symdb_load(p);
		CHECK(big && symdb_rows(big) == 50001, "50001 rows loaded");
		int wrong = 0;
		for (int i = 0; big && i < 50000; i++) {
			char name[32], want[32];
			snprintf(name, sizeof(name), "sym_%d", i);
			snprintf(want, sizeof(want), "[%d]base char", i);
			const char *got = look(big, name, "6.1");
			wrong += !got || strcmp(got, want);
		}
		CHECK(big && wrong == 0, "every one of 50000 symbols maps to its own type (%d wrong)", wrong);
		int fp = 0;
		for (int i = 0; big && i < 200000; i++) {
			char name[32];
			snprintf(name, sizeof(name), "other_%d", i);
			fp += look(big, name, "6.1") != NULL;
		}
		CHECK(fp == 0, "200000 absent names: no false hit (%d)", fp);
		const char *later = big ? look(big, "sym_7", "7.3") : "";
		CHECK_STR(later, "struct later", "multi-row symbol among many");

		/* The C emitter writes what the build compiles. */
		snprintf(p, sizeof(p), "%s/data.c", dir);
		f = fopen(p, "w");
		CHECK(big && symdb_write_c(big, f, "big.txt") == 0, "C source written");
		fclose(f);
		symdb_free(big);
		char cmd[1024];
		snprintf(cmd, sizeof(cmd), "cc -std=c11 -Wall -Wextra -Werror -fsyntax-only -I%s/src %s 2>&1",
			 getenv("TOP") ? getenv("TOP") : ".", p);
		int rc = system(cmd);
		CHECK(rc == 0, "generated C compiles cleanly (rc %d)", rc);
	}

	/* The built-in table: the needed symbols are typed for the reference series. */
	const struct symdb *bi = symdb_builtin();
	CHECK(symdb_rows(bi) > 0, "built-in table has %zu rows", symdb_rows(bi));
	CHECK_STR(look(bi, "init_task", "6.1.0-56-amd64"), "struct task_struct", "built-in init_task");
	CHECK_STR(look(bi, "jiffies", "7.2.13"), "base long unsigned int", "built-in jiffies");

	/* Lookup cost: a profile run looks up every kallsyms name (~200k on 7.x),
	 * about half of them unknown.  Budget: 20 ms. */
	{
		char p[600];
		snprintf(p, sizeof(p), "%s/symdb/symdb.txt", getenv("TOP") ? getenv("TOP") : ".");
		FILE *f = fopen(p, "r");
		char **names = NULL, line[512];
		size_t n = 0, cap = 0;
		while (f && fgets(line, sizeof(line), f)) {
			if (line[0] == '#' || !strchr(line, '\t'))
				continue;
			*strchr(line, '\t') = 0;
			if (n == cap) {
				cap = cap ? cap * 2 : 1024;
				names = realloc(names, cap * sizeof(*names));
			}
			names[n++] = strdup(line);
			if (n == cap) {	/* and an unknown name beside each */
				cap *= 2;
				names = realloc(names, cap * sizeof(*names));
			}
			snprintf(line + strlen(line), 8, "_nosuch");
			names[n++] = strdup(line);
		}
		if (f)
			fclose(f);
		struct kver v = { 7, 2, 13 };
		double best = 1e9;
		size_t hits = 0;
		for (int round = 0; round < 10 && n; round++) {
			struct timespec t0, t1;
			clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t0);	/* CPU time: the machine is shared */
			hits = 0;
			for (size_t i = 0; i < 200000; i++)
				hits += symdb_lookup(bi, names[i % n], strlen(names[i % n]), &v) != NULL;
			clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t1);
			double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
			if (ms < best)
				best = ms;
		}
#if defined(__SANITIZE_ADDRESS__)
		const double budget = 200.0;	/* instrumented build: only a sanity bound */
#else
		const double budget = 20.0;
#endif
		if (n)
			CHECK(best <= budget, "200000 lookups in the built-in table (%zu hits): %.2f ms CPU, best of 10 (budget %.0f ms)",
			      hits, best, budget);
		for (size_t i = 0; i < n; i++)
			free(names[i]);
		free(names);
	}

	char rm[600];
	snprintf(rm, sizeof(rm), "rm -rf %s", dir);
	if (system(rm) != 0)
		return 1;
	return check_finish();
}

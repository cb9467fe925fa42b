/* Minimal assertions for the C unit tests: each CHECK prints one line and
 * counts failures; finish() gives the exit status tests/run expects. */
#ifndef B2I_TEST_CHECK_H
#define B2I_TEST_CHECK_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static int check_failures, check_count;

/* One check: prints "ok" or "FAIL" and the message; returns ok, so a test
 * can skip what depends on it. */
__attribute__((format(printf, 2, 3), unused))
static bool check_that(bool ok, const char *fmt, ...)
{
	va_list ap;

	check_count++;
	if (!ok)
		check_failures++;
	printf("%s ", ok ? "ok:  " : "FAIL:");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	return ok;
}

#define CHECK(cond, ...)                                                       \
	do {                                                                   \
		check_count++;                                                 \
		if (cond) {                                                    \
			printf("ok:   ");                                      \
		} else {                                                       \
			printf("FAIL: %s:%d: ", __FILE__, __LINE__);           \
			check_failures++;                                      \
		}                                                              \
		printf(__VA_ARGS__);                                           \
		printf("\n");                                                  \
	} while (0)

#define CHECK_STR(got, want, what)                                             \
	CHECK((got) && !strcmp((got), (want)), "%s: got '%s', want '%s'", what,  \
	      (got) ? (got) : "(null)", want)

/* Repeatable pseudo-random test data (xorshift64). */
static uint64_t check_rng_state = 0x9e3779b97f4a7c15ull;

__attribute__((unused)) static uint64_t check_random(void)
{
	check_rng_state ^= check_rng_state << 13;
	check_rng_state ^= check_rng_state >> 7;
	check_rng_state ^= check_rng_state << 17;
	return check_rng_state;
}

static inline int check_finish(void)
{
	printf("%d checks, %d failed\n", check_count, check_failures);
	return check_failures ? 1 : 0;
}

#endif

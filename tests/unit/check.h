/* Minimal assertions for the C unit tests: each CHECK prints one line and
 * counts failures; finish() gives the exit status tests/run expects. */
#ifndef B2I_TEST_CHECK_H
#define B2I_TEST_CHECK_H

#include <stdio.h>
#include <string.h>

static int check_failures, check_count;

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

static inline int check_finish(void)
{
	printf("%d checks, %d failed\n", check_count, check_failures);
	return check_failures ? 1 : 0;
}

#endif

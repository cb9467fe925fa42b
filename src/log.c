#include "log.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int current_level = LOG_WARN;

/* The recorded reason is allocated to its length: its end (the "why") is
 * the useful part, so it is never cut.  Main thread only (worker threads
 * report through their own structures). */
static char *err_msg;
static bool err_lost;	/* the last reason could not be allocated */

void log_set_level(int level) { current_level = level; }
int log_level(void) { return current_level; }

void log_msg(int level, const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	if (level > current_level)
		return;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	errno = saved;
}

/* A malloc'd rendering of fmt, or NULL when out of memory. */
static char *vformat(const char *fmt, va_list ap)
{
	va_list ap2;
	char *s;

	va_copy(ap2, ap);
	int n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0 || !(s = malloc((size_t)n + 1)))
		return NULL;
	vsnprintf(s, (size_t)n + 1, fmt, ap);
	return s;
}

static int err_take(char *s)
{
	free(err_msg);
	err_msg = s;
	err_lost = !s;
	return -1;
}

int err_set(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	char *s = vformat(fmt, ap);
	va_end(ap);
	return err_take(s);
}

int err_prefix(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	char *prefix = vformat(fmt, ap);
	va_end(ap);
	if (!prefix)
		return err_take(NULL);
	const char *old = err_msg ? err_msg : "";
	size_t pl = strlen(prefix), ol = strlen(old);
	char *s = realloc(prefix, pl + ol + 1);
	if (s)
		memcpy(s + pl, old, ol + 1);
	else
		free(prefix);
	return err_take(s);
}

const char *err_get(void)
{
	if (err_lost)
		return "out of memory while recording an error";
	return err_msg && err_msg[0] ? err_msg : "unknown error";
}

void err_clear(void) { err_take(NULL), err_lost = false; }

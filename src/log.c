#include "log.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int current_level = LOG_WARN;

/* The recorded reason grows with the message: its end (the "why") is the
 * useful part, so it is never cut.  A pointer from err_get() stays valid
 * (its text may change), as callers such as check_that(f(), "%s",
 * err_get()) rely on: an outgrown buffer is kept, not freed; capacity
 * doubles, so all of them together are under twice the longest message.
 * Main thread only (worker threads report through their own structures). */
static char err_first[1024];
static char *err_msg = err_first;
static size_t err_cap = sizeof(err_first);
static bool err_lost;	/* a message could not be formatted or stored */
static char *err_kept[64];	/* outgrown heap buffers (reachable, for leak checkers) */
static size_t err_nkept;

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

/* Room for n bytes, keeping the current text; false when out of memory. */
static bool err_room(size_t n)
{
	if (n <= err_cap)
		return true;
	if (err_nkept == sizeof(err_kept) / sizeof(err_kept[0]))
		return false;
	size_t cap = err_cap * 2 > n ? err_cap * 2 : n;
	char *p = malloc(cap);
	if (!p)
		return false;
	memcpy(p, err_msg, strlen(err_msg) + 1);
	if (err_msg != err_first)
		err_kept[err_nkept++] = err_msg;	/* kept: see above */
	err_msg = p;
	err_cap = cap;
	return true;
}

/* head (may be NULL) followed by the current text becomes the text. */
static int err_store(char *head, bool keep_old)
{
	size_t hl = head ? strlen(head) : 0, ol = keep_old ? strlen(err_msg) : 0;

	err_lost = !head || !err_room(hl + ol + 1);
	if (!err_lost) {
		memmove(err_msg + hl, err_msg, ol);
		memcpy(err_msg, head, hl);
		err_msg[hl + ol] = 0;
	}
	free(head);
	return -1;
}

int err_set(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	char *s = vformat(fmt, ap);
	va_end(ap);
	return err_store(s, false);
}

int err_prefix(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	char *prefix = vformat(fmt, ap);
	va_end(ap);
	return err_store(prefix, true);
}

const char *err_get(void)
{
	if (err_lost)
		return "out of memory while recording an error";
	return err_msg[0] ? err_msg : "unknown error";
}

void err_clear(void)
{
	err_msg[0] = 0;
	err_lost = false;
}

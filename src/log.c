#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static int current_level = LOG_WARN;
static char err_buf[1024];

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

int err_set(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err_buf, sizeof(err_buf), fmt, ap);
	va_end(ap);
	return -1;
}

int err_prefix(const char *fmt, ...)
{
	char prefix[512], old[sizeof(err_buf)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	memcpy(old, err_buf, sizeof(old));
	size_t plen = strlen(prefix);
	if (plen >= sizeof(err_buf))
		plen = sizeof(err_buf) - 1;
	memcpy(err_buf, prefix, plen);
	size_t rest = sizeof(err_buf) - 1 - plen, olen = strnlen(old, sizeof(old));
	if (olen > rest)
		olen = rest;
	memcpy(err_buf + plen, old, olen);
	err_buf[plen + olen] = 0;
	return -1;
}

const char *err_get(void) { return err_buf[0] ? err_buf : "unknown error"; }
void err_clear(void) { err_buf[0] = 0; }

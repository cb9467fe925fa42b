/* Diagnostics: one recorded failure reason, plus levelled progress messages.
 *
 * Library code never prints on its own initiative except through log_msg(),
 * which the CLI gates with -v/-q.  A failing function records *why* with
 * err_set() and returns -1; the CLI prints that one line and exits 1. */
#ifndef B2I_LOG_H
#define B2I_LOG_H

#include <stdarg.h>

#define B2I_PRINTF(a, b) __attribute__((format(printf, a, b)))

enum log_level { LOG_QUIET = 0, LOG_WARN = 1, LOG_INFO = 2, LOG_DEBUG = 3 };

void log_set_level(int level);
int log_level(void);
void log_msg(int level, const char *fmt, ...) B2I_PRINTF(2, 3);

#define pr_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define pr_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define pr_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

/* Record the failure reason (what, where, why) and return -1. */
int err_set(const char *fmt, ...) B2I_PRINTF(1, 2);
/* Prefix the recorded reason with context ("vmlinuz: " ...); returns -1. */
int err_prefix(const char *fmt, ...) B2I_PRINTF(1, 2);
const char *err_get(void);
void err_clear(void);

#endif

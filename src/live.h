/* The running kernel: where its link-time base is, and its banner bytes. */
#ifndef B2I_LIVE_H
#define B2I_LIVE_H

#include "util.h"

/* Link-time address of _text for this kernel, from its config
 * (/boot/config-RELEASE or /proc/config.gz: CONFIG_PHYSICAL_START aligned up
 * to CONFIG_PHYSICAL_ALIGN, above __START_KERNEL_map), else the x86-64
 * default 0xffffffff81000000.  `how` receives a description. */
uint64_t live_link_text(const char *release, char *how, size_t how_len);

/* Read len bytes at runtime address `va` through /proc/kcore (one mapping
 * must hold them all).  Returns 0 and appends them to out, or -1 (err_set). */
int live_read(uint64_t va, size_t len, struct buf *out);

/* Read the banner bytes at runtime address `va` through /proc/kcore.
 * Returns 0 and appends them (NUL included) to out, or -1 (err_set). */
int live_read_banner(uint64_t va, struct buf *out);

#endif

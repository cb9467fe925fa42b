#include "vmcoreinfo.h"

#include <stdio.h>
#include <stdlib.h>

#define VMCOREINFO_MAX 4096

/* One "KEY=VALUE" line; value parsing follows the kernel's printf formats:
 * SYMBOL() and KERNELOFFSET are bare hex, NUMBER() is signed decimal or 0x hex. */
static void parse_line(const char *line, size_t len, struct vmcoreinfo *v)
{
	char buf[128];
	char *val, *end;

	if (len >= sizeof(buf))
		return;
	memcpy(buf, line, len);
	buf[len] = 0;
	if (!(val = strchr(buf, '=')))
		return;
	*val++ = 0;
	if (!strcmp(buf, "OSRELEASE")) {
		snprintf(v->osrelease, sizeof(v->osrelease), "%s", val);
	} else if (!strcmp(buf, "BUILD-ID")) {
		snprintf(v->build_id, sizeof(v->build_id), "%s", val);
	} else if (!strcmp(buf, "KERNELOFFSET")) {
		v->kerneloffset = strtoull(val, &end, 16);
		v->has_kerneloffset = end != val && !*end;
	} else if (!strcmp(buf, "SYMBOL(_stext)")) {
		v->stext = strtoull(val, &end, 16);
		v->has_stext = end != val && !*end;
	} else if (!strcmp(buf, "SYMBOL(swapper_pg_dir)")) {
		v->swapper_pg_dir = strtoull(val, &end, 16);
		v->has_pgd = end != val && !*end;
	} else if (!strcmp(buf, "NUMBER(phys_base)")) {
		v->phys_base = strtoll(val, &end, 0);
		v->has_phys_base = end != val && !*end;
	} else if (!strcmp(buf, "NUMBER(pgtable_l5_enabled)")) {
		v->l5 = strtol(val, &end, 0) != 0;
		v->has_l5 = end != val && !*end;
	}
}

bool vmcoreinfo_parse(struct span text, struct vmcoreinfo *v)
{
	size_t n = 0;

	while (n < text.n && n < VMCOREINFO_MAX && text.p[n] &&
	       (text.p[n] == '\n' || (text.p[n] >= 0x20 && text.p[n] < 0x7f)))
		n++;
	if (n < 10 || memcmp(text.p, "OSRELEASE=", 10))
		return false;
	for (size_t i = 0; i < n;) {
		const uint8_t *nl = memchr(text.p + i, '\n', n - i);
		size_t len = nl ? (size_t)(nl - (text.p + i)) : n - i;
		parse_line((const char *)text.p + i, len, v);
		i += len + 1;
	}
	return v->osrelease[0] != 0;
}

static bool same_text(const struct vmcoreinfo *a, const struct vmcoreinfo *b)
{
	return !strcmp(a->osrelease, b->osrelease) && !strcmp(a->build_id, b->build_id) &&
	       a->kerneloffset == b->kerneloffset && a->stext == b->stext &&
	       a->phys_base == b->phys_base && a->swapper_pg_dir == b->swapper_pg_dir;
}

const struct vmcoreinfo *vmcoreinfo_keep(struct vmcoreinfo *set, size_t *n, size_t max,
					 const struct vmcoreinfo *v)
{
	for (size_t i = 0; i < *n; i++)
		if (same_text(&set[i], v))
			return &set[i];
	if (*n == max)
		return NULL;
	set[*n] = *v;
	return &set[(*n)++];
}

size_t vmcoreinfo_collect(const struct image *img, const uint64_t *hits, size_t nhits,
			  struct vmcoreinfo *out, size_t max)
{
	size_t n = 0;
	struct vmcoreinfo v;
	struct span text;

	if (img->vmcoreinfo.n) {
		memset(&v, 0, sizeof(v));
		if (vmcoreinfo_parse(img->vmcoreinfo, &v))
			vmcoreinfo_keep(out, &n, max, &v);
	}
	for (size_t i = 0; i < nhits; i++) {
		memset(&v, 0, sizeof(v));
		if (image_at(img, hits[i], &text) && vmcoreinfo_parse(text, &v)) {
			v.pa = hits[i];
			vmcoreinfo_keep(out, &n, max, &v);
		}
	}
	return n;
}

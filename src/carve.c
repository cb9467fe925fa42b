#include "carve.h"

#include "banner.h"
#include "log.h"
#include "pagetable.h"	/* pt_kernel_text (the first present PMD of __START_KERNEL_map is _text), pt_phys_read_u64 */
#include "sample.h"
#include "scan.h"

#include <stdio.h>
#include <stdlib.h>

#define START_KERNEL_MAP 0xffffffff80000000ULL
/* __START_KERNEL for CONFIG_PHYSICAL_START=0x1000000, the x86-64 default
 * that every major distribution keeps. */
#define DEFAULT_LINK_TEXT 0xffffffff81000000ULL
#define KASLR_ALIGN 0x200000ULL
/* PAGE_OFFSET, the direct map's base, when not randomized: 4- and 5-level. */
#define PAGE_OFFSET_L4 0xffff888000000000ULL
#define PAGE_OFFSET_L5 0xff11000000000000ULL
#define BTF_MIN_SIZE (64u << 10)
#define BTF_MAX_SIZE (64u << 20)

/* The first symbol (in address order) of that name, or NULL. */
static const struct ksym *ks_find(const struct kallsyms_table *t, const char *name)
{
	if (t->by_name) {
		/* Binary search for the first of that name in name order;
		 * among equals, the lowest index is the one to return. */
		size_t lo = 0, hi = t->n;
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			if (strcmp(ksym_name(t, ksym_by_name(t, mid)), name) < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		const struct ksym *first = NULL;
		for (; lo < t->n && !strcmp(ksym_name(t, ksym_by_name(t, lo)), name); lo++)
			if (!first || ksym_by_name(t, lo) < first)
				first = ksym_by_name(t, lo);
		return first;
	}
	for (size_t i = 0; i < t->n; i++)
		if (!strcmp(ksym_name(t, &t->syms[i]), name))
			return &t->syms[i];
	return NULL;
}

/* Total size a BTF header claims (header + sections), 0 if implausible. */
static uint64_t btf_claimed_size(struct span s)
{
	if (s.n < 24 || s.p[0] != 0x9f || s.p[1] != 0xeb || s.p[2] != 1 || s.p[3] != 0)
		return 0;
	uint32_t hdr_len = rd_le32(s.p + 4);
	if (hdr_len < 24 || hdr_len > 256 || hdr_len % 4)
		return 0;
	uint64_t type_end = (uint64_t)rd_le32(s.p + 8) + rd_le32(s.p + 12);
	uint64_t str_end = (uint64_t)rd_le32(s.p + 16) + rd_le32(s.p + 20);
	uint64_t end = type_end > str_end ? type_end : str_end;
	if (hdr_len >= 32 && s.n >= 32) {
		uint64_t layout_end = (uint64_t)rd_le32(s.p + 24) + rd_le32(s.p + 28);
		if (layout_end > end)
			end = layout_end;
	}
	return hdr_len + end;
}

/* Turns a kallsyms address of this table into a physical address. */
struct placement {
	int64_t va_minus_pa;	/* 0 for PC-relative tables decoded at their PA */
};

static uint64_t to_pa(const struct placement *pl, uint64_t addr) { return addr - (uint64_t)pl->va_minus_pa; }

/* Does the shift va_minus_pa put a BTF header of exactly btf_size bytes at
 * __start_BTF and a banner at linux_banner? */
static bool placement_fits(const struct image *img, int64_t va_minus_pa, uint64_t btf_va,
			   uint64_t btf_size, uint64_t banner_va)
{
	struct span s;

	/* VA - PA of the kernel image is __START_KERNEL_map - phys_base, and
	 * the kernel is loaded 2 MiB-aligned. */
	if ((uint64_t)va_minus_pa & (KASLR_ALIGN - 1))
		return false;
	if (!image_at(img, btf_va - (uint64_t)va_minus_pa, &s) || btf_claimed_size(s) != btf_size)
		return false;
	return image_at(img, banner_va - (uint64_t)va_minus_pa, &s) && banner_len(s);
}

/* Base-relative tables hold runtime virtual addresses; find the shift to
 * physical ones.  Since 6.1 the banner ends right before the first kallsyms
 * array, which pins it at once; otherwise try every BTF header near the
 * tables (the kernel image is contiguous, .BTF within tens of MiB). */
static bool place_base_relative(const struct image *img, uint64_t block_pa, uint64_t btf_va,
				uint64_t btf_size, uint64_t banner_va, struct placement *pl)
{
	static const uint8_t magic[4] = { 0x9f, 0xeb, 0x01, 0x00 };
	uint64_t lo_pa;
	struct span w;

	if (image_window(img, block_pa, BANNER_MAX + 8, 0, &lo_pa, &w)) {
		const uint8_t *nul = w.p + w.n;
		while (nul > w.p && nul[-1] == 0 && w.p + w.n - nul < 8)
			nul--;	/* the alignment padding, then the banner's NUL */
		const struct span prefix = { (const uint8_t *)BANNER_PREFIX, strlen(BANNER_PREFIX) };
		const uint8_t *start = scan_find((struct span){ w.p, (size_t)(nul - w.p) }, prefix);
		for (; start; start = scan_find((struct span){ start + 1, (size_t)(nul - start - 1) }, prefix)) {
			int64_t delta = (int64_t)(banner_va - (lo_pa + (uint64_t)(start - w.p)));
			if (placement_fits(img, delta, btf_va, btf_size, banner_va)) {
				pl->va_minus_pa = delta;
				return true;
			}
		}
	}
	if (!image_window(img, block_pa, 128u << 20, 128u << 20, &lo_pa, &w))
		return false;
	for (const uint8_t *p = w.p, *end = w.p + w.n, *hit; p < end; p = hit + 1) {
		if (!(hit = scan_find((struct span){ p, (size_t)(end - p) }, (struct span){ magic, sizeof(magic) })))
			break;
		int64_t delta = (int64_t)(btf_va - (lo_pa + (uint64_t)(hit - w.p)));
		if (placement_fits(img, delta, btf_va, btf_size, banner_va)) {
			pl->va_minus_pa = delta;
			return true;
		}
	}
	return false;
}

/* Appends a reason once (many candidates share one); what does not fit ends
 * in a visible "..." rather than silently. */
static void note(char *buf, size_t n, const char *fmt, const char *what)
{
	char one[256];
	size_t used = strlen(buf);

	snprintf(one, sizeof(one), fmt, what);
	if (strstr(buf, one))
		return;
	if (used + strlen(one) + 4 >= n) {
		if (used + 4 <= n && (used < 3 || strcmp(buf + used - 3, "...")))
			memcpy(buf + used, "...", 4);
		return;
	}
	memcpy(buf + used, one, strlen(one) + 1);
}

/* The kernel's own VMCOREINFO: its vmcoreinfo_data pointer holds the text's
 * direct-map address, which is PAGE_OFFSET (page_offset_base, where
 * randomized) above the physical one.  Of two kernels of one release, each
 * thus gets its own. */
static bool own_vmcoreinfo(const struct image *img, const struct kallsyms_table *t,
			   const struct placement *pl, const char *release, struct vmcoreinfo *v)
{
	const struct ksym *data = ks_find(t, "vmcoreinfo_data"), *base = ks_find(t, "page_offset_base");
	uint64_t ptr, page_offset[2] = { PAGE_OFFSET_L4, PAGE_OFFSET_L5 };
	size_t tries = 2;
	struct span text;

	if (!data || !pt_phys_read_u64(img, to_pa(pl, data->addr), &ptr))
		return false;
	if (base) {
		if (!pt_phys_read_u64(img, to_pa(pl, base->addr), &page_offset[0]))
			return false;
		tries = 1;
	}
	for (size_t i = 0; i < tries; i++) {
		memset(v, 0, sizeof(*v));
		if (ptr >= page_offset[i] && image_at(img, ptr - page_offset[i], &text) &&
		    vmcoreinfo_parse(text, v) && !strcmp(v->osrelease, release)) {
			v->pa = ptr - page_offset[i];
			return true;
		}
	}
	return false;
}

/* Fill the KASLR fields of k from VMCOREINFO and the page tables. */
static int kaslr(const struct image *img, struct carved_kernel *k, const struct kallsyms_table *t,
		 const struct placement *pl, struct carve_result *res)
{
	const struct ksym *pgd = ks_find(t, "init_top_pgt");
	uint64_t pt_va = 0, pt_pa = 0;
	bool pt_ok = false;
	bool relative = t->enc == KSYM_ENC_PC_RELATIVE;
	uint64_t table_text = relative ? 0 : ks_find(t, "_text")->addr;

	struct vmcoreinfo own;
	if (own_vmcoreinfo(img, t, pl, k->release, &own))
		k->vmcoreinfo = vmcoreinfo_keep(res->vmci, &res->nvmci, ARRAY_SIZE(res->vmci), &own);
	/* Else the ELF core's note, or a copy the scan found, of this release. */
	for (size_t i = 0; i < res->nvmci && !k->vmcoreinfo; i++)
		if (!strcmp(res->vmci[i].osrelease, k->release))
			k->vmcoreinfo = &res->vmci[i];
	const struct vmcoreinfo *v = k->vmcoreinfo;

	if (pgd) {
		int first = v && v->has_l5 ? (v->l5 ? 5 : 4) : 4, last = v && v->has_l5 ? first : 5;
		for (int levels = first; levels <= last && !pt_ok; levels++)
			pt_ok = pt_kernel_text(img, to_pa(pl, pgd->addr), levels, &pt_va, &pt_pa) &&
				pt_pa == k->pa_text;
	}
	k->running = pt_ok;

	if (!relative)
		k->runtime_text = table_text;
	else if (pt_ok)
		k->runtime_text = pt_va;
	else if (v && v->has_stext)
		k->runtime_text = v->stext;
	if (pt_ok && k->runtime_text != pt_va)
		return err_set("kernel %s: kallsyms says _text is at %#llx but its page tables map it at %#llx",
			       k->release, (unsigned long long)k->runtime_text, (unsigned long long)pt_va);
	if (v && v->has_stext && k->runtime_text && v->stext != k->runtime_text)
		return err_set("kernel %s: VMCOREINFO SYMBOL(_stext)=%#llx disagrees with _text at %#llx",
			       k->release, (unsigned long long)v->stext, (unsigned long long)k->runtime_text);

	if (v && v->has_kerneloffset && k->runtime_text) {
		k->slide = v->kerneloffset;
		k->link_text = k->runtime_text - k->slide;
		snprintf(k->slide_how, sizeof(k->slide_how), "VMCOREINFO KERNELOFFSET");
		if (pt_ok)
			note(k->slide_how, sizeof(k->slide_how), "%s", ", confirmed by the page tables");
		return 0;
	}
	k->link_text = DEFAULT_LINK_TEXT;
	if (!k->runtime_text) {
		snprintf(k->slide_how, sizeof(k->slide_how),
			 "unknown: no VMCOREINFO and no usable page tables (addresses are slide-free in this kallsyms encoding)");
		return 0;
	}
	if (k->runtime_text < k->link_text || (k->runtime_text - k->link_text) % KASLR_ALIGN)
		return err_set("kernel %s: _text at %#llx is not a 2 MiB step above the default link base %#llx",
			       k->release, (unsigned long long)k->runtime_text, (unsigned long long)k->link_text);
	k->slide = k->runtime_text - k->link_text;
	snprintf(k->slide_how, sizeof(k->slide_how), "%s, link _text = default %#llx",
		 pt_ok ? (relative ? "page tables" : "kallsyms _text, confirmed by the page tables") : "kallsyms _text",
		 (unsigned long long)k->link_text);
	return 0;
}

/* One kallsyms table → a kernel (1), or a reason in res->rejected why not
 * (0), or an inconsistency that must stop everything (-1, err_set). */
static int make_kernel(const struct image *img, uint64_t window_pa, struct kallsyms_table *t,
		       struct carve_result *res, struct carved_kernel *k)
{
	const struct ksym *text = ks_find(t, "_text"), *sb = ks_find(t, "__start_BTF"),
			  *eb = ks_find(t, "__stop_BTF"), *lb = ks_find(t, "linux_banner");
	struct placement pl = { 0 };
	struct span s;
	char why[160];

	memset(k, 0, sizeof(*k));
	if (!text || !sb || !eb || eb->addr <= sb->addr) {
		snprintf(why, sizeof(why), "kallsyms at %#llx lacks _text/__start_BTF/__stop_BTF; ",
			 (unsigned long long)(window_pa + t->off_token_table));
		note(res->rejected, sizeof(res->rejected), "%s", why);
		return 0;
	}
	if (!lb) {
		note(res->rejected, sizeof(res->rejected), "%s",
		     "kallsyms without data symbols (CONFIG_KALLSYMS_ALL=n): no linux_banner, init_task; ");
		return 0;
	}
	uint64_t btf_size = eb->addr - sb->addr;
	if (btf_size < BTF_MIN_SIZE || btf_size > BTF_MAX_SIZE) {
		note(res->rejected, sizeof(res->rejected), "%s", "__stop_BTF - __start_BTF is not a plausible BTF size; ");
		return 0;
	}
	if (t->enc != KSYM_ENC_PC_RELATIVE &&
	    !place_base_relative(img, window_pa + t->off_block_start, sb->addr, btf_size, lb->addr, &pl)) {
		note(res->rejected, sizeof(res->rejected), "%s",
		     "kallsyms found but no BTF header of the size __stop_BTF-__start_BTF lies at a consistent place (BTF zeroed or overwritten?); ");
		return 0;
	}
	if (!image_at(img, to_pa(&pl, sb->addr), &s) || s.n < btf_size ||
	    btf_claimed_size(s) != btf_size) {
		note(res->rejected, sizeof(res->rejected), "%s",
		     "no valid BTF at __start_BTF (kernel built without CONFIG_DEBUG_INFO_BTF, or BTF zeroed/cut off); ");
		return 0;
	}
	k->btf = (struct span){ s.p, (size_t)btf_size };
	size_t blen;
	if (!image_at(img, to_pa(&pl, lb->addr), &s) || !(blen = banner_len(s))) {
		note(res->rejected, sizeof(res->rejected), "%s", "no banner at linux_banner; ");
		return 0;
	}
	k->banner = (struct span){ s.p, blen };
	k->banner_pa = to_pa(&pl, lb->addr);
	banner_release(s.p, blen, k->release, sizeof(k->release));
	k->pa_text = to_pa(&pl, text->addr);
	k->ks_pa = window_pa;
	if (kaslr(img, k, t, &pl, res) < 0)
		return -1;
	k->ks = *t;
	memset(t, 0, sizeof(*t));	/* ownership moved to k */
	return 1;
}

/* Windows of the image around landmark hits, merged where they overlap: a
 * kallsyms block (names, markers, tables) spans a few MiB around its token
 * table. */
#define KALLSYMS_REACH (24u << 20)

/* The window at physical pa holds landmark hits hit_pa[0..nhits). */
static int carve_window(const struct image *img, uint64_t pa, struct span w, const uint64_t *hit_pa,
			size_t nhits, struct carve_result *res, size_t *cap)
{
	struct kallsyms_table *tables = NULL;
	int hard_error = 0;
	size_t *offsets = xreallocarray(NULL, nhits, sizeof(*offsets));

	for (size_t i = 0; i < nhits; i++)
		offsets[i] = (size_t)(hit_pa[i] - pa);
	/* Decoding at the window's physical address makes PC-relative (7.0+)
	 * addresses physical addresses. */
	int n = kallsyms_carve_at(w, pa, offsets, nhits, &tables);
	free(offsets);

	for (int i = 0; i < n; i++) {
		if (res->n == *cap) {
			*cap = *cap ? *cap * 2 : 4;
			res->k = xreallocarray(res->k, *cap, sizeof(*res->k));
		}
		int made = make_kernel(img, pa, &tables[i], res, &res->k[res->n]);
		if (made > 0)
			res->n++;
		else if (made < 0)
			hard_error = -1;
	}
	kallsyms_free_all(tables, n);
	return hard_error;
}

/* The largest BTF blob (little-endian header, a size make_kernel accepts)
 * among the scan's hits, or an empty span.  Of equal ones the last: what the
 * boot loader and decompressor leave behind lies low, where the compressed
 * kernel was loaded, and the kernel itself above it. */
static struct span largest_btf(const struct image *img, const struct scan_hits *h)
{
	struct span best = { 0 }, s;

	for (size_t i = 0; i < h->n; i++) {
		uint64_t size;
		if (image_at(img, h->pa[i], &s) && (size = btf_claimed_size(s)) >= BTF_MIN_SIZE &&
		    size <= BTF_MAX_SIZE && size <= s.n && size >= best.n)
			best = (struct span){ s.p, (size_t)size };
	}
	return best;
}

/* The landmarks a scan looks for, in this order: a sampled area needs the
 * first two, the whole image three, and banners are only listed for -v.
 * Each needle costs about a tenth of a pass over the image. */
enum landmark { LM_KALLSYMS, LM_BTF, LM_VMCOREINFO, LM_BANNER, LANDMARKS };

/* A BTF header as x86-64 and arm64 kernels store it: magic 0xeb9f, version 1,
 * flags 0. */
static const uint8_t btf_le_magic[4] = { 0x9f, 0xeb, 0x01, 0x00 };
static const struct span landmarks[LANDMARKS] = {
	[LM_KALLSYMS] = { kallsyms_landmark, KALLSYMS_LANDMARK_LEN },
	[LM_BTF] = { btf_le_magic, sizeof(btf_le_magic) },
	[LM_VMCOREINFO] = { (const uint8_t *)VMCOREINFO_LANDMARK, sizeof(VMCOREINFO_LANDMARK) - 1 },
	[LM_BANNER] = { (const uint8_t *)BANNER_PREFIX, sizeof(BANNER_PREFIX) - 1 },
};

/* Scan `area` (img itself, or part of it) for the first nlandmarks landmarks
 * and make kernels of the kallsyms tables found.  -1 when a table was
 * inconsistent (err_set), else 0, kernels or not. */
static int carve_area(const struct image *img, const struct image *area, size_t nlandmarks,
		      const struct carve_opts *o, struct carve_result *res)
{
	struct scan_hits hits[LANDMARKS] = { 0 };
	size_t cap = 0;
	int hard_error = 0;

	scan_image(area, landmarks, nlandmarks, hits);
	if (o->guess_btf) {
		struct span btf = largest_btf(img, &hits[LM_BTF]);
		if (btf.n)
			o->guess_btf(o->ctx, btf);
	}
	res->nvmci = vmcoreinfo_collect(img, hits[LM_VMCOREINFO].pa, hits[LM_VMCOREINFO].n, res->vmci,
					ARRAY_SIZE(res->vmci));
	const struct scan_hits *ks = &hits[LM_KALLSYMS];
	for (size_t i = 0; i < ks->n;) {
		uint64_t lo_pa, hi_pa;
		struct span w;
		if (!image_window(img, ks->pa[i], KALLSYMS_REACH, KALLSYMS_REACH, &lo_pa, &w)) {
			i++;
			continue;
		}
		/* Extend over the next hits in reach, within the same run. */
		hi_pa = lo_pa + w.n;
		size_t j = i + 1;
		for (; j < ks->n && ks->pa[j] < hi_pa; j++) {
			uint64_t lo2;
			struct span w2;
			if (image_window(img, ks->pa[j], KALLSYMS_REACH, KALLSYMS_REACH, &lo2, &w2) &&
			    lo2 + w2.n > hi_pa && lo2 <= hi_pa && w2.p - (lo2 - lo_pa) == w.p) {
				hi_pa = lo2 + w2.n;
				w.n = (size_t)(hi_pa - lo_pa);
			}
		}
		if (carve_window(img, lo_pa, w, ks->pa + i, j - i, res, &cap) < 0)
			hard_error = -1;
		i = j;
	}
	res->banner_pa = hits[LM_BANNER].pa;	/* kept for the report */
	res->nbanners = hits[LM_BANNER].n;
	scan_hits_free(hits, LM_BANNER);
	return hard_error;
}

/* What the sampled area gave stands when it decides everything a whole scan
 * would: every kernel in it provably ran (its page tables map it) and has
 * its own VMCOREINFO, which fixes the slide. */
static bool sampled_kernels_settled(const struct carve_result *res)
{
	for (size_t i = 0; i < res->n; i++)
		if (!res->k[i].running || !res->k[i].vmcoreinfo)
			return false;
	return res->n > 0;
}

/* Kernels from the area around sampled BTF string pages: 1 when they
 * stand, else 0 with res empty and why[] saying what fell short. */
static int carve_sampled(const struct image *img, const struct carve_opts *o, struct carve_result *res,
			 char *why, size_t why_n)
{
	struct sampled_area s;

	if (!sample_kernel_area(img, &s)) {
		if (s.nhits)
			snprintf(why, why_n, "the area around the %zu BTF-like pages sampled is over half the image",
				 s.nhits);
		else
			snprintf(why, why_n, "no BTF-like page among %zu sampled", s.npages);
		return 0;
	}
	if (carve_area(img, &s.area, LM_VMCOREINFO, o, res) < 0 || !sampled_kernels_settled(res)) {
		snprintf(why, why_n, "%s near the %zu BTF-like pages sampled",
			 res->n ? "a kernel not provably running or without its VMCOREINFO"
				: "no usable kernel",
			 s.nhits);
		carve_free(res);
		sampled_area_free(&s);
		return 0;
	}
	snprintf(res->scan_how, sizeof(res->scan_how),
		 "sampled %zu pages (one per %u KiB), %zu like BTF strings, then the %llu MiB around them",
		 s.npages, SAMPLE_STRIDE >> 10, s.nhits, (unsigned long long)(s.area.present >> 20));
	res->sampled = true;
	sampled_area_free(&s);
	return 1;
}

int carve_kernels(const struct image *img, const struct carve_opts *o, struct carve_result *res)
{
	char why[160] = "as asked";

	memset(res, 0, sizeof(*res));
	if (!o->whole_image && carve_sampled(img, o, res, why, sizeof(why))) {
		if (o->list_banners) {
			struct scan_hits banners;
			scan_image(img, &landmarks[LM_BANNER], 1, &banners);
			res->banner_pa = banners.pa;
			res->nbanners = banners.n;
		}
		return 0;
	}
	int hard_error = carve_area(img, img, o->list_banners ? LANDMARKS : LM_BANNER, o, res);
	snprintf(res->scan_how, sizeof(res->scan_how), "the whole image (%s)", why);
	if (res->n)
		return 0;
	if (hard_error)
		return -1;
	if (res->rejected[0])
		return err_set("no usable kernel in the image: %s", res->rejected);
	return err_set("no kernel found in the image: no kallsyms table (not a Linux memory image, or the kernel's read-only data is missing)");
}

void carve_describe_other_banners(const struct carve_result *r, const struct carved_kernel *k,
				  const struct image *img, char *out, size_t n)
{
	size_t others = 0, used = 0;
	struct span s;

	out[0] = 0;
	for (size_t i = 0; i < r->nbanners; i++) {
		if (image_at(img, r->banner_pa[i], &s) && s.p == k->banner.p)
			continue;	/* the one in use */
		if (others++ < 3 && image_at(img, r->banner_pa[i], &s)) {
			size_t len = strnlen((const char *)s.p, s.n < 48 ? s.n : 48);
			char text[64];
			size_t j;
			for (j = 0; j < len && s.p[j] >= 0x20 && s.p[j] < 0x7f; j++)
				text[j] = (char)s.p[j];
			text[j] = 0;
			used += (size_t)snprintf(out + used, used < n ? n - used : 0, "%s%#llx '%s...'",
						 others > 1 ? ", " : "", (unsigned long long)r->banner_pa[i], text);
		}
	}
	if (others && used < n)
		snprintf(out + used, n - used, "%s: %zu other 'Linux version' string%s, not at linux_banner (log buffers, page cache, stale copies)",
			 others > 3 ? ", ..." : "", others, others > 1 ? "s" : "");
}

void carve_free(struct carve_result *r)
{
	free(r->banner_pa);
	for (size_t i = 0; i < r->n; i++)
		kallsyms_free(&r->k[i].ks);
	free(r->k);
	memset(r, 0, sizeof(*r));
}

void carve_symbols(struct carved_kernel *k, struct symbols *s)
{
	struct kallsyms_table *t = &k->ks;
	struct symbol *v = xreallocarray(NULL, t->n ? t->n : 1, sizeof(*v));

	for (size_t i = 0; i < t->n; i++) {
		const struct ksym *e = ksym_by_name(t, i);
		uint64_t addr = e->addr;
		if (t->enc == KSYM_ENC_PC_RELATIVE)
			addr = e->addr - k->pa_text + k->link_text;	/* decoded as PAs */
		else if (!e->absolute)
			addr = e->addr - k->slide;
		v[i] = (struct symbol){ addr, e->name, e->type, e->absolute };
	}
	symbols_take(s, t->names, t->names_size, t->names_cap, v, t->n);
	t->names = NULL;
	t->names_size = t->names_cap = 0;
	/* Fresh memory costs more than reused memory (see util.h). */
	free(t->syms);
	free(t->by_name);
	t->syms = NULL;
	t->by_name = NULL;
}

size_t carve_table_symbols(const struct carved_kernel *k, struct symbol_def out[KALLSYMS_TABLE_SYMBOLS])
{
	return kallsyms_table_symbols(&k->ks, k->ks_pa - k->pa_text + k->link_text, out);
}

/* Kernels inside a memory image: carve kallsyms, BTF and linux_banner out of
 * physical memory, tie them together, and determine the KASLR slide.
 *
 * A kernel image is physically contiguous, so kallsyms, .BTF and the banner
 * keep their vmlinux-relative layout in RAM.  Each kallsyms table found is a
 * candidate; it becomes a kernel when its __start_BTF/__stop_BTF and
 * linux_banner symbols land on a valid BTF blob and banner in the same run. */
#ifndef B2I_CARVE_H
#define B2I_CARVE_H

#include "image.h"
#include "kallsyms.h"
#include "symbols.h"
#include "vmcoreinfo.h"

struct carved_kernel {
	struct kallsyms_table ks;	/* decoded table (owned) */
	struct span btf;		/* BTF bytes inside the image */
	struct span banner;		/* banner bytes, "\n\0" included */
	uint64_t banner_pa;
	char release[65];

	uint64_t ks_pa;			/* physical address ks's off_* count from */
	uint64_t pa_text;		/* physical load address of _text */
	uint64_t link_text;		/* link-time _text (System.map) */
	uint64_t runtime_text;		/* virtual _text in this boot (0: unknown) */
	uint64_t slide;			/* runtime_text - link_text */
	char slide_how[256];		/* which sources gave it, and the cross-check */
	bool running;			/* page tables of this kernel map it: it ran */
	const struct vmcoreinfo *vmcoreinfo;	/* the matching note, if any */
};

struct carve_result {
	struct carved_kernel *k;
	size_t n;
	struct vmcoreinfo vmci[8];
	size_t nvmci;
	char rejected[2048];		/* why other candidates were dropped */
	/* Every "Linux version " string in the image: only those at a kernel's
	 * linux_banner are used; the others (printk buffer, page cache, other
	 * kernels' leftovers) are reported. */
	uint64_t *banner_pa;
	size_t nbanners;
	bool sampled;			/* found through sampled pages, not a whole scan */
	char scan_how[192];		/* what was scanned, and why */
};

/* Describe the banner strings not used by kernel k (count and examples);
 * empty unless the carve listed them. */
void carve_describe_other_banners(const struct carve_result *r, const struct carved_kernel *k,
				  const struct image *img, char *out, size_t n);

struct carve_opts {
	/* Decoding kallsyms takes a while; a vmlinux BTF is parsed in about
	 * the same time.  So once the image is scanned, guess_btf(ctx, btf) is
	 * called (unless NULL) with the largest well-formed BTF blob seen,
	 * which is nearly always the one a kernel found later uses: the
	 * caller may start parsing it meanwhile. */
	void (*guess_btf)(void *ctx, struct span btf);
	void *ctx;
	/* Also find every "Linux version " string, for
	 * carve_describe_other_banners(). */
	bool list_banners;
	/* Scan every byte, even when sampled pages led to kernels that settle
	 * the question (sample.h). */
	bool whole_image;
};

/* Find every kernel in the image: in the area around sampled BTF string
 * pages when the kernels found there ran and carry their VMCOREINFO, else by
 * scanning the whole image.  0 with at least one kernel, else -1 with
 * err_set() saying why none qualified. */
int carve_kernels(const struct image *img, const struct carve_opts *o, struct carve_result *out);
void carve_free(struct carve_result *r);

/* Link-time symbols of kernel k (un-slid) into the empty table s, which
 * takes over k's names; k's address table is freed (its counts and layout
 * stay), so that the memory serves what comes next. */
void carve_symbols(struct carved_kernel *k, struct symbols *s);

/* kallsyms' own arrays (kallsyms_table_symbols) at link-time addresses: the
 * kernel image is physically contiguous, so VA = PA - pa_text + link_text.
 * Valid after carve_symbols(). */
size_t carve_table_symbols(const struct carved_kernel *k, struct symbol_def out[KALLSYMS_TABLE_SYMBOLS]);

#endif

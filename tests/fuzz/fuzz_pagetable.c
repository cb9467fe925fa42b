/* x86-64 page-table walks (pagetable.c).  The input is physical memory from
 * address 0, cut in two runs (so reads cross run boundaries); the root table
 * is fixed at physical 0, so the input's first 4 KiB are the top-level
 * entries and everything below is what the fuzzer makes of the rest.  The
 * addresses translated are a fixed set plus the input's last 64 bytes. */
#include "fuzz.h"
#include "pagetable.h"

#include <stdlib.h>
#include <string.h>

static const uint64_t fixed_va[] = {
	0xffffffff81000000ULL,	/* kernel text */
	0xffffffff82a00000ULL,
	0xffff888000000000ULL,	/* direct map */
	0xff11000000000000ULL,	/* 5-level direct map */
	0xffffc90000000000ULL,	/* vmalloc */
	0x0000000000400000ULL,	/* user */
	0x00007ffffffff000ULL,
	0x0000800000000000ULL,	/* non-canonical with 4 levels */
	0xfffffffffffff000ULL,	/* the last page: reads wrap */
};

static void walk(const struct pt_space *as, uint64_t va)
{
	struct pt_walk w;
	uint8_t buf[3 * 4096];
	uint64_t v;
	size_t done;

	if (pt_translate(as, va, &w) && (w.page_size != 4096 && w.page_size != (2u << 20) &&
					 w.page_size != (1u << 30)))
		abort();
	(void)pt_fault_name(w.fault);
	(void)pt_read_u64(as, va, &v, &w);
	/* Three pages from the middle of one: two page crossings. */
	if (!pt_read(as, va + 2048, buf, sizeof(buf), &w, &done) && done > sizeof(buf))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct image_run runs[2];
	struct image img;
	size_t half = (size / 2) & ~(size_t)7;

	fuzz_quiet();
	memset(&img, 0, sizeof(img));
	runs[0] = (struct image_run){ 0, { data, half } };
	runs[1] = (struct image_run){ half, { data + half, size - half } };
	img.format = IMAGE_RAW;
	img.runs = half ? runs : runs + 1;
	img.nruns = half ? 2 : 1;
	img.present = size;
	img.file = (struct span){ data, size };
	if (!size)
		return 0;
	for (int levels = 4; levels <= 5; levels++) {
		struct pt_space as = { &img, 0, levels };
		uint64_t va, pa;
		for (size_t i = 0; i < sizeof(fixed_va) / sizeof(fixed_va[0]); i++)
			walk(&as, fixed_va[i]);
		for (size_t off = size >= 64 ? size - 64 : 0; off + 8 <= size; off += 8)
			walk(&as, rd_le64(data + off));
		if (pt_kernel_text(&img, 0, levels, &va, &pa))
			walk(&as, va);
	}
	uint8_t b[64];
	(void)pt_phys_read(&img, half ? half - 32 : 0, b, sizeof(b));
	return 0;
}

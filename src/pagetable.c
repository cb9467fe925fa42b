#include "pagetable.h"

#define PAGE_4K 0x1000ULL
#define PAGE_2M 0x200000ULL
#define PAGE_1G 0x40000000ULL

const char *pt_fault_name(enum pt_fault f)
{
	switch (f) {
	case PT_OK: return "ok";
	case PT_NONCANONICAL: return "non-canonical address";
	case PT_NOT_PRESENT: return "not mapped (entry not present)";
	case PT_RESERVED: return "page-size bit set at a level that reserves it";
	case PT_TABLE_MISSING: return "page table outside the image";
	case PT_PAGE_MISSING: return "mapped page outside the image";
	case PT_BAD_LEVELS: return "paging depth is not 4 or 5";
	}
	return "?";
}

bool pt_canonical(uint64_t va, int levels)
{
	unsigned bits = levels == 5 ? 57 : 48;
	uint64_t top = va >> (bits - 1);	/* the sign bit and everything above */
	return top == 0 || top == (UINT64_MAX >> (bits - 1));
}

bool pt_phys_read(const struct image *img, uint64_t pa, void *buf, size_t len)
{
	uint8_t *out = buf;

	while (len) {
		struct span s;
		if (!image_at(img, pa, &s))
			return false;
		size_t n = s.n < len ? s.n : len;
		memcpy(out, s.p, n);
		out += n;
		len -= n;
		if (pa + n < pa)
			return len == 0;
		pa += n;
	}
	return true;
}

bool pt_entry(const struct image *img, uint64_t table_pa, unsigned index, uint64_t *entry)
{
	struct span s;

	if (index >= 512 || (table_pa & (PAGE_4K - 1)))
		return false;
	/* A table entry is 8-byte aligned and never straddles a run. */
	if (!image_at(img, table_pa + index * 8ULL, &s) || s.n < 8)
		return false;
	*entry = rd_le64(s.p);
	return true;
}

bool pt_phys_read_u64(const struct image *img, uint64_t pa, uint64_t *v)
{
	uint8_t b[8];

	if (!pt_phys_read(img, pa, b, sizeof(b)))
		return false;
	*v = rd_le64(b);
	return true;
}

bool pt_translate(const struct pt_space *as, uint64_t va, struct pt_walk *w)
{
	uint64_t table = as->root & PT_FRAME, e = 0;

	memset(w, 0, sizeof(*w));
	if (as->levels != 4 && as->levels != 5) {
		w->fault = PT_BAD_LEVELS;
		return false;
	}
	if (!pt_canonical(va, as->levels)) {
		w->fault = PT_NONCANONICAL;
		w->level = as->levels;
		return false;
	}
	for (int level = as->levels; level >= 1; level--) {
		unsigned idx = (unsigned)(va >> (12 + 9 * (level - 1))) & 511;
		w->level = level;
		w->entry = 0;
		if (!pt_entry(as->img, table, idx, &e)) {
			w->fault = PT_TABLE_MISSING;
			return false;
		}
		w->entry = e;
		if (!(e & PT_PRESENT)) {
			w->fault = PT_NOT_PRESENT;
			return false;
		}
		if ((e & PT_LARGE) && level >= 4) {
			w->fault = PT_RESERVED;
			return false;
		}
		if ((e & PT_LARGE) && level >= 2) {
			uint64_t size = level == 3 ? PAGE_1G : PAGE_2M;
			w->page_size = size;
			w->pa = (e & PT_FRAME & ~(size - 1)) | (va & (size - 1));
			break;
		}
		if (level == 1) {
			w->page_size = PAGE_4K;
			w->pa = (e & PT_FRAME) | (va & (PAGE_4K - 1));
			break;
		}
		table = e & PT_FRAME;
	}
	struct span s;
	if (!image_at(as->img, w->pa, &s)) {
		w->fault = PT_PAGE_MISSING;
		return false;
	}
	w->fault = PT_OK;
	return true;
}

bool pt_read(const struct pt_space *as, uint64_t va, void *buf, size_t len, struct pt_walk *w,
	     size_t *done)
{
	uint8_t *out = buf;
	size_t got = 0;
	struct pt_walk local;

	if (!w)
		w = &local;
	memset(w, 0, sizeof(*w));
	while (got < len) {
		uint64_t at = va + got;
		if (!pt_translate(as, at, w))
			break;
		/* Within one page the physical bytes are contiguous. */
		uint64_t in_page = w->page_size - (at & (w->page_size - 1));
		size_t n = len - got < in_page ? len - got : (size_t)in_page;
		if (!pt_phys_read(as->img, w->pa, out + got, n)) {
			w->fault = PT_PAGE_MISSING;
			break;
		}
		got += n;
		if (at + n < at && got < len) {	/* wrapped past 2^64 */
			w->fault = PT_NONCANONICAL;
			break;
		}
	}
	if (done)
		*done = got;
	return got == len;
}

bool pt_read_u64(const struct pt_space *as, uint64_t va, uint64_t *v, struct pt_walk *w)
{
	uint8_t b[8];

	if (!pt_read(as, va, b, sizeof(b), w, NULL))
		return false;
	*v = rd_le64(b);
	return true;
}

bool pt_kernel_text(const struct image *img, uint64_t root, int levels, uint64_t *va, uint64_t *pa)
{
	uint64_t table = root & PT_FRAME, e;

	for (int level = levels; level > 2; level--) {
		/* PML5[511], PML4[511], then PDPT[510] for 0xffffffff80000000. */
		unsigned idx = level == 3 ? 510 : 511;
		if (!pt_entry(img, table, idx, &e) || !(e & PT_PRESENT) || (e & PT_LARGE))
			return false;
		table = e & PT_FRAME;
	}
	for (unsigned i = 0; i < 512; i++) {
		if (!pt_entry(img, table, i, &e))
			return false;
		if (!(e & PT_PRESENT))
			continue;
		*va = PT_START_KERNEL_MAP + (uint64_t)i * PAGE_2M;
		if (e & PT_LARGE) {
			*pa = e & PT_FRAME & ~(PAGE_2M - 1);
			return true;
		}
		/* 4 KiB pages: the first PTE of that table. */
		uint64_t pte;
		if (!pt_entry(img, e & PT_FRAME, 0, &pte) || !(pte & PT_PRESENT))
			return false;
		*pa = pte & PT_FRAME;
		return true;
	}
	return false;
}

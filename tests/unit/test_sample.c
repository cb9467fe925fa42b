/* sample.c: the BTF string page test on this machine's own kernel BTF and on
 * pages that are not strings, and the area sample_kernel_area builds. */
#include "check.h"
#include "sample.h"

#include <stdlib.h>

#define MIB (1u << 20)

/* Every whole page of the running kernel's BTF string section must pass. */
static void test_real_strings(void)
{
	struct mapped_file mf;

	if (map_file("/sys/kernel/btf/vmlinux", &mf) < 0 || mf.size < 24) {
		printf("note: no /sys/kernel/btf/vmlinux: real-strings check not run\n");
		return;
	}
	uint32_t hdr_len = rd_le32(mf.data + 4), str_off = rd_le32(mf.data + 16), str_len = rd_le32(mf.data + 20);
	uint64_t start = (uint64_t)hdr_len + str_off, pages = 0, passed = 0;
	if (check_that(span_has((struct span){ mf.data, mf.size }, start, str_len), "BTF header is sane")) {
		for (uint64_t off = start; off + SAMPLE_PAGE <= start + str_len; off += SAMPLE_PAGE, pages++)
			passed += sample_is_btf_strings(mf.data + off, SAMPLE_PAGE);
		CHECK(pages > 100 && passed == pages, "running kernel's BTF strings: %llu of %llu pages pass",
		      (unsigned long long)passed, (unsigned long long)pages);
	}
	unmap_file(&mf);
}

static void test_not_strings(void)
{
	static uint8_t page[SAMPLE_PAGE];
	static const char prose[] = "The quick brown fox jumps over the lazy dog, twice.\n";

	memset(page, 0, sizeof(page));
	CHECK(!sample_is_btf_strings(page, sizeof(page)), "zero page fails");
	memset(page, 0xff, sizeof(page));
	CHECK(!sample_is_btf_strings(page, sizeof(page)), "0xff page fails");
	for (size_t i = 0; i < sizeof(page); i++)
		page[i] = (uint8_t)check_random();
	CHECK(!sample_is_btf_strings(page, sizeof(page)), "random page fails");
	for (size_t i = 0; i < sizeof(page); i++)
		page[i] = (uint8_t)prose[i % (sizeof(prose) - 1)];
	CHECK(!sample_is_btf_strings(page, sizeof(page)), "English text fails");
	/* Identifiers without NULs (one long name) and NUL-heavy pages fail. */
	for (size_t i = 0; i < sizeof(page); i++)
		page[i] = (uint8_t)('a' + i % 26);
	CHECK(!sample_is_btf_strings(page, sizeof(page)), "letters without NULs fail");
	for (size_t i = 0; i < sizeof(page); i++)
		page[i] = i % 4 ? 0 : 'x';
	CHECK(!sample_is_btf_strings(page, sizeof(page)), "one-letter names between NUL runs fail");
}

/* "name_<n>\0" repeated: what a string section looks like. */
static void fill_names(uint8_t *p, size_t n)
{
	size_t i = 0;
	for (unsigned k = 0; i < n; k++) {
		char name[32];
		int len = snprintf(name, sizeof(name), "task_struct_%u", k);
		for (int j = 0; j <= len && i < n; j++)
			p[i++] = (uint8_t)name[j];
	}
}

static void test_area(void)
{
	size_t size = 192 * MIB, names_at = 150 * MIB + 12345, names_len = 2 * MIB;
	uint8_t *mem = calloc(1, size);
	struct image_run run = { 0x100000000ull, { mem, size } };
	struct image img = { .format = IMAGE_RAW, .runs = &run, .nruns = 1, .present = size };
	struct sampled_area s;

	if (!mem)
		return;
	CHECK(!sample_kernel_area(&img, &s) && s.npages == size / SAMPLE_STRIDE && !s.nhits,
	      "zeroed image: no area, %zu pages sampled", s.npages);
	fill_names(mem + names_at, names_len);
	if (check_that(sample_kernel_area(&img, &s), "image with 2 MiB of names: an area")) {
		/* The sampled pages wholly inside the names: 150.5 to 152 MiB. */
		uint64_t first = run.pa + 150 * MIB + SAMPLE_STRIDE, last = run.pa + 152 * MIB;
		CHECK(s.nhits == 4 && s.hit_pa[0] == first && s.hit_pa[3] == last,
		      "hits at the sampled pages inside the names (%zu)", s.nhits);
		CHECK(s.area.nruns == 1 && s.area.runs[0].pa == first - SAMPLE_AREA_BELOW &&
		      s.area.runs[0].bytes.n == last + SAMPLE_PAGE + SAMPLE_AREA_ABOVE - (first - SAMPLE_AREA_BELOW),
		      "one merged window from 64 MiB below the first hit to 1 MiB past the last");
		CHECK(s.area.present == s.area.runs[0].bytes.n && s.area.present < size / 2,
		      "area present %llu MiB", (unsigned long long)(s.area.present / MIB));
		sampled_area_free(&s);
	}
	/* Names nearly everywhere: the area would exceed half the image. */
	fill_names(mem, size);
	CHECK(!sample_kernel_area(&img, &s) && s.nhits == size / SAMPLE_STRIDE,
	      "names everywhere: no area (a whole scan costs as much)");
	free(mem);
}

int main(void)
{
	test_real_strings();
	test_not_strings();
	test_area();
	return check_finish();
}

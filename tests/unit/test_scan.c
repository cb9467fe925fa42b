/* The landmark scanner against a plain byte-by-byte search: scan_find on
 * every needle length and placement near the ends of a buffer, and
 * scan_image over a multi-run image from a file, with occurrences straddling
 * the slice and read-buffer boundaries and an alphabet dense in the filter's
 * probe bytes, so that nearly every position is a candidate. */
#include "check.h"
#include "image.h"
#include "scan.h"

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

/* The upper half of check_random(): its best bits. */
static uint32_t next_random(void) { return (uint32_t)(check_random() >> 32); }

static const uint8_t *naive_find(const uint8_t *h, size_t hn, const uint8_t *n, size_t nn)
{
	for (size_t i = 0; i + nn <= hn; i++)
		if (!memcmp(h + i, n, nn))
			return h + i;
	return NULL;
}

/* Bytes drawn mostly from the needles' own characters. */
static void fill_dense(uint8_t *p, size_t n, const char *alphabet, size_t alen)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)alphabet[next_random() % alen];
}

static void test_find(void)
{
	static const char alphabet[] = "0\0" "9\0" "ab";
	uint8_t hay[300], needle[64];
	size_t bad = 0, runs = 0, found = 0;

	for (size_t nn = 1; nn <= 64; nn++) {
		for (int trial = 0; trial < 200; trial++) {
			size_t hn = next_random() % sizeof(hay);
			fill_dense(hay, hn, alphabet, sizeof(alphabet) - 1);
			fill_dense(needle, nn, alphabet, sizeof(alphabet) - 1);
			/* Plant it at the start, the very end, or anywhere. */
			if (hn >= nn && trial % 3) {
				size_t at = trial % 3 == 1 ? hn - nn : next_random() % (hn - nn + 1);
				memcpy(hay + at, needle, nn);
			}
			const uint8_t *want = naive_find(hay, hn, needle, nn);
			const uint8_t *got = scan_find((struct span){ hay, hn }, (struct span){ needle, nn });
			bad += got != want;
			found += want != NULL;
			runs++;
		}
	}
	CHECK(bad == 0, "scan_find agrees with a naive search in %zu of %zu cases (%zu with a match)",
	      runs - bad, runs, found);
	CHECK(scan_find((struct span){ hay, 0 }, (struct span){ needle, 1 }) == NULL, "empty haystack: NULL");
	CHECK(scan_find((struct span){ hay, 10 }, (struct span){ needle, 0 }) == NULL, "empty needle: NULL");
}

/* Physical addresses where needle occurs in [pa, pa + n). */
static size_t naive_hits(const uint8_t *p, size_t n, uint64_t pa, struct span needle, uint64_t *out,
			 size_t cap, size_t have)
{
	for (size_t i = 0; i + needle.n <= n; i++)
		if (!memcmp(p + i, needle.p, needle.n) && have < cap)
			out[have++] = pa + i;
	return have;
}

static void test_image_scan(void)
{
	char path[] = "/tmp/b2i-scan-XXXXXX";
	const size_t size = 21u << 20;	/* several 4 MiB slices, two threads */
	uint8_t *data = malloc(size);
	/* The four landmarks carve_kernels looks for. */
	enum { NEEDLES = 4 };
	const struct span needles[NEEDLES] = {
		{ (const uint8_t *)"0\0" "1\0" "2\0" "3\0" "4\0" "5\0" "6\0" "7\0" "8\0" "9\0", 20 },
		{ (const uint8_t *)"OSRELEASE=", 10 },
		{ (const uint8_t *)"Linux version ", 14 },
		{ (const uint8_t *)"\x9f\xeb\x01\0", 4 },
	};
	static const char alphabet[] = "0\0" "9\0" "OS=Lin \x9f\xeb\x01";

	fill_dense(data, size, alphabet, sizeof(alphabet) - 1);
	/* Occurrences at the run and slice edges and across every 4 MiB and
	 * 64 KiB boundary nearby, just after 256 KiB read chunks and slices
	 * (which the chunk before must not report too), plus many scattered
	 * ones. */
	const size_t spots[] = { 0, 1, (4u << 20) - 5, (4u << 20) - 19, (8u << 20) - 1, 65536 - 7,
				 (12u << 20) + 65536 - 13, (256u << 10) + 3, (4u << 20) + 2,
				 (12u << 20) + (256u << 10) + 1, (16u << 20) + 40, size - 20, size - 14,
				 size - 10 };
	for (size_t i = 0; i < sizeof(spots) / sizeof(spots[0]); i++)
		for (size_t k = 0; k < NEEDLES; k++)
			if (spots[i] + needles[k].n <= size && (i + k) % 2 == 0)
				memcpy(data + spots[i], needles[k].p, needles[k].n);
	for (int i = 0; i < 3000; i++) {
		const struct span *nd = &needles[next_random() % NEEDLES];
		size_t at = next_random() % (size - nd->n);
		memcpy(data + at, nd->p, nd->n);
	}
	int fd = mkstemp(path);
	if (fd < 0 || write(fd, data, size) != (ssize_t)size || close(fd) < 0) {
		perror(path);
		exit(1);
	}

	struct image img;
	if (!check_that(image_open(path, &img) == 0, "raw image of %zu MiB opens", size >> 20))
		return;
	/* Two runs with a gap, as LiME or ELF give: split the mapping. */
	struct image_run runs[2] = {
		{ 0x100000, { img.file.p, 9u << 20 } },
		{ 0x4000000, { img.file.p + (9u << 20), size - (9u << 20) } },
	};
	struct image_run *own_runs = img.runs;
	size_t own_n = img.nruns;
	img.runs = runs;
	img.nruns = 2;
	img.present = size;

	struct scan_hits hits[NEEDLES];
	scan_image(&img, needles, NEEDLES, hits);
	size_t cap = 100000;
	uint64_t *want = malloc(cap * sizeof(*want));
	for (size_t k = 0; k < NEEDLES; k++) {
		size_t n = 0;
		for (size_t r = 0; r < 2; r++)
			n = naive_hits(runs[r].bytes.p, runs[r].bytes.n, runs[r].pa, needles[k], want, cap, n);
		bool same = n == hits[k].n && (!n || !memcmp(want, hits[k].pa, n * sizeof(*want)));
		CHECK(same, "needle %zu: %zu hits, naive search %zu, same addresses", k, hits[k].n, n);
	}
	scan_hits_free(hits, NEEDLES);
	free(want);
	img.runs = own_runs;
	img.nruns = own_n;
	image_close(&img);
	unlink(path);
	free(data);
}

int main(void)
{
	/* Each width this CPU runs; the matcher falls back to the widest it
	 * has, so on older CPUs a pass repeats a narrower one. */
	static const unsigned widths[] = { 64, 32, 16 };
	for (size_t pass = 0; pass < ARRAY_SIZE(widths); pass++) {
		scan_max_width = widths[pass];
		printf("-- matcher of at most %u-byte vectors\n", widths[pass]);
		test_find();
		test_image_scan();
	}
	return check_finish();
}

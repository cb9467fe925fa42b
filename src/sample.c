#include "sample.h"

#include <stdlib.h>

/* Limits measured on every page of the Debian 6.1 and 7.2 BTF string
 * sections: at most 17 NULs in any 64 bytes, at most 2 bytes outside
 * [A-Za-z0-9_.], NULs from 1/64 of a page up, letters over a quarter.  Zero
 * pages fail at their first 64 bytes, binary ones within a few. */
#define BLOCK 64
#define MAX_NULS_PER_BLOCK (BLOCK / 2)

bool sample_is_btf_strings(const uint8_t *page, size_t n)
{
	size_t nuls = 0, letters = 0, foreign = 0;

	for (size_t b = 0; b < n; b += BLOCK) {
		size_t end = n - b < BLOCK ? n : b + BLOCK, block_nuls = 0;
		for (size_t i = b; i < end; i++) {
			uint8_t c = page[i], lower = c | 0x20;
			if (!c)
				block_nuls++;
			else if (lower >= 'a' && lower <= 'z')
				letters++;
			else if (!((c >= '0' && c <= '9') || c == '_' || c == '.'))
				foreign++;
		}
		if (block_nuls > MAX_NULS_PER_BLOCK || foreign > n / 256)
			return false;
		nuls += block_nuls;
	}
	return nuls >= n / 64 && letters > n / 4;
}

struct area_builder {
	struct image_run *runs;
	size_t n, cap;
	size_t last_run;	/* the image run of runs[n - 1] */
};

/* Keep [lo, hi) of image run r, merged into the previous window when they
 * touch (windows of one run come in address order). */
static void keep_window(struct area_builder *b, const struct image *img, size_t r, uint64_t lo, uint64_t hi)
{
	const struct image_run *run = &img->runs[r];

	if (b->n && b->last_run == r) {
		struct image_run *prev = &b->runs[b->n - 1];
		uint64_t prev_hi = prev->pa - run->pa + prev->bytes.n;
		if (lo <= prev_hi) {
			prev->bytes.n = (size_t)(hi - (prev->pa - run->pa));
			return;
		}
	}
	if (b->n == b->cap) {
		b->cap = b->cap ? b->cap * 2 : 8;
		b->runs = xreallocarray(b->runs, b->cap, sizeof(*b->runs));
	}
	b->runs[b->n++] = (struct image_run){ run->pa + lo, { run->bytes.p + lo, (size_t)(hi - lo) } };
	b->last_run = r;
}

static void add_hit(struct sampled_area *s, size_t *cap, uint64_t pa)
{
	if (s->nhits == *cap) {
		*cap = *cap ? *cap * 2 : 8;
		s->hit_pa = xreallocarray(s->hit_pa, *cap, sizeof(*s->hit_pa));
	}
	s->hit_pa[s->nhits++] = pa;
}

/* A sample page: at a multiple of the stride in physical memory. */
struct sample_page {
	uint64_t off;		/* in the run */
	uint32_t run;
	bool passed;
};

/* Every sample page of the image, in image order. */
static struct sample_page *sample_pages(const struct image *img, size_t *n)
{
	struct sample_page *v = NULL;
	size_t cap = 0;

	*n = 0;
	for (size_t r = 0; r < img->nruns; r++) {
		const struct image_run *run = &img->runs[r];
		uint64_t off = (SAMPLE_STRIDE - run->pa % SAMPLE_STRIDE) % SAMPLE_STRIDE;
		for (; off <= run->bytes.n && run->bytes.n - off >= SAMPLE_PAGE; off += SAMPLE_STRIDE) {
			if (*n == cap) {
				cap = cap ? cap * 2 : 1024;
				v = xreallocarray(v, cap, sizeof(*v));
			}
			v[(*n)++] = (struct sample_page){ off, (uint32_t)r, false };
		}
	}
	return v;
}

/* One core's share of the sample pages, [from, to).  A page costs a 2 us
 * pread, and there are 1,024 in 512 MiB: both cores. */
struct sample_share {
	const struct image *img;
	struct sample_page *pages;
	size_t from, to;
};

static void test_share(void *arg)
{
	struct sample_share *sh = arg;
	uint8_t buf[SAMPLE_PAGE];

	for (size_t k = sh->from; k < sh->to; k++) {
		struct sample_page *pg = &sh->pages[k];
		const struct image_run *run = &sh->img->runs[pg->run];
		const uint8_t *page = image_read(sh->img, (struct span){ run->bytes.p + pg->off, SAMPLE_PAGE }, buf);
		pg->passed = sample_is_btf_strings(page, SAMPLE_PAGE);
	}
}

bool sample_kernel_area(const struct image *img, struct sampled_area *s)
{
	struct area_builder b = { 0 };
	size_t hit_cap = 0, total;
	uint64_t present = 0;

	memset(s, 0, sizeof(*s));
	struct sample_page *sampled = sample_pages(img, &total);
	struct sample_share half[2] = { { img, sampled, 0, total / 2 }, { img, sampled, total / 2, total } };
	struct thread_job second;
	thread_job_start(&second, test_share, &half[1]);
	test_share(&half[0]);
	thread_job_join(&second);

	for (size_t k = 0; k < total; k++) {
		if (!sampled[k].passed)
			continue;
		const struct image_run *run = &img->runs[sampled[k].run];
		uint64_t off = sampled[k].off;
		add_hit(s, &hit_cap, run->pa + off);
		uint64_t lo = off > SAMPLE_AREA_BELOW ? off - SAMPLE_AREA_BELOW : 0;
		uint64_t room = run->bytes.n - off;
		uint64_t hi = off + (room > SAMPLE_PAGE + SAMPLE_AREA_ABOVE ? SAMPLE_PAGE + SAMPLE_AREA_ABOVE : room);
		keep_window(&b, img, sampled[k].run, lo, hi);
	}
	free(sampled);
	s->npages = total;
	for (size_t i = 0; i < b.n; i++)
		present += b.runs[i].bytes.n;
	if (!s->nhits || present > img->present / 2) {
		size_t pages = s->npages, hits = s->nhits;
		free(b.runs);
		sampled_area_free(s);
		s->npages = pages;	/* for the caller's report */
		s->nhits = hits;
		return false;
	}
	s->area = *img;	/* the same file and descriptor: never image_close() it */
	s->area.runs = b.runs;
	s->area.nruns = b.n;
	s->area.present = present;
	return true;
}

void sampled_area_free(struct sampled_area *s)
{
	free(s->area.runs);
	free(s->hit_pa);
	memset(s, 0, sizeof(*s));
}

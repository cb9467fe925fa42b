#include "scan.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define MAX_NEEDLES 4
#define MAX_THREADS 8
#define MIN_SLICE (8u << 20)	/* below this, threads cost more than they save */
#define SLICE (4u << 20)	/* unit of work handed to a thread */
#define CHUNK (256u << 10)	/* read at once: stays in the core's cache */
#define MAX_HITS_PER_NEEDLE (1u << 20)	/* hostile images: bound the memory */

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define MATCHER_WIDE_X86 1	/* AVX2 and AVX-512BW versions, chosen at run time */
#include <immintrin.h>
#else
#define MATCHER_WIDE_X86 0
#endif

/* ---- matching ------------------------------------------------------------ */

unsigned scan_max_width;

/* A needle can start at p only if p[0] and p[probe] both match.  Comparing
 * those two bytes for a vector of positions at once rejects nearly every
 * position with a few instructions; glibc's memmem, one needle at a time, took
 * 60 % of a 512 MiB image's run. */
struct matcher {
	const struct span *needles;
	size_t n;
	size_t reach;		/* the filter reads up to p + reach + vector width */
	/* Per needle: the probe's offset and the two bytes. */
	size_t probe[MAX_NEEDLES];
	uint8_t first[MAX_NEEDLES], second[MAX_NEEDLES];
	unsigned width;		/* vector bytes: 16, 32 or 64 */
};

/* The probe byte: the farthest one unlike the first and unlike the filler
 * (0x00, space, 0xff) that pads memory, so that the two tests are nearly
 * independent. */
static size_t pick_probe(struct span needle)
{
	for (size_t j = needle.n - 1; j > 0; j--) {
		uint8_t b = needle.p[j];
		if (b != needle.p[0] && b != 0 && b != ' ' && b != 0xff)
			return j;
	}
	return needle.n - 1;
}

static void matcher_init(struct matcher *m, const struct span *needles, size_t n)
{
	memset(m, 0, sizeof(*m));
	m->needles = needles;
	m->n = n;
	for (size_t k = 0; k < n; k++) {
		struct span nd = needles[k];
		m->probe[k] = pick_probe(nd);
		if (m->probe[k] > m->reach)
			m->reach = m->probe[k];
		m->first[k] = nd.p[0];
		m->second[k] = nd.p[m->probe[k]];
	}
	m->width = 16;
#if MATCHER_WIDE_X86
	unsigned max = scan_max_width ? scan_max_width : 64;
	if (max >= 64 && __builtin_cpu_supports("avx512bw"))
		m->width = 64;
	else if (max >= 32 && __builtin_cpu_supports("avx2"))
		m->width = 32;
#endif
}

static bool needle_at(struct span needle, const uint8_t *p, const uint8_t *end)
{
	return (size_t)(end - p) >= needle.n && !memcmp(p, needle.p, needle.n);
}

static bool any_needle_at(const struct matcher *m, const uint8_t *p, const uint8_t *end)
{
	for (size_t k = 0; k < m->n; k++)
		if (needle_at(m->needles[k], p, end))
			return true;
	return false;
}

/* Positions that pass the filter are checked in full, lowest first: the
 * first p + bit in [p, stop) where a needle lies, or NULL. */
static const uint8_t *first_match(const struct matcher *m, const uint8_t *p, uint64_t bits,
				  const uint8_t *stop, const uint8_t *end)
{
	for (; bits; bits &= bits - 1) {
		const uint8_t *q = p + __builtin_ctzll(bits);
		if (q >= stop)
			return NULL;
		if (any_needle_at(m, q, end))
			return q;
	}
	return NULL;
}

/* The first p in [from, stop) where a whole needle lies within [p, end), or
 * NULL.  The vector loop stops where a probe would read past end; the few
 * positions left are checked one by one. */
static const uint8_t *match_tail(const struct matcher *m, const uint8_t *p, const uint8_t *stop,
				 const uint8_t *end)
{
	for (; p < stop; p++)
		if (any_needle_at(m, p, end))
			return p;
	return NULL;
}

/* Where the vector loop of `width`-byte steps must stop. */
static const uint8_t *vector_end(const struct matcher *m, const uint8_t *from, const uint8_t *end,
				 size_t width)
{
	size_t room = (size_t)(end - from), step = width + m->reach;
	return room > step ? end - step : from;
}

/* 16 bytes with the compiler's generic vectors: SSE2 on every x86-64, NEON
 * on arm64. */
static const uint8_t *matcher_next_16(const struct matcher *m, const uint8_t *from, const uint8_t *stop,
				      const uint8_t *end)
{
	typedef uint8_t vec __attribute__((vector_size(16)));
	vec first[MAX_NEEDLES], second[MAX_NEEDLES];
	const uint8_t *vec_end = vector_end(m, from, end, 16), *p = from;

	for (size_t k = 0; k < m->n; k++)
		for (size_t i = 0; i < 16; i++) {
			first[k][i] = m->first[k];
			second[k][i] = m->second[k];
		}
	for (; p < stop && p < vec_end; p += 16) {
		vec here, there, maybe = { 0 };
		uint64_t words[2];
		memcpy(&here, p, sizeof(here));
		for (size_t k = 0; k < m->n; k++) {
			memcpy(&there, p + m->probe[k], sizeof(there));
			maybe |= (vec)(here == first[k]) & (vec)(there == second[k]);
		}
		memcpy(words, &maybe, sizeof(words));
		if (!(words[0] | words[1]))
			continue;
		uint64_t bits = 0;
		for (size_t i = 0; i < 16; i++)
			bits |= (uint64_t)(maybe[i] & 1) << i;
		const uint8_t *hit = first_match(m, p, bits, stop, end);
		if (hit)
			return hit;
	}
	return match_tail(m, p, stop, end);
}

#if MATCHER_WIDE_X86
/* 32 (AVX2) and 64 bytes (AVX-512BW), chosen at run time: the compare
 * results become a bit mask directly, so a block without a candidate costs
 * a few instructions per needle.  This matcher runs at the speed of the
 * pread that feeds it. */
__attribute__((target("avx2"))) static const uint8_t *
matcher_next_32(const struct matcher *m, const uint8_t *from, const uint8_t *stop, const uint8_t *end)
{
	__m256i first[MAX_NEEDLES], second[MAX_NEEDLES];
	const uint8_t *vec_end = vector_end(m, from, end, 32), *p = from;

	for (size_t k = 0; k < m->n; k++) {
		first[k] = _mm256_set1_epi8((char)m->first[k]);
		second[k] = _mm256_set1_epi8((char)m->second[k]);
	}
	for (; p < stop && p < vec_end; p += 32) {
		__m256i here = _mm256_loadu_si256((const __m256i *)p), maybe = _mm256_setzero_si256();
		for (size_t k = 0; k < m->n; k++) {
			__m256i there = _mm256_loadu_si256((const __m256i *)(p + m->probe[k]));
			maybe = _mm256_or_si256(maybe, _mm256_and_si256(_mm256_cmpeq_epi8(here, first[k]),
									_mm256_cmpeq_epi8(there, second[k])));
		}
		uint32_t bits = (uint32_t)_mm256_movemask_epi8(maybe);
		const uint8_t *hit = bits ? first_match(m, p, bits, stop, end) : NULL;
		if (hit)
			return hit;
	}
	return match_tail(m, p, stop, end);
}

__attribute__((target("avx512bw"))) static const uint8_t *
matcher_next_64(const struct matcher *m, const uint8_t *from, const uint8_t *stop, const uint8_t *end)
{
	__m512i first[MAX_NEEDLES], second[MAX_NEEDLES];
	const uint8_t *vec_end = vector_end(m, from, end, 64), *p = from;

	for (size_t k = 0; k < m->n; k++) {
		first[k] = _mm512_set1_epi8((char)m->first[k]);
		second[k] = _mm512_set1_epi8((char)m->second[k]);
	}
	for (; p < stop && p < vec_end; p += 64) {
		__m512i here = _mm512_loadu_si512(p);
		__mmask64 bits = 0;
		for (size_t k = 0; k < m->n; k++) {
			__m512i there = _mm512_loadu_si512(p + m->probe[k]);
			bits |= _mm512_mask_cmpeq_epi8_mask(_mm512_cmpeq_epi8_mask(here, first[k]), there,
							    second[k]);
		}
		const uint8_t *hit = bits ? first_match(m, p, bits, stop, end) : NULL;
		if (hit)
			return hit;
	}
	return match_tail(m, p, stop, end);
}
#endif

static const uint8_t *matcher_next(const struct matcher *m, const uint8_t *from, const uint8_t *stop,
				   const uint8_t *end)
{
#if MATCHER_WIDE_X86
	if (m->width == 64)
		return matcher_next_64(m, from, stop, end);
	if (m->width == 32)
		return matcher_next_32(m, from, stop, end);
#endif
	return matcher_next_16(m, from, stop, end);
}

const uint8_t *scan_find(struct span hay, struct span needle)
{
	struct matcher m;

	if (!needle.n || needle.n > SCAN_NEEDLE_MAX || hay.n < needle.n)
		return NULL;
	matcher_init(&m, &needle, 1);
	return matcher_next(&m, hay.p, hay.p + hay.n - needle.n + 1, hay.p + hay.n);
}

/* ---- the image, sliced among threads -------------------------------------- */

struct slice {
	uint64_t pa;
	struct span bytes;	/* includes the overlap into the next slice */
	size_t own;		/* hits must start before this offset */
};

struct hit_list {
	uint64_t *pa;
	size_t n, cap;
};

/* Workers take slices from a shared counter: balanced, and if a thread
 * cannot be started the others simply take its share. */
struct work_queue {
	const struct image *img;
	const struct matcher *matcher;
	size_t overlap;
	const struct slice *slices;
	size_t nslices;
	atomic_size_t next;
};

struct worker {
	struct work_queue *queue;
	uint8_t *buf;		/* CHUNK + overlap bytes */
	struct hit_list hits[MAX_NEEDLES];
};

static void hit_add(struct hit_list *l, uint64_t pa)
{
	if (l->n >= MAX_HITS_PER_NEEDLE)
		return;
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 64;
		l->pa = xreallocarray(l->pa, l->cap, sizeof(*l->pa));
	}
	l->pa[l->n++] = pa;
}

/* Every needle occurrence starting in [0, own) of bytes at physical pa. */
static void match_bytes(const struct matcher *m, uint64_t pa, struct span bytes, size_t own,
			struct hit_list *hits)
{
	const uint8_t *end = bytes.p + bytes.n, *p = bytes.p;

	while ((p = matcher_next(m, p, bytes.p + own, end))) {
		for (size_t k = 0; k < m->n; k++)
			if (needle_at(m->needles[k], p, end))
				hit_add(&hits[k], pa + (uint64_t)(p - bytes.p));
		p++;
	}
}

/* A slice, a chunk at a time through a buffer that stays in cache. */
static void match_slice(struct worker *w, const struct slice *s)
{
	const struct work_queue *q = w->queue;

	for (size_t off = 0; off < s->own; off += CHUNK) {
		size_t own = s->own - off < CHUNK ? s->own - off : CHUNK;
		size_t len = s->bytes.n - off < own + q->overlap ? s->bytes.n - off : own + q->overlap;
		struct span chunk = { s->bytes.p + off, len };
		chunk.p = image_read(q->img, chunk, w->buf);
		match_bytes(q->matcher, s->pa + off, chunk, own, w->hits);
	}
}

static void work(void *arg)
{
	struct worker *w = arg;
	size_t i;

	while ((i = atomic_fetch_add(&w->queue->next, 1)) < w->queue->nslices)
		match_slice(w, &w->queue->slices[i]);
}

static int pa_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static size_t thread_count(uint64_t bytes)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	size_t n = cpus > 0 ? (size_t)cpus : 1;
	if (n > MAX_THREADS)
		n = MAX_THREADS;
	if (bytes / MIN_SLICE < n)
		n = bytes / MIN_SLICE ? (size_t)(bytes / MIN_SLICE) : 1;
	return n;
}

/* Cut every run into slices of about equal size; each slice overlaps the next
 * by the longest needle so that no occurrence is split. */
static struct slice *make_slices(const struct image *img, size_t overlap, size_t per_slice, size_t *n)
{
	size_t cap = 0;
	struct slice *v = NULL;

	*n = 0;
	for (size_t r = 0; r < img->nruns; r++) {
		const struct image_run *run = &img->runs[r];
		for (size_t off = 0; off < run->bytes.n; off += per_slice) {
			size_t own = run->bytes.n - off < per_slice ? run->bytes.n - off : per_slice;
			size_t len = own + overlap <= run->bytes.n - off ? own + overlap : run->bytes.n - off;
			if (*n == cap) {
				cap = cap ? cap * 2 : 64;
				v = xreallocarray(v, cap, sizeof(*v));
			}
			v[(*n)++] = (struct slice){ run->pa + off, { run->bytes.p + off, len }, own };
		}
	}
	return v;
}

/* Needles are the caller's constants: a bad one is a bug, not bad input. */
static _Noreturn void bad_needles(const char *rule)
{
	fprintf(stderr, "btf2isf: internal error: scan_image takes %s\n", rule);
	abort();
}

/* One needle's hits from all workers, in address order. */
static void gather_hits(struct worker *w, size_t nthreads, size_t k, struct scan_hits *out)
{
	size_t total = 0;

	for (size_t t = 0; t < nthreads; t++)
		total += w[t].hits[k].n;
	out->pa = xreallocarray(NULL, total ? total : 1, sizeof(uint64_t));
	out->n = 0;
	for (size_t t = 0; t < nthreads; t++) {
		if (w[t].hits[k].n)
			memcpy(out->pa + out->n, w[t].hits[k].pa, w[t].hits[k].n * sizeof(uint64_t));
		out->n += w[t].hits[k].n;
		free(w[t].hits[k].pa);
	}
	qsort(out->pa, out->n, sizeof(uint64_t), pa_cmp);
}

void scan_image(const struct image *img, const struct span *needles, size_t nneedles,
		struct scan_hits *hits)
{
	struct worker w[MAX_THREADS];
	struct thread_job helpers[MAX_THREADS];
	size_t nthreads = thread_count(img->present), nslices, longest = 0;
	struct matcher m;

	if (!nneedles || nneedles > MAX_NEEDLES)
		bad_needles("1 to 4 needles");
	for (size_t k = 0; k < nneedles; k++) {
		if (!needles[k].n || needles[k].n > SCAN_NEEDLE_MAX)
			bad_needles("needles of 1 to 64 bytes");
		if (needles[k].n > longest)
			longest = needles[k].n;
	}
	matcher_init(&m, needles, nneedles);
	/* Slices much smaller than a thread's share keep threads balanced when
	 * runs differ in size. */
	struct slice *slices = make_slices(img, longest - 1, SLICE, &nslices);
	struct work_queue queue = { .img = img, .matcher = &m, .overlap = longest - 1,
				    .slices = slices, .nslices = nslices };

	atomic_init(&queue.next, 0);
	memset(w, 0, sizeof(w));
	for (size_t t = 0; t < nthreads; t++)
		w[t] = (struct worker){ .queue = &queue, .buf = xmalloc(CHUNK + longest) };
	for (size_t t = 1; t < nthreads; t++)
		thread_job_start(&helpers[t], work, &w[t]);
	work(&w[0]);
	for (size_t t = 1; t < nthreads; t++)
		thread_job_join(&helpers[t]);
	for (size_t t = 0; t < nthreads; t++)
		free(w[t].buf);
	for (size_t k = 0; k < nneedles; k++)
		gather_hits(w, nthreads, k, &hits[k]);
	free(slices);
}

void scan_hits_free(struct scan_hits *h, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(h[i].pa);
		h[i].pa = NULL;
		h[i].n = 0;
	}
}

#include "scan.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#define MAX_NEEDLES 4
#define MAX_THREADS 8
#define MIN_SLICE (8u << 20)	/* below this, threads cost more than they save */
#define MAX_HITS_PER_NEEDLE (1u << 20)	/* hostile images: bound the memory */

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
	const struct slice *slices;
	size_t nslices;
	atomic_size_t next;
};

struct worker {
	struct work_queue *queue;
	const struct span *needles;
	size_t nneedles;
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

static void *work(void *arg)
{
	struct worker *w = arg;
	size_t i;

	while ((i = atomic_fetch_add(&w->queue->next, 1)) < w->queue->nslices) {
		const struct slice *s = &w->queue->slices[i];
		for (size_t k = 0; k < w->nneedles; k++) {
			const uint8_t *p = s->bytes.p, *end = p + s->bytes.n;
			while (p < end) {
				const uint8_t *hit = memmem(p, (size_t)(end - p), w->needles[k].p, w->needles[k].n);
				if (!hit || (size_t)(hit - s->bytes.p) >= s->own)
					break;
				hit_add(&w->hits[k], s->pa + (uint64_t)(hit - s->bytes.p));
				p = hit + 1;
			}
		}
	}
	return NULL;
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

void scan_image(const struct image *img, const struct span *needles, size_t nneedles,
		struct scan_hits *hits)
{
	struct worker w[MAX_THREADS];
	pthread_t tid[MAX_THREADS];
	size_t nthreads = thread_count(img->present), nslices, longest = 0;

	if (nneedles > MAX_NEEDLES)
		nneedles = MAX_NEEDLES;
	for (size_t k = 0; k < nneedles; k++)
		if (needles[k].n > longest)
			longest = needles[k].n;
	/* Slices much smaller than a thread's share keep threads balanced when
	 * runs differ in size; 4 MiB also keeps memmem's restarts negligible. */
	struct slice *slices = make_slices(img, longest - 1, 4u << 20, &nslices);
	struct work_queue queue = { .slices = slices, .nslices = nslices };
	size_t started = 1;

	atomic_init(&queue.next, 0);
	memset(w, 0, sizeof(w));
	for (size_t t = 0; t < nthreads; t++)
		w[t] = (struct worker){ .queue = &queue, .needles = needles, .nneedles = nneedles };
	for (; started < nthreads; started++)
		if (pthread_create(&tid[started], NULL, work, &w[started]) != 0)
			break;
	work(&w[0]);
	for (size_t t = 1; t < started; t++)
		pthread_join(tid[t], NULL);
	nthreads = started;

	for (size_t k = 0; k < nneedles; k++) {
		size_t total = 0;
		for (size_t t = 0; t < nthreads; t++)
			total += w[t].hits[k].n;
		hits[k].pa = xreallocarray(NULL, total ? total : 1, sizeof(uint64_t));
		hits[k].n = 0;
		for (size_t t = 0; t < nthreads; t++) {
			if (w[t].hits[k].n)
				memcpy(hits[k].pa + hits[k].n, w[t].hits[k].pa, w[t].hits[k].n * sizeof(uint64_t));
			hits[k].n += w[t].hits[k].n;
			free(w[t].hits[k].pa);
		}
		qsort(hits[k].pa, hits[k].n, sizeof(uint64_t), pa_cmp);
	}
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

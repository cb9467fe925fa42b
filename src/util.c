#include "util.h"

#include "log.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <malloc.h>
#include <nettle/sha2.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static void oom(size_t n)
{
	fprintf(stderr, "btf2isf: out of memory allocating %zu bytes\n", n);
	exit(1);
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		oom(n);
	return p;
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (!p)
		oom(n * size);
	return p;
}

void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (!q)
		oom(n);
	return q;
}

void *xreallocarray(void *p, size_t n, size_t size)
{
	if (size && n > SIZE_MAX / size)
		oom(SIZE_MAX);
	return xrealloc(p, n * size);
}

static void *volatile heap_first_stretch;	/* kept for good, never touched */

void heap_prefer_huge_pages(void)
{
	const size_t reserve = 256u << 20, huge = 2u << 20;

	mallopt(M_ARENA_MAX, 1);		/* threads share the one heap */
	mallopt(M_MMAP_THRESHOLD, 32 << 20);	/* big buffers come from it too */
	mallopt(M_TRIM_THRESHOLD, INT_MAX);	/* and it never shrinks */
	mallopt(M_TOP_PAD, (int)reserve);
	uintptr_t before = (uintptr_t)sbrk(0);
	/* The heap starts at the next 2 MiB boundary: the bytes below it could
	 * only have 4 KiB pages, and the first allocations land there. */
	if (before != (uintptr_t)-1 && before % huge && sbrk((intptr_t)(huge - before % huge)) != (void *)-1)
		before = (uintptr_t)sbrk(0);
	/* Growing the heap by the reserve writes malloc's first header before
	 * the advice can apply, which gives the first 2 MiB 4 KiB pages: this
	 * allocation keeps that stretch, so the rest starts at the next 2 MiB. */
	heap_first_stretch = malloc(huge - 64);
	mallopt(M_TOP_PAD, 16 << 20);
	uintptr_t after = (uintptr_t)sbrk(0);
	uintptr_t lo = (before + huge - 1) & ~(uintptr_t)(huge - 1), hi = after & ~(uintptr_t)(huge - 1);
	if (before != (uintptr_t)-1 && after - before >= reserve && hi > lo)
		madvise((void *)lo, hi - lo, MADV_HUGEPAGE);	/* advice: errors do not matter */
}

char *xstrdup(const char *s) { return xstrndup(s, strlen(s)); }

char *xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);
	memcpy(p, s, n);
	p[n] = 0;
	return p;
}

void buf_reserve(struct buf *b, size_t extra)
{
	if (b->cap - b->len >= extra)
		return;
	size_t cap = b->cap ? b->cap : 256;
	while (cap - b->len < extra) {
		if (cap > SIZE_MAX / 2)
			oom(SIZE_MAX);
		cap *= 2;
	}
	b->p = xrealloc(b->p, cap);
	b->cap = cap;
}

void buf_append(struct buf *b, const void *data, size_t n)
{
	buf_reserve(b, n);
	memcpy(b->p + b->len, data, n);
	b->len += n;
}

static const char digit_pairs[201] =
	"00010203040506070809101112131415161718192021222324252627282930313233343536373839"
	"40414243444546474849505152535455565758596061626364656667686970717273747576777879"
	"8081828384858687888990919293949596979899";

static inline void put_pair(char *p, unsigned d)
{
	memcpy(p, digit_pairs + 2 * d, 2);
}

/* Writes v < 10^8 backwards from end, two digits per step; returns the
 * first digit.  32-bit arithmetic: cheaper than 64-bit division. */
static char *format_u32_small(char *end, uint32_t v)
{
	char *p = end;

	while (v >= 100) {
		p -= 2;
		put_pair(p, v % 100);
		v /= 100;
	}
	if (v >= 10) {
		p -= 2;
		put_pair(p, v);
	} else {
		*--p = (char)('0' + v);
	}
	return p;
}

/* Kernel addresses have 20 digits and a profile has hundreds of thousands
 * of them: the number is cut into 8-digit groups, each formatted in 32-bit
 * arithmetic. */
char *format_u64(char *end, uint64_t v)
{
	char *p = end;

	while (v >= 100000000) {
		uint32_t group = (uint32_t)(v % 100000000);
		v /= 100000000;
		p -= 8;
		put_pair(p, group / 1000000);
		put_pair(p + 2, group / 10000 % 100);
		put_pair(p + 4, group / 100 % 100);
		put_pair(p + 6, group % 100);
	}
	return format_u32_small(p, (uint32_t)v);
}

void buf_append_uint(struct buf *b, uint64_t v)
{
	char tmp[20], *end = tmp + sizeof(tmp), *p = format_u64(end, v);
	buf_append(b, p, (size_t)(end - p));
}

void buf_append_int(struct buf *b, int64_t v)
{
	if (v < 0)
		buf_append(b, "-", 1);
	/* Negated in unsigned arithmetic: -INT64_MIN overflows int64_t. */
	buf_append_uint(b, v < 0 ? 0 - (uint64_t)v : (uint64_t)v);
}

void buf_free(struct buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

int fd_read_upto(int fd, struct buf *b, size_t limit, bool *eof)
{
	*eof = false;
	while (b->len < limit) {
		if (b->cap == b->len) {
			/* Grow by doubling, but never past the limit: a capped read
			 * of a stream must not reserve twice the cap. */
			size_t cap = b->cap < (64u << 10) ? (64u << 10) : b->cap * 2;
			if (cap > limit || cap < b->cap)
				cap = limit;
			b->p = xrealloc(b->p, cap);
			b->cap = cap;
		}
		ssize_t r = read(fd, b->p + b->len, b->cap - b->len);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (r == 0) {
			*eof = true;
			break;
		}
		b->len += (size_t)r;
	}
	return 0;
}

const char *file_kind_name(unsigned mode)
{
	switch (mode & S_IFMT) {
	case S_IFIFO: return "a pipe";
	case S_IFCHR: return "a character device";
	case S_IFBLK: return "a block device";
	case S_IFSOCK: return "a socket";
	case S_IFDIR: return "a directory";
	default: return "a file";
	}
}

/* "64 KiB", "256 MiB", "1 GiB": the caps are whole units. */
static void size_text(size_t n, char *out, size_t len)
{
	if (n >= (1u << 30) && n % (1u << 30) == 0)
		snprintf(out, len, "%zu GiB", n >> 30);
	else if (n >= (1u << 20) && n % (1u << 20) == 0)
		snprintf(out, len, "%zu MiB", n >> 20);
	else
		snprintf(out, len, "%zu KiB", n >> 10);
}

int map_stream(int fd, const char *name, unsigned mode, struct buf *b, size_t max, const char *what,
	       struct mapped_file *mf)
{
	bool eof;

	/* One byte more than the cap tells "exactly the cap" from "more". */
	if (fd_read_upto(fd, b, max < SIZE_MAX ? max + 1 : max, &eof) < 0) {
		int e = errno;
		buf_free(b);
		return err_set("%s: read failed: %s", name, strerror(e));
	}
	if (b->len > max) {
		char cap[32];
		size_text(max, cap, sizeof(cap));
		buf_free(b);
		return err_set("%s: %s that gave more than %s, more than %s can be: is it the right file?",
			       name, (mode & S_IFMT) == S_IFREG ? "a /proc or /sys file" : file_kind_name(mode),
			       cap, what);
	}
	mf->data = b->p;
	mf->size = b->len;
	mf->heap = true;
	memset(b, 0, sizeof(*b));	/* adopted by mf */
	return 0;
}

int map_fd(int fd, const char *name, size_t max, const char *what, bool (*plausible)(struct span head),
	   struct mapped_file *mf)
{
	struct stat st;
	struct buf b = { 0 };

	memset(mf, 0, sizeof(*mf));
	if (fstat(fd, &st) < 0)
		return err_set("%s: cannot stat: %s", name, strerror(errno));
	if (S_ISDIR(st.st_mode))
		return err_set("%s: is a directory", name);
	/* procfs and sysfs report sizes that are 0 or wrong: read those. */
	if (S_ISREG(st.st_mode) && st.st_size > 0 && strncmp(name, "/sys/", 5) != 0 &&
	    strncmp(name, "/proc/", 6) != 0) {
		void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
		if (p != MAP_FAILED) {
			mf->data = p;
			mf->size = (size_t)st.st_size;
			return 0;
		}
	}
	if (plausible) {
		/* Judge the first bytes before reading up to the cap. */
		bool eof;
		if (fd_read_upto(fd, &b, STREAM_SNIFF_BYTES, &eof) < 0) {
			int e = errno;
			buf_free(&b);
			return err_set("%s: read failed: %s", name, strerror(e));
		}
		if (!plausible((struct span){ b.p, b.len })) {
			buf_free(&b);
			return err_set("%s: %s whose first bytes are not %s", name,
				       S_ISREG(st.st_mode) ? "a /proc or /sys file" : file_kind_name(st.st_mode), what);
		}
	}
	return map_stream(fd, name, st.st_mode, &b, max, what, mf);
}

int map_file_max(const char *path, size_t max, const char *what, bool (*plausible)(struct span head),
		 struct mapped_file *mf)
{
	int fd, ret;

	memset(mf, 0, sizeof(*mf));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_set("%s: cannot open: %s", path, strerror(errno));
	ret = map_fd(fd, path, max, what, plausible, mf);
	close(fd);
	return ret;
}

int map_file(const char *path, struct mapped_file *mf)
{
	return map_file_max(path, CAP_KERNEL_FILE, "an input file", NULL, mf);
}

void unmap_file(struct mapped_file *mf)
{
	if (mf->heap)
		free((void *)mf->data);
	else if (mf->data && mf->size)
		munmap((void *)mf->data, mf->size);
	memset(mf, 0, sizeof(*mf));
}

void sha256_hex(const void *data, size_t n, char out[65])
{
	struct sha256_ctx ctx;
	uint8_t md[SHA256_DIGEST_SIZE];

	sha256_init(&ctx);
	sha256_update(&ctx, n, data);
	sha256_digest(&ctx, sizeof(md), md);
	for (unsigned i = 0; i < sizeof(md); i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

double now_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A new thread is queued on its creator's core, and while the creator is
 * busy it waits there for the next scheduler tick (4 ms on this machine:
 * as long as a whole scan) before an idle core takes it.  So it starts on
 * one of the other cores the process may use, and widens back to all of them
 * at once, leaving the scheduler free from then on. */
static cpu_set_t process_cpus;
static bool process_cpus_known;
static pthread_once_t process_cpus_once = PTHREAD_ONCE_INIT;

static void read_process_cpus(void)
{
	process_cpus_known = sched_getaffinity(0, sizeof(process_cpus), &process_cpus) == 0;
}

/* attr made to start a thread on another core; false when there is none. */
static bool start_elsewhere(pthread_attr_t *attr)
{
	pthread_once(&process_cpus_once, read_process_cpus);
	int here = sched_getcpu();
	if (!process_cpus_known || here < 0 || here >= CPU_SETSIZE || !CPU_ISSET(here, &process_cpus) ||
	    CPU_COUNT(&process_cpus) < 2)
		return false;
	cpu_set_t others = process_cpus;
	CPU_CLR(here, &others);
	if (pthread_attr_init(attr) != 0)
		return false;
	if (pthread_attr_setaffinity_np(attr, sizeof(others), &others) == 0)
		return true;
	pthread_attr_destroy(attr);
	return false;
}

static void *thread_job_main(void *arg)
{
	struct thread_job *t = arg;
	if (t->elsewhere)
		pthread_setaffinity_np(pthread_self(), sizeof(process_cpus), &process_cpus);
	t->fn(t->arg);
	return NULL;
}

void thread_job_start(struct thread_job *t, void (*fn)(void *), void *arg)
{
	pthread_t tid;
	pthread_attr_t attr;

	t->fn = fn;
	t->arg = arg;
	t->elsewhere = start_elsewhere(&attr);
	t->started = pthread_create(&tid, t->elsewhere ? &attr : NULL, thread_job_main, t) == 0;
	if (t->elsewhere)
		pthread_attr_destroy(&attr);
	if (t->started)
		t->thread = (unsigned long)tid;
	else
		fn(arg);	/* no thread: do it now */
}

void thread_job_join(struct thread_job *t)
{
	if (t->started)
		pthread_join((pthread_t)t->thread, NULL);
	t->started = false;
}

static void hash_job_run(void *arg)
{
	struct hash_job *job = arg;
	sha256_hex(job->data.p, job->data.n, job->out);
}

void sha256_hex_start(struct hash_job *job, struct span data, char out[65])
{
	job->data = data;
	job->out = out;
	thread_job_start(&job->job, hash_job_run, job);
}

void sha256_hex_finish(struct hash_job *job) { thread_job_join(&job->job); }

char *base64_encode(const void *data, size_t n)
{
	static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const uint8_t *s = data;
	char *out = xmalloc(4 * ((n + 2) / 3) + 1), *o = out;
	size_t i;

	for (i = 0; i + 2 < n; i += 3) {
		uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 | s[i + 2];
		*o++ = tbl[v >> 18];
		*o++ = tbl[(v >> 12) & 63];
		*o++ = tbl[(v >> 6) & 63];
		*o++ = tbl[v & 63];
	}
	if (i < n) {
		uint32_t v = (uint32_t)s[i] << 16 | (i + 1 < n ? (uint32_t)s[i + 1] << 8 : 0);
		*o++ = tbl[v >> 18];
		*o++ = tbl[(v >> 12) & 63];
		*o++ = i + 1 < n ? tbl[(v >> 6) & 63] : '=';
		*o++ = '=';
	}
	*o = 0;
	return out;
}

const char *path_basename(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

char **dir_names_sorted(const char *path, size_t *n)
{
	char **names = NULL;
	size_t cap = 0;
	struct dirent *de;
	DIR *dh;

	*n = 0;
	if (!(dh = opendir(path)))
		return NULL;
	while ((de = readdir(dh))) {
		if (de->d_name[0] == '.')
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 64;
			names = xreallocarray(names, cap, sizeof(*names));
		}
		names[(*n)++] = xstrdup(de->d_name);
	}
	closedir(dh);
	if (*n)
		qsort(names, *n, sizeof(*names), name_cmp);
	return names ? names : xcalloc(1, sizeof(*names));
}

bool path_join(char *out, size_t n, const char *dir, const char *name)
{
	size_t a = strlen(dir), b = strlen(name);

	if (a + 1 + b >= n)
		return false;
	memcpy(out, dir, a);
	out[a] = '/';
	memcpy(out + a + 1, name, b + 1);
	return true;
}

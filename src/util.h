/* Small helpers shared by every module: allocation, bounds-checked little-endian
 * reads, growable byte buffers, read-only file mapping, SHA-256. */
#ifndef B2I_UTIL_H
#define B2I_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
/* How many entries ahead a walk over symbol names in name order prefetches
 * them: such walks are cache-miss bound, the names lying in address order. */
#define NAME_PREFETCH 8

/* Fresh memory is dear in virtual machines: here a 4 KiB page fault costs
 * about 10 us and a profile of a memory image touched ~6,500 pages, a third
 * of its CPU time.  Called first thing in main(): every thread then
 * allocates from one heap, grown once by 256 MiB of address space (touched
 * only as used) and advised to use 2 MiB pages. */
void heap_prefer_huge_pages(void);

/* Allocation failure is fatal: message + exit(1). */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
void *xreallocarray(void *p, size_t n, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

/* Unaligned little-endian loads.  Callers must have checked bounds. */
static inline uint16_t rd_le16(const void *p) { uint16_t v; memcpy(&v, p, 2); return v; }
static inline uint32_t rd_le32(const void *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static inline uint64_t rd_le64(const void *p) { uint64_t v; memcpy(&v, p, 8); return v; }

/* A borrowed, bounds-carrying view of bytes. */
struct span {
	const uint8_t *p;
	size_t n;
};

/* True when [off, off+len) lies inside s (overflow-safe). */
static inline bool span_has(struct span s, uint64_t off, uint64_t len)
{
	return off <= s.n && len <= s.n - off;
}

/* Growable byte buffer (owned). */
struct buf {
	uint8_t *p;
	size_t len, cap;
};
void buf_reserve(struct buf *b, size_t extra);
void buf_append(struct buf *b, const void *data, size_t n);
void buf_free(struct buf *b);
/* v in decimal, as printf's %llu / %lld would put it, without printf. */
void buf_append_uint(struct buf *b, uint64_t v);
void buf_append_int(struct buf *b, int64_t v);
/* The same digits written backwards from end (room for 20); returns the
 * first.  The profile writer's hot path. */
char *format_u64(char *end, uint64_t v);

/* Read-only private mapping of a whole file (or, for non-mappable inputs such
 * as pipes and /sys files, a heap copy).  Empty files map to size 0. */
struct mapped_file {
	const uint8_t *data;
	size_t size;
	bool heap;
};

/* Caps on what is read from an input that cannot be mapped (a pipe, a
 * character device, a /proc or /sys file), by what it must be; past the cap
 * the read stops with an error instead of filling memory (/dev/zero). */
#define CAP_BANNER ((size_t)64 << 10)		/* a banner is < 1 KiB, /proc/version too */
#define CAP_SYMBOL_MAP ((size_t)256 << 20)	/* /proc/kallsyms with modules ~ 20 MiB, System.map ~ 5 MiB */
#define CAP_SYMDB ((size_t)256 << 20)		/* symdb/symdb.txt ~ 3 MiB */
/* A vmlinux with DWARF is up to ~1 GiB (raw BTF ~ 10 MiB): also the cap on a
 * decompressed vmlinuz (kimage.c). */
#define CAP_KERNEL_FILE ((size_t)1 << 30)

/* How much of a stream is read before judging whether to read the rest. */
#define STREAM_SNIFF_BYTES ((size_t)64 << 10)

/* Maps path; what a stream must be ("a banner") names it past the cap `max`,
 * or when plausible (may be NULL) rejects its first STREAM_SNIFF_BYTES (so
 * /dev/zero is refused at once).  Regular files are mapped whole, unjudged.
 * map_file() uses CAP_KERNEL_FILE. */
int map_file_max(const char *path, size_t max, const char *what, bool (*plausible)(struct span head),
		 struct mapped_file *mf);
int map_file(const char *path, struct mapped_file *mf);
/* The same on an open fd (not closed); name is for messages. */
int map_fd(int fd, const char *name, size_t max, const char *what, bool (*plausible)(struct span head),
	   struct mapped_file *mf);
/* A stream's bytes: those already in *b (adopted: *b is emptied) and the rest
 * of fd, at most max in all; mode (st_mode) names the kind in messages. */
int map_stream(int fd, const char *name, unsigned mode, struct buf *b, size_t max, const char *what,
	       struct mapped_file *mf);
/* read(2) into b until EOF (*eof set) or until b holds limit bytes; growth
 * never reserves past limit.  -1 with errno on a read error. */
int fd_read_upto(int fd, struct buf *b, size_t limit, bool *eof);
/* "a pipe", "a character device", ... for an st_mode. */
const char *file_kind_name(unsigned mode);
void unmap_file(struct mapped_file *mf);

/* Lower-case hex SHA-256 of data into out[65]. */
void sha256_hex(const void *data, size_t n, char out[65]);

/* Monotonic clock in seconds, for the timings -v reports. */
double now_seconds(void);

/* fn(arg) on another core while the caller goes on (or at once, when no
 * thread can be started); thread_job_join() waits for it.  Join a started job
 * exactly once (joining an unstarted or joined one does nothing). */
struct thread_job {
	void (*fn)(void *);
	void *arg;
	unsigned long thread;	/* pthread_t, kept opaque here */
	bool started;
	bool elsewhere;		/* started on another core than its creator's */
};
void thread_job_start(struct thread_job *t, void (*fn)(void *), void *arg);
void thread_job_join(struct thread_job *t);

/* sha256_hex() as a thread job: hashing a 60 MB kernel takes as long as a fifth of
 * a profile run. */
struct hash_job {
	struct span data;
	char *out;
	struct thread_job job;
};
void sha256_hex_start(struct hash_job *job, struct span data, char out[65]);
void sha256_hex_finish(struct hash_job *job);

/* Standard base64 with padding; returns an owned NUL-terminated string. */
char *base64_encode(const void *data, size_t n);

/* The names in directory `path`, dot files left out, in strcmp order: an
 * owned array of *n owned strings (free each, then the array), or NULL with
 * errno set when the directory cannot be opened. */
char **dir_names_sorted(const char *path, size_t *n);

/* DIR/NAME into out[n]; false when it does not fit. */
bool path_join(char *out, size_t n, const char *dir, const char *name);

/* Last path component (borrowed pointer into path). */
const char *path_basename(const char *path);

#endif

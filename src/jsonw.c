/* Output sink (stdout or an atomically replaced file, optionally xz/gzip
 * compressed) and a streaming JSON writer.  See jsonw.h. */
#include "jsonw.h"

#include "log.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <lzma.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

/* ------------------------------------------------------------------------ */
/* Sink                                                                      */
/* ------------------------------------------------------------------------ */

/* Compression settings; build-time knobs so benchmarks can try others.
 *
 * xz -3, not -6: on the real 38 MB Debian 6.1 profile -6 takes 4x the CPU
 * (7.9 s vs 1.9 s) for an 8% smaller file (1.93 vs 2.11 MB); -3 is the knee
 * of the curve (-2: 1.2 s, 2.21 MB; -9: 8.0 s, 1.90 MB).  gzip -6 (zlib's
 * default) costs 0.2 s more than -1 for a 20% smaller file. */
#ifndef SINK_XZ_PRESET
#define SINK_XZ_PRESET 3
#endif
#ifndef SINK_XZ_BLOCK_SIZE
#define SINK_XZ_BLOCK_SIZE 0 /* liblzma default: 3 x dictionary = 12 MiB at -3 */
#endif
/* Each xz thread holds its own match finder and block buffers (~40 MiB at
 * -3, ~100 MiB at -6); a profile is only a few blocks, so more threads than
 * this would cost memory without adding speed. */
#ifndef SINK_XZ_MAX_THREADS
#define SINK_XZ_MAX_THREADS 8
#endif
#ifndef SINK_GZ_LEVEL
#define SINK_GZ_LEVEL 6
#endif

#define SINK_ZBUF_SIZE (64 * 1024)

enum sink_codec { CODEC_NONE, CODEC_XZ, CODEC_GZ };

struct sink {
	int fd;
	bool is_stdout;
	bool failed;		/* sticky: once a write failed, everything fails */
	enum sink_codec codec;
	char *name;		/* the target as the user named it, for messages */
	char *tmp_path;		/* NULL for stdout */
	lzma_stream xz;
	z_stream gz;
	uint8_t *zbuf;		/* compressed output waiting for write(2) */
	uint64_t written;	/* bytes written to fd */
	uint64_t flushing;	/* of which writeback was started */
};

/* A file's data goes to disk while the rest is rendered, so that the fsync
 * before the rename waits for the last few MB only, not the whole profile
 * (15 ms of a 0.1 s run). */
#define SINK_WRITEBACK_STEP (4u << 20)

static void start_writeback(struct sink *s)
{
	if (s->is_stdout || s->written - s->flushing < SINK_WRITEBACK_STEP)
		return;
	/* Advice: fsync reports any I/O error. */
	sync_file_range(s->fd, (off_t)s->flushing, (off_t)(s->written - s->flushing), SYNC_FILE_RANGE_WRITE);
	s->flushing = s->written;
}

static const char *const sink_suffix_hint = "use .json, .json.xz or .json.gz";

static bool has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && memcmp(s + n - m, suffix, m) == 0;
}

static int codec_from_name(const char *path, enum sink_codec *codec)
{
	if (has_suffix(path, ".json"))
		*codec = CODEC_NONE;
	else if (has_suffix(path, ".json.xz"))
		*codec = CODEC_XZ;
	else if (has_suffix(path, ".json.gz"))
		*codec = CODEC_GZ;
	else
		return err_set("%s: unsupported output name; %s", path, sink_suffix_hint);
	return 0;
}

/* Marks the sink failed and records why; always returns -1. */
static int sink_fail(struct sink *s, const char *what, const char *why)
{
	s->failed = true;
	return err_set("%s: %s: %s", s->name, what, why);
}

/* write(2) until everything is out: pipes and signals give short writes. */
static int write_fd_all(struct sink *s, const void *data, size_t n)
{
	const uint8_t *p = data;

	while (n) {
		ssize_t r = write(s->fd, p, n);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return sink_fail(s, "write failed", strerror(errno));
		}
		p += r;
		n -= (size_t)r;
		s->written += (uint64_t)r;
	}
	start_writeback(s);
	return 0;
}

static int write_zbuf(struct sink *s, size_t n)
{
	return n ? write_fd_all(s, s->zbuf, n) : 0;
}

/* --- xz ------------------------------------------------------------------ */

static const char *lzma_strerror(lzma_ret r)
{
	switch (r) {
	case LZMA_MEM_ERROR: return "out of memory";
	case LZMA_MEMLIMIT_ERROR: return "memory limit reached";
	case LZMA_OPTIONS_ERROR: return "unsupported compression options";
	case LZMA_UNSUPPORTED_CHECK: return "unsupported integrity check";
	case LZMA_DATA_ERROR: return "data error";
	case LZMA_BUF_ERROR: return "no progress possible";
	case LZMA_PROG_ERROR: return "internal error (LZMA_PROG_ERROR)";
	default: return "unexpected liblzma error";
	}
}

/* CPUs this process may run on (taskset/cgroup cpusets), else online CPUs. */
static uint32_t usable_cpus(void)
{
	cpu_set_t set;
	long n = 0;

	if (sched_getaffinity(0, sizeof(set), &set) == 0)
		n = CPU_COUNT(&set);
	if (n < 1)
		n = sysconf(_SC_NPROCESSORS_ONLN);
	return n < 1 ? 1 : (uint32_t)n;
}

static uint32_t xz_preset = SINK_XZ_PRESET, xz_threads;

void sink_set_xz(uint32_t preset, uint32_t threads)
{
	xz_preset = preset;
	xz_threads = threads;
}

static int xz_init(struct sink *s)
{
	lzma_mt mt = {
		.threads = xz_threads ? xz_threads : usable_cpus(),
		.block_size = SINK_XZ_BLOCK_SIZE,
		.timeout = 0,
		.preset = xz_preset,
		.check = LZMA_CHECK_CRC64,
	};
	if (mt.threads > SINK_XZ_MAX_THREADS)
		mt.threads = SINK_XZ_MAX_THREADS;

	s->xz = (lzma_stream)LZMA_STREAM_INIT;
	lzma_ret r = lzma_stream_encoder_mt(&s->xz, &mt);
	if (r != LZMA_OK)
		return err_set("%s: cannot start xz compressor: %s", s->name, lzma_strerror(r));
	return 0;
}

/* Run the encoder over `data` (LZMA_RUN) or until the stream ends (LZMA_FINISH). */
static int xz_code(struct sink *s, const void *data, size_t n, lzma_action action)
{
	lzma_stream *z = &s->xz;

	z->next_in = data;
	z->avail_in = n;
	for (;;) {
		z->next_out = s->zbuf;
		z->avail_out = SINK_ZBUF_SIZE;
		lzma_ret r = lzma_code(z, action);
		if (write_zbuf(s, SINK_ZBUF_SIZE - z->avail_out) < 0)
			return -1;
		if (r == LZMA_STREAM_END)
			return 0;
		if (r != LZMA_OK)
			return sink_fail(s, "xz compression failed", lzma_strerror(r));
		if (action == LZMA_RUN && z->avail_in == 0)
			return 0;
	}
}

/* --- gzip ---------------------------------------------------------------- */

static int gz_init(struct sink *s)
{
	memset(&s->gz, 0, sizeof(s->gz));
	/* windowBits 15 + 16 = gzip wrapper instead of zlib's. */
	int r = deflateInit2(&s->gz, SINK_GZ_LEVEL, Z_DEFLATED, 15 + 16, 8,
			     Z_DEFAULT_STRATEGY);
	if (r != Z_OK)
		return err_set("%s: cannot start gzip compressor: %s", s->name,
			       r == Z_MEM_ERROR ? "out of memory" : "bad parameters");
	return 0;
}

/* One deflate() pass over at most UINT_MAX input bytes (avail_in is a uInt). */
static int gz_code_chunk(struct sink *s, const void *data, uInt n, int flush)
{
	z_stream *z = &s->gz;

	z->next_in = (Bytef *)(uintptr_t)data;	/* zlib's API is not const-clean */
	z->avail_in = n;
	for (;;) {
		z->next_out = s->zbuf;
		z->avail_out = SINK_ZBUF_SIZE;
		int r = deflate(z, flush);
		if (write_zbuf(s, SINK_ZBUF_SIZE - z->avail_out) < 0)
			return -1;
		if (r == Z_STREAM_END)
			return 0;
		if (r != Z_OK && r != Z_BUF_ERROR)
			return sink_fail(s, "gzip compression failed", z->msg ? z->msg : "zlib error");
		/* Without Z_FINISH, done once the input is consumed and deflate
		 * had output space left (so it holds nothing it could emit). */
		if (flush == Z_NO_FLUSH && z->avail_in == 0 && z->avail_out != 0)
			return 0;
	}
}

static int gz_code(struct sink *s, const void *data, size_t n, int flush)
{
	const uint8_t *p = data;
	const size_t max_chunk = 1u << 30;

	while (n > max_chunk) {
		if (gz_code_chunk(s, p, (uInt)max_chunk, Z_NO_FLUSH) < 0)
			return -1;
		p += max_chunk;
		n -= max_chunk;
	}
	return gz_code_chunk(s, p, (uInt)n, flush);
}

/* --- open / write / close ------------------------------------------------ */

/* Permissions a plain open(O_CREAT, 0666) would give, i.e. 0666 & ~umask.
 * umask() can only be read by setting it, hence the dance. */
static mode_t default_file_mode(void)
{
	mode_t mask = umask(0);
	umask(mask);
	return 0666 & ~mask;
}

/* "<dir>/.<base>.XXXXXX": same directory, so rename() is atomic; hidden. */
static char *temp_template(const char *path)
{
	const char *base = path_basename(path);
	size_t dir_len = (size_t)(base - path);
	size_t n = dir_len + 1 + strlen(base) + 8;
	char *t = xmalloc(n);

	snprintf(t, n, "%.*s.%s.XXXXXX", (int)dir_len, path, base);
	return t;
}

/* Directory part of path, without the trailing '/' ("." when none). */
static char *dir_of(const char *path)
{
	const char *base = path_basename(path);
	size_t n = (size_t)(base - path);

	if (n == 0)
		return xstrdup(".");
	return xstrndup(path, n > 1 ? n - 1 : n);	/* keep "/" itself */
}

/* The temporary file being written, for the signal handler: a fixed buffer
 * (a handler may not allocate), armed while the file exists.  One sink at a
 * time writes a file in this program. */
static char signal_tmp_path[PATH_MAX];
static volatile sig_atomic_t signal_tmp_armed;

static void remove_temp_and_die(int sig)
{
	int saved = errno;

	if (signal_tmp_armed)
		unlink(signal_tmp_path);
	errno = saved;
	/* SA_RESETHAND restored the default action, and the signal is blocked
	 * until the handler returns: then it ends the process as it would
	 * have (the shell sees 128 + sig). */
	raise(sig);
}

void sink_remove_temp_on_signals(void)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
	struct sigaction sa = { .sa_handler = remove_temp_and_die, .sa_flags = SA_RESETHAND }, old;

	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < ARRAY_SIZE(sigs); i++)
		sigaddset(&sa.sa_mask, sigs[i]);
	for (size_t i = 0; i < ARRAY_SIZE(sigs); i++) {
		/* An ignored signal (nohup, a background job's SIGINT) stays so. */
		if (sigaction(sigs[i], NULL, &old) == 0 && old.sa_handler == SIG_IGN)
			continue;
		sigaction(sigs[i], &sa, NULL);
	}
}

static void arm_signal_cleanup(const char *tmp)
{
	size_t n = strlen(tmp);

	if (signal_tmp_armed || n >= sizeof(signal_tmp_path))
		return;
	memcpy(signal_tmp_path, tmp, n + 1);
	signal_tmp_armed = 1;
}

/* After the temporary name is gone (renamed or unlinked): a signal in
 * between unlinks a name that no longer exists, which is harmless. */
static void disarm_signal_cleanup(const char *tmp)
{
	if (signal_tmp_armed && !strcmp(signal_tmp_path, tmp))
		signal_tmp_armed = 0;
}

int sink_check_path(const char *path)
{
	enum sink_codec codec;
	struct stat st;

	if (!path || !strcmp(path, "-"))
		return 0;
	if (codec_from_name(path, &codec) < 0)
		return -1;
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		return err_set("%s: is a directory", path);
	char *dir = dir_of(path);
	int r = 0;
	if (stat(dir, &st) < 0)
		r = err_set("%s: cannot use directory %s: %s", path, dir, strerror(errno));
	else if (!S_ISDIR(st.st_mode))
		r = err_set("%s: %s is not a directory", path, dir);
	free(dir);
	return r;
}

static int open_temp_file(struct sink *s, const char *path)
{
	struct stat st;

	/* Catch this now rather than at rename() after all the work. */
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		return err_set("%s: is a directory", path);

	s->tmp_path = temp_template(path);
	s->fd = mkostemp(s->tmp_path, O_CLOEXEC);
	if (s->fd >= 0)
		arm_signal_cleanup(s->tmp_path);
	if (s->fd < 0) {
		int e = errno;
		char *dir = dir_of(path);
		err_set("%s: cannot create temporary file in %s: %s", path, dir, strerror(e));
		free(dir);
		free(s->tmp_path);
		s->tmp_path = NULL;
		return -1;
	}
	/* mkstemp uses 0600; the profile should look like any created file. */
	if (fchmod(s->fd, default_file_mode()) < 0) {
		err_set("%s: cannot set permissions of %s: %s", path, s->tmp_path,
			strerror(errno));
		return -1;
	}
	return 0;
}

static void sink_free(struct sink *s)
{
	if (s->codec == CODEC_XZ)
		lzma_end(&s->xz);
	else if (s->codec == CODEC_GZ)
		deflateEnd(&s->gz);
	free(s->zbuf);
	free(s->tmp_path);
	free(s->name);
	free(s);
}

/* Drop the file descriptor and the temporary file, keeping the old target. */
static void discard_temp(struct sink *s)
{
	if (s->is_stdout)
		return;
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	if (s->tmp_path) {
		unlink(s->tmp_path);
		disarm_signal_cleanup(s->tmp_path);
	}
}

struct sink *sink_open(const char *path)
{
	struct sink *s = xcalloc(1, sizeof(*s));

	s->fd = -1;
	if (!path || strcmp(path, "-") == 0) {
		s->is_stdout = true;
		s->fd = STDOUT_FILENO;
		s->name = xstrdup("stdout");
		s->codec = CODEC_NONE;
		return s;
	}
	s->name = xstrdup(path);
	enum sink_codec codec;
	if (codec_from_name(path, &codec) < 0 || open_temp_file(s, path) < 0)
		goto fail;
	if ((codec == CODEC_XZ && xz_init(s) < 0) || (codec == CODEC_GZ && gz_init(s) < 0))
		goto fail;
	s->codec = codec;	/* from here on, sink_free() must end the codec */
	if (codec != CODEC_NONE)
		s->zbuf = xmalloc(SINK_ZBUF_SIZE);
	return s;
fail:
	discard_temp(s);
	sink_free(s);
	return NULL;
}

int sink_write(struct sink *s, const void *data, size_t n)
{
	if (s->failed)
		return -1;
	if (n == 0)
		return 0;
	switch (s->codec) {
	case CODEC_XZ: return xz_code(s, data, n, LZMA_RUN);
	case CODEC_GZ: return gz_code(s, data, n, Z_NO_FLUSH);
	default: return write_fd_all(s, data, n);
	}
}

static int finish_codec(struct sink *s)
{
	switch (s->codec) {
	case CODEC_XZ: return xz_code(s, NULL, 0, LZMA_FINISH);
	case CODEC_GZ: return gz_code(s, NULL, 0, Z_FINISH);
	default: return 0;
	}
}

/* Make the rename itself durable; failure here cannot un-rename, so ignore. */
static void sync_parent_dir(const char *path)
{
	char *dir = dir_of(path);
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
	free(dir);
}

/* Data is on disk before the rename, so a crash leaves old or new, never
 * a truncated profile under the real name. */
static int commit_file(struct sink *s)
{
	if (fsync(s->fd) < 0)
		return sink_fail(s, "fsync failed", strerror(errno));
	int r = close(s->fd);
	s->fd = -1;
	if (r < 0)
		return sink_fail(s, "close failed", strerror(errno));
	if (rename(s->tmp_path, s->name) < 0) {
		int e = errno;
		s->failed = true;
		return err_set("%s: cannot rename %s into place: %s", s->name,
			       s->tmp_path, strerror(e));
	}
	disarm_signal_cleanup(s->tmp_path);
	free(s->tmp_path);
	s->tmp_path = NULL;	/* now the target: discard_temp must not unlink it */
	sync_parent_dir(s->name);
	return 0;
}

int sink_close(struct sink *s)
{
	int r = -1;

	if (!s->failed && finish_codec(s) == 0)
		r = s->is_stdout ? 0 : commit_file(s);
	if (r < 0)
		discard_temp(s);
	sink_free(s);
	return r;
}

void sink_abort(struct sink *s)
{
	if (!s)
		return;
	discard_temp(s);
	sink_free(s);
}

/* ------------------------------------------------------------------------ */
/* JSON writer                                                               */
/* ------------------------------------------------------------------------ */

#define JSONW_MAX_DEPTH 64
#define JSONW_BUF_SIZE (64 * 1024)
/* Longest fixed piece written with one room() check: ",\n" + indentation. */
#define JSONW_INDENT_MAX (2 + 2 * JSONW_MAX_DEPTH)

enum frame_kind { FRAME_OBJECT, FRAME_ARRAY };

struct frame {
	uint8_t kind;		/* enum frame_kind */
	bool has_items;		/* a separator is due before the next item */
};

struct jsonw {
	struct sink *sink;
	struct buf *mem;	/* a part rendered into memory instead (no sink) */
	unsigned base;		/* a part's depth in the whole document */
	bool pretty;
	bool failed;		/* the sink refused a write; discard from now on */
	bool after_name;	/* inside an object, a key was written, its value is due */
	bool top_written;	/* the document's one top-level value has begun */
	unsigned depth;
	/* Where bytes go first: for a sink, own[]; for a part, straight into
	 * mem's free space (len bytes there are not yet counted in mem->len),
	 * which saves copying every byte of a profile once more. */
	char *out;
	size_t len, cap;
	struct frame stack[JSONW_MAX_DEPTH];
	char indent[JSONW_INDENT_MAX];	/* "\n" followed by spaces */
	char own[];		/* JSONW_BUF_SIZE bytes, sink writers only */
};

/* Misuse of the API is a bug in the caller, never a data problem. */
static _Noreturn void jsonw_bug(const char *what)
{
	fprintf(stderr, "btf2isf: internal error: JSON writer: %s\n", what);
	abort();
}

static void mem_window(struct jsonw *w)
{
	buf_reserve(w->mem, JSONW_BUF_SIZE);
	w->out = (char *)w->mem->p + w->mem->len;
	w->cap = w->mem->cap - w->mem->len;
}

static struct jsonw *writer_new(struct sink *s, struct buf *mem, bool pretty, unsigned base)
{
	struct jsonw *w = xmalloc(sizeof(*w) + (mem ? 0 : JSONW_BUF_SIZE));

	if (base >= JSONW_MAX_DEPTH)
		jsonw_bug("a part nested deeper than 64 levels");
	memset(w, 0, sizeof(*w));
	w->sink = s;
	w->mem = mem;
	w->base = base;
	w->pretty = pretty;
	w->indent[0] = '\n';
	memset(w->indent + 1, ' ', sizeof(w->indent) - 1);
	if (mem) {
		mem_window(w);
	} else {
		w->out = w->own;
		w->cap = JSONW_BUF_SIZE;
	}
	return w;
}

struct jsonw *jsonw_new(struct sink *s, bool pretty) { return writer_new(s, NULL, pretty, 0); }

struct jsonw *jsonw_new_part(struct buf *out, bool pretty, unsigned depth)
{
	return writer_new(NULL, out, pretty, depth);
}

struct jsonw *jsonw_new_members(struct buf *out, bool pretty, unsigned depth)
{
	struct jsonw *w = writer_new(NULL, out, pretty, depth);

	/* Inside the object already: its braces belong to the document. */
	w->top_written = true;
	w->stack[w->depth++] = (struct frame){ .kind = FRAME_OBJECT };
	return w;
}

/* A part's bytes written so far become part of mem. */
static void mem_commit(struct jsonw *w)
{
	w->mem->len += w->len;
	w->len = 0;
}

/* For a part, mem's free space (at least JSONW_BUF_SIZE) is where the
 * next bytes go. */
static void flush_buf(struct jsonw *w)
{
	if (w->mem) {
		mem_commit(w);
		mem_window(w);
		return;
	}
	if (w->len && !w->failed && sink_write(w->sink, w->out, w->len) < 0)
		w->failed = true;
	w->len = 0;
}

/* Guarantees n free bytes at out + len (n <= JSONW_BUF_SIZE). */
static inline char *room(struct jsonw *w, size_t n)
{
	if (w->cap - w->len < n)
		flush_buf(w);
	return w->out + w->len;
}

static void put_bytes(struct jsonw *w, const void *p, size_t n)
{
	if (n > JSONW_BUF_SIZE / 2) {	/* big: no staging */
		flush_buf(w);
		if (w->mem) {
			buf_append(w->mem, p, n);
			mem_window(w);
		} else if (!w->failed && sink_write(w->sink, p, n) < 0) {
			w->failed = true;
		}
		return;
	}
	memcpy(room(w, n), p, n);
	w->len += n;
}

static inline void put_char(struct jsonw *w, char c)
{
	*room(w, 1) = c;
	w->len++;
}

/* Newline plus two spaces per open container (pretty mode only). */
static inline void put_newline_indent(struct jsonw *w)
{
	size_t n = 1 + 2 * (size_t)(w->base + w->depth);
	memcpy(room(w, n), w->indent, n);
	w->len += n;
}

/* Before an array element or an object key: comma if not the first, then
 * in pretty mode a new line at the current depth. */
static void begin_item(struct jsonw *w)
{
	struct frame *f = &w->stack[w->depth - 1];

	if (f->has_items)
		put_char(w, ',');
	f->has_items = true;
	if (w->pretty)
		put_newline_indent(w);
}

/* Every value goes through here: it knows where a value may stand. */
static void begin_value(struct jsonw *w)
{
	if (w->depth == 0) {
		if (w->top_written)
			jsonw_bug("second top-level value");
		w->top_written = true;
		return;
	}
	if (w->stack[w->depth - 1].kind == FRAME_ARRAY) {
		begin_item(w);
		return;
	}
	if (!w->after_name)
		jsonw_bug("value inside an object without jsonw_name()");
	w->after_name = false;	/* the key already placed us */
}

/* --- strings ------------------------------------------------------------- */

/* Bytes that go out as they are: printable ASCII except '"' and '\\'. */
static inline bool is_plain(uint8_t c)
{
	return c >= 0x20 && c < 0x80 && c != '"' && c != '\\';
}

/* Length of the well-formed UTF-8 sequence at p (RFC 3629: no overlongs,
 * no surrogates, nothing above U+10FFFF), or 0 if it is not one. */
static size_t utf8_seq_len(const uint8_t *p, size_t avail)
{
	uint8_t c = p[0], lo = 0x80, hi = 0xBF;
	size_t n;

	if (c >= 0xC2 && c <= 0xDF) {
		n = 2;
	} else if (c >= 0xE0 && c <= 0xEF) {
		n = 3;
		if (c == 0xE0)
			lo = 0xA0;	/* overlong */
		else if (c == 0xED)
			hi = 0x9F;	/* UTF-16 surrogates */
	} else if (c >= 0xF0 && c <= 0xF4) {
		n = 4;
		if (c == 0xF0)
			lo = 0x90;	/* overlong */
		else if (c == 0xF4)
			hi = 0x8F;	/* above U+10FFFF */
	} else {
		return 0;
	}
	if (avail < n || p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (p[i] < 0x80 || p[i] > 0xBF)
			return 0;
	return n;
}

static void put_control_escape(struct jsonw *w, uint8_t c)
{
	static const char hex[] = "0123456789abcdef";
	char e[6] = { '\\', 0 };
	size_t n = 2;

	switch (c) {
	case '"': e[1] = '"'; break;
	case '\\': e[1] = '\\'; break;
	case '\b': e[1] = 'b'; break;
	case '\f': e[1] = 'f'; break;
	case '\n': e[1] = 'n'; break;
	case '\r': e[1] = 'r'; break;
	case '\t': e[1] = 't'; break;
	default:
		memcpy(e + 1, "u00", 3);
		e[4] = hex[c >> 4];
		e[5] = hex[c & 15];
		n = 6;
	}
	put_bytes(w, e, n);
}

/* Are all 8 bytes of x plain?  Word-at-a-time tests (exact for "some byte
 * is"): with no byte >= 0x80, (x - 0x20..) & ~x has a high bit set iff some
 * byte < 0x20, and likewise for a byte equal to '"' or '\\' after x ^ it.
 * Names are nearly always plain: this is the profile writer's hot loop. */
static inline bool plain_word(uint64_t x)
{
	const uint64_t ones = 0x0101010101010101ull, high = 0x8080808080808080ull;
	uint64_t quote = x ^ (ones * '"'), backslash = x ^ (ones * '\\');
	uint64_t bad = x | ((x - ones * 0x20) & ~x) | ((quote - ones) & ~quote) |
		       ((backslash - ones) & ~backslash);
	return !(bad & high);
}

/* Escapes s[0..n) per RFC 8259; invalid UTF-8 becomes U+FFFD so the output
 * stays valid JSON whatever the input (symbol names are arbitrary bytes). */
static void put_escaped(struct jsonw *w, const uint8_t *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		size_t start = i;
		for (uint64_t x; i + 8 <= n && (memcpy(&x, s + i, 8), plain_word(x));)
			i += 8;
		while (i < n && is_plain(s[i]))
			i++;
		if (i > start)
			put_bytes(w, s + start, i - start);
		if (i == n)
			break;
		if (s[i] < 0x80) {
			put_control_escape(w, s[i]);
			i++;
			continue;
		}
		size_t len = utf8_seq_len(s + i, n - i);
		if (len) {
			put_bytes(w, s + i, len);
			i += len;
		} else {
			put_bytes(w, "\\ufffd", 6);
			i++;
		}
	}
}

/* Longest string put_quoted() tries to copy in one go. */
#define QUOTED_FAST_MAX 256

static void put_quoted(struct jsonw *w, const char *s, size_t n)
{
	const uint8_t *p = (const uint8_t *)s;

	/* Names and most strings are short and plain: copied a word at a time
	 * straight into the buffer, quotes and all, with one room() check.
	 * The copy only counts once the whole string proved plain. */
	if (n <= QUOTED_FAST_MAX) {
		char *o = room(w, n + 2);
		size_t i = 0;
		uint64_t x;
		for (; i + 8 <= n && (memcpy(&x, p + i, 8), plain_word(x)); i += 8)
			memcpy(o + 1 + i, &x, 8);
		for (; i < n && is_plain(p[i]); i++)
			o[1 + i] = (char)p[i];
		if (i == n) {
			o[0] = '"';
			o[n + 1] = '"';
			w->len += n + 2;
			return;
		}
	}
	put_char(w, '"');
	put_escaped(w, p, n);
	put_char(w, '"');
}

/* --- numbers ------------------------------------------------------------- */

static void put_number(struct jsonw *w, bool negative, uint64_t magnitude)
{
	char tmp[21];	/* '-' + 20 digits of UINT64_MAX */
	char *end = tmp + sizeof(tmp);
	char *p = format_u64(end, magnitude);

	if (negative)
		*--p = '-';
	size_t n = (size_t)(end - p);
	memcpy(room(w, n), p, n);
	w->len += n;
}

/* --- public API ---------------------------------------------------------- */

static void start_container(struct jsonw *w, enum frame_kind kind, char open)
{
	begin_value(w);
	if (w->base + w->depth == JSONW_MAX_DEPTH)
		jsonw_bug("nesting deeper than 64 levels");
	w->stack[w->depth++] = (struct frame){ .kind = (uint8_t)kind };
	put_char(w, open);
}

static void end_container(struct jsonw *w, enum frame_kind kind, char close)
{
	if (w->depth == 0 || w->stack[w->depth - 1].kind != kind)
		jsonw_bug(kind == FRAME_OBJECT ? "jsonw_end_object() outside an object"
					       : "jsonw_end_array() outside an array");
	if (w->after_name)
		jsonw_bug("object ended after a key without a value");
	bool had_items = w->stack[--w->depth].has_items;
	/* Like Go's MarshalIndent: "{}" / "[]" stay on one line when empty. */
	if (w->pretty && had_items)
		put_newline_indent(w);
	put_char(w, close);
}

void jsonw_start_object(struct jsonw *w) { start_container(w, FRAME_OBJECT, '{'); }
void jsonw_end_object(struct jsonw *w) { end_container(w, FRAME_OBJECT, '}'); }
void jsonw_start_array(struct jsonw *w) { start_container(w, FRAME_ARRAY, '['); }
void jsonw_end_array(struct jsonw *w) { end_container(w, FRAME_ARRAY, ']'); }

void jsonw_name_len(struct jsonw *w, const char *name, size_t n)
{
	if (w->depth == 0 || w->stack[w->depth - 1].kind != FRAME_OBJECT)
		jsonw_bug("jsonw_name() outside an object");
	if (w->after_name)
		jsonw_bug("two keys in a row");
	begin_item(w);
	put_quoted(w, name, n);
	if (w->pretty)
		put_bytes(w, ": ", 2);
	else
		put_char(w, ':');
	w->after_name = true;
}

void jsonw_string(struct jsonw *w, const char *s)
{
	jsonw_string_len(w, s, strlen(s));
}

void jsonw_string_len(struct jsonw *w, const char *s, size_t n)
{
	begin_value(w);
	put_quoted(w, s, n);
}

void jsonw_uint(struct jsonw *w, uint64_t v)
{
	begin_value(w);
	put_number(w, false, v);
}

void jsonw_int(struct jsonw *w, int64_t v)
{
	begin_value(w);
	/* Negate in unsigned arithmetic: -INT64_MIN overflows int64_t. */
	put_number(w, v < 0, v < 0 ? 0 - (uint64_t)v : (uint64_t)v);
}

bool jsonw_pretty(const struct jsonw *w) { return w->pretty; }

void jsonw_raw_value(struct jsonw *w, const void *json, size_t n)
{
	begin_value(w);
	put_bytes(w, json, n);
}

void jsonw_raw_value_around_uint(struct jsonw *w, const void *before, size_t nb, uint64_t v,
				 const void *after, size_t na)
{
	begin_value(w);
	put_bytes(w, before, nb);
	put_number(w, false, v);
	put_bytes(w, after, na);
}

void jsonw_raw_members(struct jsonw *w, const void *json, size_t n)
{
	if (w->depth == 0 || w->stack[w->depth - 1].kind != FRAME_OBJECT || w->after_name)
		jsonw_bug("jsonw_raw_members() outside an object, or after a key");
	if (!n)
		return;
	struct frame *f = &w->stack[w->depth - 1];
	if (f->has_items)
		put_char(w, ',');
	f->has_items = true;
	put_bytes(w, json, n);
}

void jsonw_bool(struct jsonw *w, bool v)
{
	begin_value(w);
	if (v)
		put_bytes(w, "true", 4);
	else
		put_bytes(w, "false", 5);
}

int jsonw_free(struct jsonw *w)
{
	if (!w)
		return 0;
	if (w->mem)
		mem_commit(w);	/* no room needed after the last byte */
	else
		flush_buf(w);
	int r = w->failed ? -1 : 0;
	free(w);
	return r;
}

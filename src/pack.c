#include "pack.h"

#include "banner.h"
#include "image.h"
#include "isf.h"
#include "jsonw.h"
#include "kimage.h"
#include "log.h"
#include "package.h"
#include "packdir.h"
#include "profile.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <xxhash.h>

#define JOBS_MAX 256
#define DEPTH_MAX 32
#define KEY_WHOLE_MAX (64u << 20)	/* kernel files up to this are keyed by all their bytes */
#define KEY_PART (1u << 20)		/* packages: by their first and last MiB */
#define LINE_MAX_B 4096			/* one result line from a worker */

static const char pack_usage[] =
	"Usage: btf2isf pack -s DIR [--index URL_PREFIX] [--force] [-j N] INPUT...\n"
	"\n"
	"Write a Volatility3 profile of every kernel in the INPUTs to\n"
	"DIR/linux/<release>-<id>.json.xz (id: the first 8 hex digits of the SHA-256\n"
	"of the exact banner).  INPUT: anything 'btf2isf INPUT' reads (memory images,\n"
	"vmlinux, vmlinuz), distribution packages (.deb, .rpm, .pkg.tar.zst) and tar\n"
	"or cpio archives, read without installing them; directories are searched\n"
	"recursively, and their files that hold no kernel are skipped.  A kernel whose\n"
	"banner already has a profile in DIR is not rebuilt.\n"
	"\n"
	"Options:\n"
	"  -s, --symbols DIR     the symbol directory (created if needed)\n"
	"      --index URL_PREFIX  (re)write DIR/banners.json, Volatility3's remote\n"
	"                        index, for every profile in DIR served at URL_PREFIX\n"
	"                        (vol -u URL_PREFIX/banners.json); INPUTs are optional\n"
	"      --force           rebuild profiles that are already there\n"
	"  -j, --jobs N          inputs handled at once (default: one per core)\n"
	"  -v, --verbose         name each profile written\n"
	"  -q, --quiet           no warnings\n"
	"  -h, --help            print this help and exit\n"
	"\n"
	"Exit status: 0 every INPUT gave its profiles, 1 otherwise, 2 misuse.\n";

enum { RES_WRITTEN, RES_PRESENT, RES_SKIPPED, RES_FAILED, NRES };

struct job {
	char *path;
	bool from_dir;			/* found in a directory: no kernel = skipped */
	/* results, filled by the parent from the worker's lines */
	char *key;
	struct buf paths;		/* profiles it gave, comma-separated */
	int counts[NRES];
	bool done;
};

struct worker {
	pid_t pid;
	int fd;
	size_t job;
	char line[LINE_MAX_B];
	size_t len;
};

struct pack {
	const char *dir, *index;
	char linux_dir[PATH_MAX];
	const char *work;		/* the packdir work directory: every temporary file */
	bool force, tty;
	int jobs;
	struct packdir *state;
	struct job *v;
	size_t n, cap;
	int counts[NRES];
	size_t inputs_done;
	struct buf failures;		/* one line per failure */
	struct buf written;		/* names written in this run, '\n'-separated */
};

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig) { stop_signal = sig; }

/* ---- the inputs ---- */

static void add_job(struct pack *pk, const char *path, bool from_dir)
{
	if (pk->n == pk->cap) {
		pk->cap = pk->cap ? pk->cap * 2 : 64;
		pk->v = xreallocarray(pk->v, pk->cap, sizeof(*pk->v));
	}
	pk->v[pk->n++] = (struct job){ .path = xstrdup(path), .from_dir = from_dir };
}

/* Regular files under dir, in name order; dot files and DIR itself are
 * left out (a pack directory inside an input directory is not an input). */
static void add_dir(struct pack *pk, const char *dir, const struct stat *pack_st, int depth)
{
	char **names, path[PATH_MAX];
	size_t n;

	if (depth > DEPTH_MAX || !(names = dir_names_sorted(dir, &n))) {
		add_job(pk, dir, false);	/* the worker says why */
		return;
	}
	for (size_t i = 0; i < n; i++) {
		struct stat st;
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		free(names[i]);
		if (stat(path, &st) < 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			if (st.st_dev != pack_st->st_dev || st.st_ino != pack_st->st_ino)
				add_dir(pk, path, pack_st, depth + 1);
		} else if (S_ISREG(st.st_mode)) {
			add_job(pk, path, true);
		}
	}
	free(names);
}

/* ---- a worker: one input ---- */

struct work {
	struct pack *pk;
	int out;			/* result lines to the parent */
	bool from_dir;
	const char *path;		/* the input */
};

/* One result line; tabs and newlines in messages become spaces. */
static void say(struct work *w, char tag, const char *a, const char *b)
{
	char line[LINE_MAX_B];
	int n = snprintf(line, sizeof(line) - 1, "%c\t%s\t%s", tag, a, b ? b : "");

	if (n < 0)
		return;
	if ((size_t)n > sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	for (int i = 2; i < n; i++)
		if (line[i] == '\n' || line[i] == '\r' || (line[i] == '\t' && i != 2 + (int)strlen(a)))
			line[i] = ' ';
	line[n++] = '\n';
	for (int done = 0; done < n;) {
		ssize_t k = write(w->out, line + done, (size_t)(n - done));
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			_exit(3);
		done += (int)k;
	}
}

/* The banner's release as a file name: [A-Za-z0-9._+~-] only. */
static void file_release(const struct profile *p, char *out, size_t n)
{
	size_t o = 0;

	for (const char *s = p->release; *s && o + 1 < n && o < 96; s++)
		out[o++] = (strchr("._+~-", *s) || (*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'z') ||
			    (*s >= 'A' && *s <= 'Z')) ? *s : '_';
	if (!o || out[0] == '.')
		o = (size_t)snprintf(out, n, "unknown");
	out[o] = 0;
}

static int write_profile(struct profile *p, const char *tmp)
{
	struct isf_report r;
	struct sink *s = sink_open(tmp);

	if (!s)
		return -1;
	struct jsonw *jw = jsonw_new(s, false);
	int werr = isf_write(&p->isf, jw, &r);
	if (jsonw_free(jw) < 0 || werr < 0) {
		sink_abort(s);
		return -1;
	}
	return sink_close(s);
}

/* Profile one kernel (bytes, or the file `name` when bytes.p is NULL). */
static int emit(struct work *w, const char *name, struct span bytes)
{
	struct profile_opts o = { .input = name, .bytes = bytes };
	char release[128], id[65], file[256], rel[300], tmp[PATH_MAX], target[PATH_MAX];
	struct profile p;
	int ret = -1;

	if (profile_build(&o, &p) < 0) {
		say(w, 'F', name, err_get());
		goto done;
	}
	file_release(&p, release, sizeof(release));
	sha256_hex(p.banner.p, p.banner.len, id);
	snprintf(file, sizeof(file), "%s-%.8s.json.xz", release, id);
	snprintf(rel, sizeof(rel), "linux/%s", file);
	if (!path_join(target, sizeof(target), w->pk->linux_dir, file)) {
		say(w, 'F', name, "symbol directory path too long");
		goto done;
	}
	char *b64 = base64_encode(p.banner.p, p.banner.len);
	path_join(tmp, sizeof(tmp), w->pk->work, file);	/* shorter than target */
	if (!w->pk->force && access(target, F_OK) == 0) {
		say(w, 'P', rel, b64);
		ret = 0;
	} else {
		if (write_profile(&p, tmp) < 0) {
			say(w, 'F', name, err_get());
		} else if (rename(tmp, target) < 0) {
			char why[PATH_MAX + 128];
			snprintf(why, sizeof(why), "%s: cannot rename into place: %s", target, strerror(errno));
			unlink(tmp);
			say(w, 'F', name, why);
		} else {
			say(w, 'W', rel, b64);
			ret = 0;
		}
	}
	free(b64);
done:
	profile_free(&p);
	return ret;
}

static int emit_member(void *ctx, const struct package_kernel *k)
{
	struct work *w = ctx;
	char name[PATH_MAX * 2];

	snprintf(name, sizeof(name), "%s:%s", w->path, k->member);
	emit(w, name, k->bytes);
	return 0;	/* a bad kernel does not stop its package's others */
}

static bool is_kernel_file(struct span head)
{
	return (head.n >= 4 && !memcmp(head.p, "\x7f" "ELF", 4)) || kimage_is_compressed_kernel(head) ||
	       image_has_header(head);
}

/* Key of an input's content for the state file: its size and all its bytes
 * (kernel files), or for packages, which list digests of their files at
 * their head (.deb control.tar md5sums, RPM header, Arch .MTREE), the first
 * and last MiB.  Larger non-packages (memory images) get none: profiling
 * them is as cheap as hashing them. */
static bool input_key(int fd, const struct stat *st, bool package, char out[64])
{
	uint64_t size = (uint64_t)st->st_size;
	XXH3_state_t *h;
	uint8_t *b;
	bool ok = true;

	if (!package && size > KEY_WHOLE_MAX)
		return false;
	h = XXH3_createState();
	b = xmalloc(KEY_PART);
	XXH3_128bits_reset(h);
	XXH3_128bits_update(h, &size, sizeof(size));
	uint64_t ranges[2][2] = { { 0, size }, { 0, 0 } };
	if (package && size > 2 * KEY_PART) {
		ranges[0][1] = KEY_PART;
		ranges[1][0] = size - KEY_PART;
		ranges[1][1] = size;
	}
	for (int r = 0; r < 2 && ok; r++)
		for (uint64_t off = ranges[r][0]; off < ranges[r][1] && ok;) {
			size_t want = ranges[r][1] - off < KEY_PART ? (size_t)(ranges[r][1] - off) : KEY_PART;
			ssize_t got = pread(fd, b, want, (off_t)off);
			if (got <= 0)
				ok = false;
			else {
				XXH3_128bits_update(h, b, (size_t)got);
				off += (uint64_t)got;
			}
		}
	XXH128_hash_t d = XXH3_128bits_digest(h);
	XXH3_freeState(h);
	free(b);
	snprintf(out, 64, "%016llx%016llx-%llu", (unsigned long long)d.high64,
		 (unsigned long long)d.low64, (unsigned long long)size);
	return ok;
}

/* A rerun: every profile this input gave is still in DIR. */
static bool known_input(struct work *w, const char *key)
{
	struct packdir *st = w->pk->state;
	const char *paths = packdir_input(st, key);
	char path[PATH_MAX], rel[PATH_MAX];
	struct stat sb;

	if (!paths || w->pk->force)
		return false;
	for (const char *s = paths; *s;) {
		size_t len = strcspn(s, ",");
		snprintf(rel, sizeof(rel), "%.*s", (int)len, s);
		if (!path_join(path, sizeof(path), w->pk->dir, rel) || stat(path, &sb) < 0)
			return false;
		s += len + (s[len] == ',');
	}
	if (!*paths) {
		if (!w->from_dir)
			return false;	/* named inputs without a kernel are read again to say why */
		say(w, 'S', "", "no kernel (as in the previous run)");
		return true;
	}
	for (const char *s = paths; *s;) {
		size_t len = strcspn(s, ",");
		snprintf(rel, sizeof(rel), "%.*s", (int)len, s);
		path_join(path, sizeof(path), w->pk->dir, rel);
		stat(path, &sb);
		say(w, 'P', rel, packdir_banner(st, rel, &sb));
		s += len + (s[len] == ',');
	}
	return true;
}

static void work_one(struct work *w, const char *path)
{
	uint8_t *head = xmalloc(PACKAGE_HEAD_SIZE);
	struct stat st;
	char key[64];
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &st) < 0) {
		char why[PATH_MAX + 64];
		snprintf(why, sizeof(why), "%s: %s", path, strerror(errno));
		say(w, 'F', path, why);
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		say(w, 'F', path, "cannot read the directory");
		goto out;
	}
	ssize_t got = pread(fd, head, PACKAGE_HEAD_SIZE, 0);
	if (got < 0) {
		char why[PATH_MAX + 64];
		snprintf(why, sizeof(why), "%s: read failed: %s", path, strerror(errno));
		say(w, 'F', path, why);
		goto out;
	}
	struct span h = { head, (size_t)got };
	bool kernel = is_kernel_file(h), package = !kernel && package_sniff(h);
	if (input_key(fd, &st, package, key)) {
		say(w, 'K', key, NULL);
		if (known_input(w, key))
			goto out;
	}
	if (package) {
		lseek(fd, 0, SEEK_SET);
		int n = package_kernels(path, fd, (struct span){ 0 }, w->pk->work, emit_member, w);
		if (n < 0)
			say(w, 'F', path, err_get());
		else if (n == 0 && w->from_dir)
			say(w, 'S', path, "no kernel in this package");
		else if (n == 0)
			say(w, 'F', path, "no kernel in this package or archive (no vmlinuz or vmlinux where distributions install one)");
		goto out;
	}
	if (!kernel && w->from_dir) {
		/* Maybe a raw memory image; anything else is skipped. */
		struct profile_opts o = { .input = path };
		struct profile p;
		int r = profile_build(&o, &p);
		profile_free(&p);
		if (r < 0) {
			say(w, 'S', path, err_get());
			goto out;
		}
	}
	emit(w, path, (struct span){ 0 });
out:
	if (fd >= 0)
		close(fd);
	free(head);
}

static pid_t spawn(struct pack *pk, size_t j, int *fd_out)
{
	int fds[2];
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC) < 0)
		return -1;
	if ((pid = fork()) < 0) {
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	if (pid == 0) {
		struct work w = { pk, fds[1], pk->v[j].from_dir, pk->v[j].path };
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() == 1)
			_exit(1);
		close(fds[0]);
		sink_set_xz(0, 1);
		work_one(&w, pk->v[j].path);
		say(&w, 'D', "", NULL);
		_exit(0);
	}
	close(fds[1]);
	*fd_out = fds[0];
	return pid;
}

/* ---- the parent ---- */

static void add_failure(struct pack *pk, const char *input, const char *why)
{
	char line[LINE_MAX_B + 64];
	/* Messages usually start with the input's name already. */
	int n = !strncmp(why, input, strlen(input)) ? snprintf(line, sizeof(line), "btf2isf: %s\n", why)
						    : snprintf(line, sizeof(line), "btf2isf: %s: %s\n", input, why);
	buf_append(&pk->failures, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
}

static bool written_before(struct pack *pk, const char *rel)
{
	size_t n = strlen(rel);

	for (size_t i = 0; i + n <= pk->written.len;) {
		const char *s = (const char *)pk->written.p + i, *e = memchr(s, '\n', pk->written.len - i);
		size_t len = e ? (size_t)(e - s) : pk->written.len - i;
		if (len == n && !memcmp(s, rel, n))
			return true;
		i += len + 1;
	}
	return false;
}

static void result_line(struct pack *pk, struct job *j, char *line)
{
	char tag = line[0], *a = line + 2, *b;

	if (strlen(line) < 2 || line[1] != '\t')
		return;
	b = strchr(a, '\t');
	if (b)
		*b++ = 0;
	else
		b = (char *)"";
	switch (tag) {
	case 'K':
		free(j->key);
		j->key = xstrdup(a);
		break;
	case 'W':
	case 'P': {
		struct stat st;
		char path[PATH_MAX];
		int res = tag == 'W' && !written_before(pk, a) ? RES_WRITTEN : RES_PRESENT;
		if (tag == 'W') {
			buf_append(&pk->written, a, strlen(a));
			buf_append(&pk->written, "\n", 1);
			if (log_level() >= LOG_INFO)
				fprintf(stderr, "%swritten: %s/%s (from %s)\n", pk->tty ? "\r\033[K" : "",
					pk->dir, a, j->path);
		}
		j->counts[res]++;
		if (j->paths.len)
			buf_append(&j->paths, ",", 1);
		buf_append(&j->paths, a, strlen(a));
		snprintf(path, sizeof(path), "%s/%s", pk->dir, a);
		if (*b && stat(path, &st) == 0)
			packdir_set_banner(pk->state, a, &st, b);
		break;
	}
	case 'S':
		j->counts[RES_SKIPPED]++;
		if (log_level() >= LOG_INFO)
			fprintf(stderr, "%sskipped: %s: %s\n", pk->tty ? "\r\033[K" : "", j->path, b);
		break;
	case 'F':
		j->counts[RES_FAILED]++;
		add_failure(pk, a, b);
		break;
	case 'D':
		j->done = true;
		break;
	}
}

static void progress(struct pack *pk)
{
	if (!pk->tty)
		return;
	fprintf(stderr, "\r\033[Kpack: %zu/%zu inputs, %d written, %d present, %d skipped, %d failed",
		pk->inputs_done, pk->n, pk->counts[RES_WRITTEN], pk->counts[RES_PRESENT],
		pk->counts[RES_SKIPPED], pk->counts[RES_FAILED]);
}

static void finish_job(struct pack *pk, struct job *j, int status)
{
	if (!j->done) {
		char why[128];
		if (WIFSIGNALED(status))
			snprintf(why, sizeof(why), "worker killed by signal %d (%s)", WTERMSIG(status),
				 strsignal(WTERMSIG(status)));
		else
			snprintf(why, sizeof(why), "worker ended without a result (exit %d)", WEXITSTATUS(status));
		j->counts[RES_FAILED]++;
		add_failure(pk, j->path, why);
	}
	/* A named input must give a profile; one in a directory may hold none. */
	if (!j->from_dir && !j->counts[RES_WRITTEN] && !j->counts[RES_PRESENT] && !j->counts[RES_FAILED]) {
		j->counts[RES_FAILED]++;
		add_failure(pk, j->path, "no kernel");
	}
	for (int r = 0; r < NRES; r++)
		pk->counts[r] += j->counts[r];
	if (j->key && !j->counts[RES_FAILED])
		packdir_set_input(pk->state, j->key, (const char *)(j->paths.len ? (buf_append(&j->paths, "", 1), j->paths.p) : (const uint8_t *)""));
	pk->inputs_done++;
	progress(pk);
}

static void read_worker(struct pack *pk, struct worker *wk)
{
	char buf[8192];
	ssize_t n = read(wk->fd, buf, sizeof(buf));

	if (n <= 0) {
		if (n < 0 && errno == EINTR)
			return;
		close(wk->fd);
		wk->fd = -1;
		return;
	}
	for (ssize_t i = 0; i < n; i++) {
		if (buf[i] == '\n') {
			wk->line[wk->len] = 0;
			result_line(pk, &pk->v[wk->job], wk->line);
			wk->len = 0;
		} else if (wk->len + 1 < sizeof(wk->line)) {
			wk->line[wk->len++] = buf[i];
		}
	}
}

static int run_pool(struct pack *pk)
{
	struct worker *wk = xcalloc((size_t)pk->jobs, sizeof(*wk));
	struct pollfd *pf = xcalloc((size_t)pk->jobs, sizeof(*pf));
	size_t next = 0;
	int running = 0;

	for (int i = 0; i < pk->jobs; i++)
		wk[i].pid = 0, wk[i].fd = -1;
	progress(pk);
	while ((next < pk->n || running) && !stop_signal) {
		for (int i = 0; i < pk->jobs && next < pk->n && !stop_signal; i++) {
			if (wk[i].pid)
				continue;
			wk[i].job = next;
			wk[i].len = 0;
			if ((wk[i].pid = spawn(pk, next, &wk[i].fd)) < 0) {
				wk[i].pid = 0;
				add_failure(pk, pk->v[next].path, "cannot start a worker");
				pk->v[next].done = true;
				pk->v[next].counts[RES_FAILED]++;
				pk->inputs_done++;
			} else {
				running++;
			}
			next++;
		}
		int np = 0;
		for (int i = 0; i < pk->jobs; i++)
			if (wk[i].pid && wk[i].fd >= 0)
				pf[np++] = (struct pollfd){ .fd = wk[i].fd, .events = POLLIN };
		if (np && poll(pf, (nfds_t)np, -1) < 0 && errno != EINTR)
			break;
		for (int i = 0; i < pk->jobs; i++) {
			if (!wk[i].pid)
				continue;
			if (wk[i].fd >= 0) {
				for (int k = 0; k < np; k++)
					if (pf[k].fd == wk[i].fd && pf[k].revents)
						read_worker(pk, &wk[i]);
			}
			if (wk[i].fd < 0) {
				int status = 0;
				if (waitpid(wk[i].pid, &status, 0) < 0 && errno == EINTR && stop_signal)
					break;
				finish_job(pk, &pk->v[wk[i].job], status);
				wk[i].pid = 0;
				running--;
			}
		}
	}
	if (stop_signal) {
		for (int i = 0; i < pk->jobs; i++)
			if (wk[i].pid)
				kill(wk[i].pid, SIGTERM);
		for (int i = 0; i < pk->jobs; i++)
			if (wk[i].pid)
				while (waitpid(wk[i].pid, NULL, 0) < 0 && errno == EINTR)
					;
	}
	for (int i = 0; i < pk->jobs; i++)
		if (wk[i].fd >= 0)
			close(wk[i].fd);
	free(wk);
	free(pf);
	return stop_signal ? -1 : 0;
}

static int mkdir_p(const char *path)
{
	char tmp[PATH_MAX];

	snprintf(tmp, sizeof(tmp), "%s", path);
	for (char *s = tmp + 1; *s; s++)
		if (*s == '/') {
			*s = 0;
			if (mkdir(tmp, 0777) < 0 && errno != EEXIST)
				return -1;
			*s = '/';
		}
	return mkdir(tmp, 0777) < 0 && errno != EEXIST ? -1 : 0;
}

static int default_jobs(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n < 1 ? 1 : n > JOBS_MAX ? JOBS_MAX : (int)n;
}

static int misuse(const char *what)
{
	fprintf(stderr, "btf2isf pack: %s (see btf2isf pack --help)\n", what);
	return 2;
}

static void pack_free(struct pack *pk)
{
	for (size_t i = 0; i < pk->n; i++) {
		free(pk->v[i].path);
		free(pk->v[i].key);
		buf_free(&pk->v[i].paths);
	}
	free(pk->v);
	buf_free(&pk->failures);
	buf_free(&pk->written);
	packdir_free(pk->state);
}

int pack_main(int argc, char **argv)
{
	enum { OPT_INDEX = 256, OPT_FORCE };
	static const struct option opts[] = {
		{ "symbols", required_argument, NULL, 's' },
		{ "index", required_argument, NULL, OPT_INDEX },
		{ "force", no_argument, NULL, OPT_FORCE },
		{ "jobs", required_argument, NULL, 'j' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct pack pk = { .jobs = default_jobs() };
	int opt, verbosity = LOG_WARN, ret = 1;
	double t0 = now_seconds();
	char msg[PATH_MAX + 128];

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":s:j:vqh", opts, NULL)) != -1) {
		switch (opt) {
		case 's': pk.dir = optarg; break;
		case OPT_INDEX: pk.index = optarg; break;
		case OPT_FORCE: pk.force = true; break;
		case 'j': {
			char *end;
			long n = strtol(optarg, &end, 10);
			if (*end || end == optarg || n < 1 || n > JOBS_MAX) {
				snprintf(msg, sizeof(msg), "-j wants a number of jobs from 1 to %d, not '%s'",
					 JOBS_MAX, optarg);
				return misuse(msg);
			}
			pk.jobs = (int)n;
			break;
		}
		case 'v': verbosity++; break;
		case 'q': verbosity = LOG_QUIET; break;
		case 'h': fputs(pack_usage, stdout); return 0;
		case ':':
			snprintf(msg, sizeof(msg), "option '%s' needs an argument", argv[optind - 1]);
			return misuse(msg);
		default:
			snprintf(msg, sizeof(msg), "unknown option '%s'", argv[optind - 1]);
			return misuse(msg);
		}
	}
	if (!pk.dir || !*pk.dir)
		return misuse("-s DIR is required: the symbol directory to fill");
	if (optind == argc && !pk.index)
		return misuse("no INPUT: give kernel files, packages or directories (or --index alone)");
	if (pk.index && !*pk.index)
		return misuse("--index needs a URL prefix, e.g. https://example.org/symbols");
	log_set_level(verbosity);
	pk.tty = isatty(2) && verbosity > LOG_QUIET;

	struct stat dir_st;
	snprintf(pk.linux_dir, sizeof(pk.linux_dir), "%s/linux", pk.dir);
	if (mkdir_p(pk.linux_dir) < 0 || stat(pk.dir, &dir_st) < 0) {
		fprintf(stderr, "btf2isf: %s: cannot create the symbol directory: %s\n", pk.linux_dir,
			strerror(errno));
		return 1;
	}
	pk.state = packdir_open(pk.dir);
	for (int i = optind; i < argc; i++) {
		struct stat st;
		if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode))
			add_dir(&pk, argv[i], &dir_st, 0);
		else
			add_job(&pk, argv[i], false);
	}

	struct sigaction sa = { .sa_handler = on_signal };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (packdir_work_open(pk.state) < 0) {
		fprintf(stderr, "btf2isf: %s\n", err_get());
		pack_free(&pk);
		return 1;
	}
	pk.work = packdir_work(pk.state);
	if (pk.n) {
		int r = run_pool(&pk);
		if (r < 0) {
			int sig = stop_signal;
			if (pk.tty)
				fputs("\r\033[K", stderr);
			fprintf(stderr, "btf2isf: pack: stopped by %s: %d profiles written, no temporary files left\n",
				strsignal(sig), pk.counts[RES_WRITTEN]);
			if (packdir_save(pk.state) < 0)
				fprintf(stderr, "btf2isf: %s\n", err_get());
			pack_free(&pk);
			signal(sig, SIG_DFL);
			raise(sig);
			return 1;
		}
	}
	if (pk.tty)
		fputs("\r\033[K", stderr);
	ret = pk.counts[RES_FAILED] ? 1 : 0;
	size_t indexed = 0;
	if (pk.index && packdir_write_index(pk.state, pk.index, &indexed) < 0) {
		fprintf(stderr, "btf2isf: %s\n", err_get());
		ret = 1;
	}
	if (packdir_save(pk.state) < 0 && verbosity > LOG_QUIET)
		fprintf(stderr, "btf2isf: warning: %s (the next run reads every input again)\n", err_get());
	if (pk.failures.len)
		fwrite(pk.failures.p, 1, pk.failures.len, stderr);
	if (pk.n || verbosity >= LOG_INFO) {
		fprintf(stderr, "btf2isf pack: %zu inputs: %d written, %d already present, %d skipped, %d failed (%.1f s)",
			pk.n, pk.counts[RES_WRITTEN], pk.counts[RES_PRESENT], pk.counts[RES_SKIPPED],
			pk.counts[RES_FAILED], now_seconds() - t0);
		if (pk.index)
			fprintf(stderr, "; %s/banners.json lists %zu profiles", pk.dir, indexed);
		fputc('\n', stderr);
	} else if (pk.index) {
		fprintf(stderr, "btf2isf pack: %s/banners.json lists %zu profiles\n", pk.dir, indexed);
	}
	pack_free(&pk);
	return ret;
}

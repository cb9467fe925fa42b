#include "packdir.h"

#include "jsonw.h"
#include "log.h"
#include "profile_read.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#define STATE_NAME ".btf2isf-pack"
#define WORK_PREFIX ".btf2isf-work."
#define WORK_OWNER "owner"		/* flock()ed by the run that made the work directory */
#define WORK_GRACE 60			/* s: a work directory this young may not have its owner yet */
#define STATE_MAX (256u << 20)		/* a damaged state file is not read past this */
#define DEPTH_MAX 32

struct entry {
	char *key;			/* input key, or a profile's path in DIR */
	char *val;			/* profile paths, or a banner in base64 */
	long long size, mtime;		/* banners: the file they were read from */
	size_t seq;			/* of a key set twice, the later wins */
};

struct table {
	struct entry *v;
	size_t n, cap, seq;
	bool sorted;
};

struct packdir {
	char *dir;
	struct table inputs, banners;
	char work[PATH_MAX];		/* this run's work directory; "" none */
	int owner_fd;			/* holds the lock on work/owner */
};

static int key_cmp(const void *a, const void *b)
{
	return strcmp(((const struct entry *)a)->key, ((const struct entry *)b)->key);
}

static int entry_cmp(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;
	int c = strcmp(x->key, y->key);

	return c ? c : (x->seq > y->seq) - (x->seq < y->seq);
}

static struct entry *table_find(struct table *t, const char *key)
{
	struct entry k = { .key = (char *)key };

	if (!t->sorted) {
		if (t->n)
			qsort(t->v, t->n, sizeof(*t->v), entry_cmp);
		/* Later entries of a key replace earlier ones. */
		size_t o = 0;
		for (size_t i = 0; i < t->n; i++) {
			if (o && !strcmp(t->v[o - 1].key, t->v[i].key)) {
				free(t->v[o - 1].key);
				free(t->v[o - 1].val);
				t->v[o - 1] = t->v[i];
			} else {
				t->v[o++] = t->v[i];
			}
		}
		t->n = o;
		t->sorted = true;
	}
	return t->n ? bsearch(&k, t->v, t->n, sizeof(*t->v), key_cmp) : NULL;
}

/* Replaced in place while sorted, else appended (sorting keeps the last). */
static void table_set(struct table *t, const char *key, const char *val, long long size, long long mtime)
{
	struct entry *e = t->sorted ? table_find(t, key) : NULL;

	if (e) {
		free(e->val);
		e->val = xstrdup(val);
		e->size = size;
		e->mtime = mtime;
		return;
	}
	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 64;
		t->v = xreallocarray(t->v, t->cap, sizeof(*t->v));
	}
	t->v[t->n++] = (struct entry){ xstrdup(key), xstrdup(val), size, mtime, t->seq++ };
	t->sorted = false;
}

static void table_free(struct table *t)
{
	for (size_t i = 0; i < t->n; i++) {
		free(t->v[i].key);
		free(t->v[i].val);
	}
	free(t->v);
	memset(t, 0, sizeof(*t));
}

static bool clean_field(const char *s)
{
	return !strpbrk(s, "\t\n\r");
}

static void load_line(struct packdir *d, char *line)
{
	char *f[5];
	int n = 0;

	for (char *s = line; n < 5; n++) {
		f[n] = s;
		if (!(s = strchr(s, '\t'))) {
			n++;
			break;
		}
		*s++ = 0;
	}
	if (n == 3 && !strcmp(f[0], "input") && *f[1])
		table_set(&d->inputs, f[1], f[2], 0, 0);
	else if (n == 5 && !strcmp(f[0], "banner") && *f[1] && *f[4])
		table_set(&d->banners, f[1], f[4], atoll(f[2]), atoll(f[3]));
}

struct packdir *packdir_open(const char *dir)
{
	struct packdir *d = xcalloc(1, sizeof(*d));
	char path[PATH_MAX];
	FILE *f;

	d->dir = xstrdup(dir);
	d->owner_fd = -1;
	snprintf(path, sizeof(path), "%s/" STATE_NAME, dir);
	if (!(f = fopen(path, "re")))
		return d;
	char *line = NULL;
	size_t cap = 0, total = 0;
	ssize_t len;
	while ((len = getline(&line, &cap, f)) > 0 && (total += (size_t)len) < STATE_MAX) {
		if (line[len - 1] == '\n')
			line[len - 1] = 0;
		load_line(d, line);
	}
	free(line);
	fclose(f);
	return d;
}

void packdir_free(struct packdir *d)
{
	if (!d)
		return;
	packdir_work_remove(d);
	table_free(&d->inputs);
	table_free(&d->banners);
	free(d->dir);
	free(d);
}

const char *packdir_input(struct packdir *d, const char *key)
{
	struct entry *e = table_find(&d->inputs, key);

	return e ? e->val : NULL;
}

void packdir_set_input(struct packdir *d, const char *key, const char *paths)
{
	if (clean_field(key) && clean_field(paths))
		table_set(&d->inputs, key, paths, 0, 0);
}

static long long mtime_ns(const struct stat *st)
{
	return (long long)st->st_mtim.tv_sec * 1000000000LL + st->st_mtim.tv_nsec;
}

const char *packdir_banner(struct packdir *d, const char *rel, const struct stat *st)
{
	struct entry *e = table_find(&d->banners, rel);

	return e && e->size == (long long)st->st_size && e->mtime == mtime_ns(st) ? e->val : NULL;
}

void packdir_set_banner(struct packdir *d, const char *rel, const struct stat *st, const char *b64)
{
	if (clean_field(rel) && clean_field(b64) && *b64)
		table_set(&d->banners, rel, b64, (long long)st->st_size, mtime_ns(st));
}

/* ---- the work directory ---- */

/* Work directories hold only files (profiles being written, spilled
 * package members, the state and the index before their rename). */
static void remove_flat_dir(const char *dir)
{
	DIR *dh = opendir(dir);
	struct dirent *de;
	char path[PATH_MAX];

	if (dh) {
		while ((de = readdir(dh)))
			if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..") &&
			    path_join(path, sizeof(path), dir, de->d_name))
				unlink(path);
		closedir(dh);
	}
	rmdir(dir);
}

/* A work directory whose owner lock can be taken belongs to a run that is
 * gone (SIGKILL, a crash, power lost: nothing could clean up after it). */
static void reap_stale_work(const char *dir)
{
	DIR *dh = opendir(dir);
	struct dirent *de;
	char work[PATH_MAX], owner[PATH_MAX];

	if (!dh)
		return;
	while ((de = readdir(dh))) {
		struct stat st;
		if (strncmp(de->d_name, WORK_PREFIX, strlen(WORK_PREFIX)) ||
		    !path_join(work, sizeof(work), dir, de->d_name) ||
		    !path_join(owner, sizeof(owner), work, WORK_OWNER) || lstat(work, &st) < 0 ||
		    !S_ISDIR(st.st_mode))
			continue;
		int fd = open(owner, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
		if (fd < 0) {
			/* No owner file: one being set up right now, or left by a
			 * run killed in that instant. */
			if (errno == ENOENT && time(NULL) - st.st_mtime > WORK_GRACE)
				remove_flat_dir(work);
			continue;
		}
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			remove_flat_dir(work);
		close(fd);
	}
	closedir(dh);
}

int packdir_work_open(struct packdir *d)
{
	char owner[PATH_MAX];

	reap_stale_work(d->dir);
	snprintf(d->work, sizeof(d->work), "%s/" WORK_PREFIX "XXXXXX", d->dir);
	if (!mkdtemp(d->work)) {
		int e = errno;
		d->work[0] = 0;
		return err_set("%s: cannot write in the symbol directory: %s", d->dir, strerror(e));
	}
	/* The lock lasts as long as this process and its workers, which share
	 * the open file and die with it (PR_SET_PDEATHSIG). */
	if (!path_join(owner, sizeof(owner), d->work, WORK_OWNER) ||
	    (d->owner_fd = open(owner, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0 ||
	    flock(d->owner_fd, LOCK_EX | LOCK_NB) < 0) {
		int e = errno;
		packdir_work_remove(d);
		return err_set("%s: cannot lock the work directory: %s", d->dir, strerror(e));
	}
	return 0;
}

const char *packdir_work(const struct packdir *d)
{
	return d->work[0] ? d->work : NULL;
}

void packdir_work_remove(struct packdir *d)
{
	if (!d->work[0])
		return;
	remove_flat_dir(d->work);
	if (d->owner_fd >= 0)
		close(d->owner_fd);
	d->owner_fd = -1;
	d->work[0] = 0;
}

/* Whole text written to DIR/NAME through a temporary file (in the work
 * directory when there is one) and rename. */
static int write_atomic(const struct packdir *d, const char *name, const struct buf *text)
{
	char path[PATH_MAX], tmp[PATH_MAX];
	int fd, e = 0;

	snprintf(path, sizeof(path), "%s/%s", d->dir, name);
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s/.%s.XXXXXX", d->work[0] ? d->work : d->dir, name) >= sizeof(tmp))
		return err_set("%s: path too long", path);
	if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0)
		return err_set("%s: cannot create a temporary file: %s", path, strerror(errno));
	fchmod(fd, 0644);
	for (size_t done = 0; done < text->len && !e;) {
		ssize_t n = write(fd, text->p + done, text->len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			e = n < 0 ? errno : ENOSPC;
		else
			done += (size_t)n;
	}
	if (!e && fsync(fd) < 0)
		e = errno;
	if (close(fd) < 0 && !e)
		e = errno;
	if (!e && rename(tmp, path) < 0)
		e = errno;
	if (e) {
		unlink(tmp);
		return err_set("%s: write failed: %s", path, strerror(e));
	}
	return 0;
}

int packdir_save(struct packdir *d)
{
	struct buf b = { 0 };
	char num[64];
	int ret;

	table_find(&d->inputs, "");	/* sort: the file is stable across runs */
	table_find(&d->banners, "");
	buf_append(&b, "# btf2isf pack state: input KEY PATHS | banner PATH SIZE MTIME BASE64\n", 70);
	for (size_t i = 0; i < d->inputs.n; i++) {
		const struct entry *e = &d->inputs.v[i];
		buf_append(&b, "input\t", 6);
		buf_append(&b, e->key, strlen(e->key));
		buf_append(&b, "\t", 1);
		buf_append(&b, e->val, strlen(e->val));
		buf_append(&b, "\n", 1);
	}
	for (size_t i = 0; i < d->banners.n; i++) {
		const struct entry *e = &d->banners.v[i];
		buf_append(&b, "banner\t", 7);
		buf_append(&b, e->key, strlen(e->key));
		int n = snprintf(num, sizeof(num), "\t%lld\t%lld\t", e->size, e->mtime);
		buf_append(&b, num, (size_t)n);
		buf_append(&b, e->val, strlen(e->val));
		buf_append(&b, "\n", 1);
	}
	ret = write_atomic(d, STATE_NAME, &b);
	buf_free(&b);
	return ret;
}

/* ---- banners.json ---- */

struct indexed {
	char *b64, *rel;
};

static int indexed_cmp(const void *a, const void *b)
{
	const struct indexed *x = a, *y = b;
	int c = strcmp(x->b64, y->b64);

	return c ? c : strcmp(x->rel, y->rel);
}

static bool isf_name(const char *name)
{
	static const char *const ext[] = { ".json", ".json.xz", ".json.gz", ".json.bz2" };
	size_t n = strlen(name);

	for (size_t i = 0; i < ARRAY_SIZE(ext); i++) {
		size_t e = strlen(ext[i]);
		if (n > e && !strcmp(name + n - e, ext[i]))
			return true;
	}
	return false;
}

static char *read_banner(const char *path)
{
	struct isf *isf;
	struct span banner;
	char *b64 = NULL;

	if (isf_open(path, &isf) < 0)
		return NULL;
	if (isf_banner(isf, &banner) == 0)
		b64 = base64_encode(banner.p, banner.n);
	isf_close(isf);
	return b64;
}

/* Profiles under DIR/rel (rel "" for DIR), sorted, dot files left out. */
static void collect(struct packdir *d, const char *rel, int depth, struct indexed **v, size_t *n,
		    size_t *cap)
{
	char path[PATH_MAX], sub[PATH_MAX];
	char **names;
	size_t nn;

	snprintf(path, sizeof(path), "%s%s%s", d->dir, *rel ? "/" : "", rel);
	if (depth > DEPTH_MAX || !(names = dir_names_sorted(path, &nn)))
		return;
	for (size_t i = 0; i < nn; i++) {
		struct stat st;
		/* Hidden entries are btf2isf's own (state, work directories
		 * with profiles half written) or not meant to be served. */
		if (names[i][0] == '.')
			goto next;
		snprintf(sub, sizeof(sub), "%s%s%s", rel, *rel ? "/" : "", names[i]);
		if (!path_join(path, sizeof(path), d->dir, sub) || stat(path, &st) < 0)
			goto next;
		if (S_ISDIR(st.st_mode)) {
			collect(d, sub, depth + 1, v, n, cap);
			goto next;
		}
		if (!S_ISREG(st.st_mode) || !isf_name(names[i]) || !strcmp(sub, "banners.json"))
			goto next;
		const char *known = packdir_banner(d, sub, &st);
		char *b64 = known ? xstrdup(known) : read_banner(path);
		if (!b64) {
			pr_warn("btf2isf: %s: not indexed: %s\n", path,
				known ? "" : err_get());
			goto next;
		}
		if (!known)
			packdir_set_banner(d, sub, &st, b64);
		if (*n == *cap) {
			*cap = *cap ? *cap * 2 : 64;
			*v = xreallocarray(*v, *cap, sizeof(**v));
		}
		(*v)[(*n)++] = (struct indexed){ b64, xstrdup(sub) };
next:
		free(names[i]);
	}
	free(names);
}

/* A path as a URL path: bytes outside the unreserved set percent-encoded. */
static void url_append_path(struct buf *b, const char *rel)
{
	static const char hex[] = "0123456789ABCDEF";

	for (const unsigned char *s = (const unsigned char *)rel; *s; s++) {
		if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
		    strchr("-._~/+", *s)) {
			buf_append(b, s, 1);
		} else {
			char esc[3] = { '%', hex[*s >> 4], hex[*s & 15] };
			buf_append(b, esc, 3);
		}
	}
}

int packdir_write_index(struct packdir *d, const char *url_prefix, size_t *indexed)
{
	struct indexed *v = NULL;
	size_t n = 0, cap = 0, plen = strlen(url_prefix);
	char path[PATH_MAX], staged[PATH_MAX];
	struct sink *s;
	int ret = -1;

	while (plen && url_prefix[plen - 1] == '/')
		plen--;
	collect(d, "", 0, &v, &n, &cap);
	if (n)
		qsort(v, n, sizeof(*v), indexed_cmp);
	snprintf(path, sizeof(path), "%s/banners.json", d->dir);
	/* Written in the work directory, then renamed into DIR, so that even a
	 * SIGKILL leaves nothing behind that the next run would not remove. */
	if ((size_t)snprintf(staged, sizeof(staged), "%s/banners.json", d->work[0] ? d->work : d->dir) >= sizeof(staged))
		s = NULL, err_set("%s: path too long", path);
	else if ((s = sink_open(staged))) {
		struct jsonw *w = jsonw_new(s, false);
		struct buf url = { 0 };
		jsonw_start_object(w);
		jsonw_name(w, "version");
		jsonw_uint(w, 1);
		jsonw_name(w, "linux");
		jsonw_start_object(w);
		for (size_t i = 0; i < n; i++) {
			if (!i || strcmp(v[i].b64, v[i - 1].b64)) {
				if (i)
					jsonw_end_array(w);
				jsonw_name(w, v[i].b64);
				jsonw_start_array(w);
			}
			url.len = 0;
			buf_append(&url, url_prefix, plen);
			buf_append(&url, "/", 1);
			url_append_path(&url, v[i].rel);
			jsonw_string_len(w, (const char *)url.p, url.len);
		}
		if (n)
			jsonw_end_array(w);
		jsonw_end_object(w);
		jsonw_end_object(w);
		buf_free(&url);
		if (jsonw_free(w) < 0)
			sink_abort(s);
		else
			ret = sink_close(s);
		if (ret == 0 && strcmp(staged, path) && rename(staged, path) < 0) {
			ret = err_set("%s: cannot rename into place: %s", path, strerror(errno));
			unlink(staged);
		}
	}
	for (size_t i = 0; i < n; i++) {
		free(v[i].b64);
		free(v[i].rel);
	}
	free(v);
	*indexed = n;
	return ret;
}

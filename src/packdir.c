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
#include <unistd.h>

#define STATE_NAME ".btf2isf-pack"
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

/* Whole text written to DIR/NAME through a temporary file and rename. */
static int write_atomic(const char *dir, const char *name, const struct buf *text)
{
	char path[PATH_MAX], tmp[PATH_MAX];
	int fd, e = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	snprintf(tmp, sizeof(tmp), "%s/.%s.XXXXXX", dir, name);
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
	ret = write_atomic(d->dir, STATE_NAME, &b);
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
	char path[PATH_MAX];
	struct sink *s;
	int ret = -1;

	while (plen && url_prefix[plen - 1] == '/')
		plen--;
	collect(d, "", 0, &v, &n, &cap);
	if (n)
		qsort(v, n, sizeof(*v), indexed_cmp);
	snprintf(path, sizeof(path), "%s/banners.json", d->dir);
	if ((s = sink_open(path))) {
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
	}
	for (size_t i = 0; i < n; i++) {
		free(v[i].b64);
		free(v[i].rel);
	}
	free(v);
	*indexed = n;
	return ret;
}

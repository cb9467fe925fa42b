#include "package.h"

#include "kimage.h"
#include "log.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#define MEM_MAX (64u << 20)		/* larger members are spilled to a file */
#define MD5SUMS_MAX (16u << 20)
#define READ_BLOCK (1u << 20)

/* Where distributions install kernels (paths relative to the root). */
static const char *const kernel_paths[] = {
	"boot/vmlinu[xz]*",			/* Debian/Ubuntu linux-image-*, plain /boot */
	"lib/modules/*/vmlinu[xz]",		/* RPM kernel-core, kernel-default */
	"usr/lib/modules/*/vmlinu[xz]",		/* Arch, Debian 7.x linux-binary-*, Fedora */
	"usr/lib/debug/boot/vmlinux*",		/* Debian -dbg up to 6.x */
	"usr/lib/debug/lib/modules/*/vmlinux",	/* Debian 7.x -dbg, Fedora debuginfo */
	"usr/lib/debug/usr/lib/modules/*/vmlinux",
};

static const char *strip_root(const char *path)
{
	for (;;) {
		if (path[0] == '.' && path[1] == '/')
			path += 2;
		else if (path[0] == '/')
			path++;
		else
			return path;
	}
}

static bool kernel_path(const char *path)
{
	path = strip_root(path);
	for (size_t i = 0; i < ARRAY_SIZE(kernel_paths); i++)
		if (fnmatch(kernel_paths[i], path, FNM_PATHNAME) == 0)
			return true;
	return false;
}

static bool kernel_bytes(struct span s)
{
	return (s.n >= 4 && !memcmp(s.p, "\x7f" "ELF", 4)) || kimage_is_compressed_kernel(s);
}

/* Only the formats and filters packages use: the static link then leaves
 * out the rest of libarchive (xar's libxml2, ACL support). */
static struct archive *reader_new(void)
{
	struct archive *a = archive_read_new();

	if (!a) {
		fprintf(stderr, "btf2isf: out of memory\n");
		exit(1);
	}
	archive_read_support_format_ar(a);
	archive_read_support_format_tar(a);
	archive_read_support_format_cpio(a);
	archive_read_support_filter_gzip(a);
	archive_read_support_filter_bzip2(a);
	archive_read_support_filter_xz(a);
	archive_read_support_filter_lzma(a);
	archive_read_support_filter_zstd(a);
	archive_read_support_filter_lz4(a);
	archive_read_support_filter_rpm(a);
	return a;
}

bool package_sniff(struct span head)
{
	struct archive_entry *e;
	struct archive *a;
	bool yes;

	if (head.n >= 8 && !memcmp(head.p, "!<arch>\n", 8))
		return true;
	if (head.n >= 4 && !memcmp(head.p, "\xed\xab\xee\xdb", 4))	/* RPM lead */
		return true;
	/* Anything else must show a member: an empty tar is 1 KiB of zeros,
	 * as the start of many raw memory images is. */
	a = reader_new();
	yes = archive_read_open_memory(a, head.p, head.n) == ARCHIVE_OK &&
	      archive_read_next_header(a, &e) >= ARCHIVE_WARN;
	archive_read_free(a);
	return yes;
}

void package_blob_free(struct package_blob *b)
{
	if (!b)
		return;
	free(b->heap);
	if (b->map_len)
		munmap((void *)b->bytes.p, b->map_len);
	memset(b, 0, sizeof(*b));
}

struct walk {
	const char *name, *tmpdir;
	package_kernel_fn fn;
	void *ctx;
	int nkernels;
	long expect;			/* kernels a .deb's md5sums lists; -1 unknown */
	long seen;			/* kernel paths met so far */
	struct archive *outer;		/* read by the nested archive */
	uint8_t *block;			/* the outer archive's bytes, lent to the nested one */
	uint8_t *spill;			/* a member's bytes on their way to a file */
};

static int archive_err(const struct walk *w, const char *member, struct archive *a)
{
	const char *why = archive_error_string(a);

	/* libarchive's words say what it met ("Unrecognized rpm header"); the
	 * reader needs to know that this is why the package gave nothing. */
	return err_set("%s%s%s: cannot read the package or archive (corrupt or truncated?): %s", w->name,
		       member ? ": " : "", member ? member : "", why ? why : "unreadable archive");
}

static int tmp_file(const char *dir)
{
	char path[PATH_MAX];
	int fd;

	if (!dir)
		dir = getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd >= 0)
		return fd;
	snprintf(path, sizeof(path), "%s/.btf2isf-member.XXXXXX", dir);
	fd = mkostemp(path, O_CLOEXEC);
	if (fd >= 0)
		unlink(path);
	return fd;
}

/* The current member's bytes: into memory when its size is known and small,
 * else through an unlinked temporary file, mapped. */
static int read_member(struct walk *w, struct archive *a, struct archive_entry *e, const char *member,
		       struct package_blob *out)
{
	int64_t size = archive_entry_size_is_set(e) ? archive_entry_size(e) : -1;
	uint64_t total = 0;
	la_ssize_t n;
	int fd;

	if (size > (int64_t)PACKAGE_MEMBER_MAX)
		return err_set("%s: %s: %lld bytes, more than the %llu GiB a kernel may have", w->name,
			       member, (long long)size, PACKAGE_MEMBER_MAX >> 30);
	if (size >= 0 && size <= MEM_MAX) {
		uint8_t *p = xmalloc(size ? (size_t)size : 1);
		while (total < (uint64_t)size && (n = archive_read_data(a, p + total, (size_t)size - total)) > 0)
			total += (uint64_t)n;
		if (total < (uint64_t)size) {
			free(p);
			if (archive_errno(a) || archive_error_string(a))
				return archive_err(w, member, a);
			return err_set("%s: %s: truncated (%llu of %lld bytes)", w->name, member,
				       (unsigned long long)total, (long long)size);
		}
		*out = (struct package_blob){ { p, (size_t)size }, p, 0 };
		return 0;
	}
	if ((fd = tmp_file(w->tmpdir)) < 0)
		return err_set("%s: %s: no temporary file for %lld bytes: %s", w->name, member,
			       (long long)size, strerror(errno));
	/* Not w->block: a nested archive still decodes from that buffer. */
	if (!w->spill)
		w->spill = xmalloc(READ_BLOCK);
	while ((n = archive_read_data(a, w->spill, READ_BLOCK)) > 0) {
		if (total + (uint64_t)n > PACKAGE_MEMBER_MAX) {
			close(fd);
			return err_set("%s: %s: more than the %llu GiB a kernel may have", w->name, member,
				       PACKAGE_MEMBER_MAX >> 30);
		}
		for (la_ssize_t done = 0; done < n;) {
			ssize_t k = write(fd, w->spill + done, (size_t)(n - done));
			if (k < 0 && errno == EINTR)
				continue;
			if (k <= 0) {
				int e2 = errno;
				close(fd);
				return err_set("%s: %s: cannot write a temporary copy: %s", w->name, member,
					       strerror(k < 0 ? e2 : ENOSPC));
			}
			done += k;
		}
		total += (uint64_t)n;
	}
	if (n < 0 || (size >= 0 && total < (uint64_t)size)) {
		close(fd);
		return n < 0 ? archive_err(w, member, a)
			     : err_set("%s: %s: truncated (%llu of %lld bytes)", w->name, member,
				       (unsigned long long)total, (long long)size);
	}
	void *map = total ? mmap(NULL, total, PROT_READ, MAP_PRIVATE, fd, 0) : MAP_FAILED;
	close(fd);
	if (map == MAP_FAILED)
		return err_set("%s: %s: cannot map %llu bytes: %s", w->name, member,
			       (unsigned long long)total, total ? strerror(errno) : "empty");
	*out = (struct package_blob){ { map, (size_t)total }, NULL, (size_t)total };
	return 0;
}

static int kernel_member(struct walk *w, struct archive *a, struct archive_entry *e, const char *path)
{
	struct package_blob blob = { 0 };
	const char *member = strip_root(path);
	int ret = 0;

	w->seen++;
	if (read_member(w, a, e, member, &blob) < 0)
		return -1;
	if (kernel_bytes(blob.bytes)) {
		struct package_kernel k = { member, blob.bytes, &blob };
		w->nkernels++;
		ret = w->fn(w->ctx, &k);
	} else {
		pr_info("%s: %s: not a kernel (neither ELF nor a compressed kernel)\n", w->name, member);
	}
	package_blob_free(&blob);
	return ret;
}

static la_ssize_t nested_read(struct archive *inner, void *ctx, const void **buf)
{
	struct walk *w = ctx;
	la_ssize_t n = archive_read_data(w->outer, w->block, READ_BLOCK);

	if (n < 0)
		archive_set_error(inner, EIO, "%s", archive_error_string(w->outer));
	*buf = w->block;
	return n;
}

/* A .deb's md5sums names every regular file it installs: how many kernels
 * data.tar holds, so that reading stops after the last one (the modules
 * behind them are 90% of the package). */
static int count_listed_kernels(struct walk *w, struct archive *ctl, const char *member)
{
	struct archive_entry *e;
	int r;

	while ((r = archive_read_next_header(ctl, &e)) == ARCHIVE_OK || r == ARCHIVE_WARN) {
		const char *path = archive_entry_pathname(e);
		if (!path || strcmp(strip_root(path), "md5sums"))
			continue;
		int64_t size = archive_entry_size(e);
		if (size < 0 || size > MD5SUMS_MAX)
			return 0;	/* unusual: read data.tar to its end */
		char *text = xmalloc((size_t)size + 1);
		la_ssize_t n = archive_read_data(ctl, text, (size_t)size);
		if (n != size) {
			free(text);
			return archive_err(w, member, ctl);
		}
		text[size] = 0;
		w->expect = 0;
		for (char *line = text, *next; line && *line; line = next) {
			next = strchr(line, '\n');
			if (next)
				*next++ = 0;
			char *sep = strstr(line, "  ");	/* "<md5>  <path>" */
			if (sep && kernel_path(sep + 2))
				w->expect++;
		}
		free(text);
		return 0;
	}
	return r == ARCHIVE_EOF ? 0 : archive_err(w, member, ctl);
}

static int walk_archive(struct walk *w, struct archive *a, const char *within);

/* A member of the .deb's ar archive that is itself an archive. */
static int walk_nested(struct walk *w, struct archive *outer, const char *member, bool control)
{
	struct archive *inner = reader_new();
	char within[PATH_MAX];
	int ret;

	w->outer = outer;
	if (archive_read_open(inner, w, NULL, nested_read, NULL) != ARCHIVE_OK) {
		ret = archive_err(w, member, inner);
	} else if (control) {
		ret = count_listed_kernels(w, inner, member);
	} else {
		snprintf(within, sizeof(within), "%s", member);
		ret = walk_archive(w, inner, within);
	}
	archive_read_free(inner);
	return ret;
}

static int walk_archive(struct walk *w, struct archive *a, const char *within)
{
	struct archive_entry *e;
	int r;

	while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK || r == ARCHIVE_WARN) {
		const char *path = archive_entry_pathname(e);
		if (!path)
			continue;
		if (!within && (archive_format(a) & ARCHIVE_FORMAT_BASE_MASK) == ARCHIVE_FORMAT_AR) {
			/* A .deb: control.tar.* first, then data.tar.*. */
			if (!strncmp(path, "control.tar", 11)) {
				if (walk_nested(w, a, path, true) < 0)
					return -1;
			} else if (!strncmp(path, "data.tar", 8)) {
				if (w->expect == 0)
					return 0;
				return walk_nested(w, a, path, false);
			}
			continue;
		}
		if (archive_entry_filetype(e) != AE_IFREG || archive_entry_hardlink(e) ||
		    !kernel_path(path))
			continue;
		if (kernel_member(w, a, e, path) < 0)
			return -1;
		if (w->expect >= 0 && w->seen >= w->expect)
			return 0;
	}
	if (r != ARCHIVE_EOF)
		return archive_err(w, within, a);
	return 0;
}

int package_kernels(const char *name, int fd, struct span mem, const char *tmpdir,
		    package_kernel_fn fn, void *ctx)
{
	struct walk w = { .name = name, .tmpdir = tmpdir, .fn = fn, .ctx = ctx, .expect = -1 };
	struct archive *a = reader_new();
	int ret, r;

	w.block = xmalloc(READ_BLOCK);
	r = fd >= 0 ? archive_read_open_fd(a, fd, READ_BLOCK)
		    : archive_read_open_memory(a, mem.p, mem.n);
	if (r != ARCHIVE_OK)
		ret = archive_err(&w, NULL, a);
	else
		ret = walk_archive(&w, a, NULL);
	archive_read_free(a);
	free(w.block);
	free(w.spill);
	return ret < 0 ? -1 : w.nkernels;
}

struct one {
	struct package_blob *out;
	char *member;
	size_t n;
	int count;
	char list[600];
};

static int take_one(void *ctx, const struct package_kernel *k)
{
	struct one *o = ctx;
	size_t used = strlen(o->list);

	snprintf(o->list + used, sizeof(o->list) - used, "%s%s", used ? ", " : "", k->member);
	if (o->count++ == 0) {
		*o->out = *k->own;
		memset(k->own, 0, sizeof(*k->own));
		size_t mlen = strlen(o->member);
		snprintf(o->member + mlen, o->n - mlen, ":%s", k->member);
	}
	return 0;
}

int package_one_kernel(const char *name, struct span mem, struct package_blob *out, char *member,
		       size_t n)
{
	struct one o = { .out = out, .member = member, .n = n };

	memset(out, 0, sizeof(*out));
	snprintf(member, n, "%s", name);
	if (package_kernels(name, -1, mem, NULL, take_one, &o) < 0) {
		package_blob_free(out);
		return -1;
	}
	if (o.count == 1)
		return 0;
	package_blob_free(out);
	if (!o.count)
		return err_set("%s: no kernel in this package or archive (no vmlinuz or vmlinux where distributions install one: /boot, /lib/modules/*/, /usr/lib/modules/*/, /usr/lib/debug/)",
			       name);
	return err_set("%s: %d kernels (%s): give it to 'btf2isf pack' for one profile each", name,
		       o.count, o.list);
}

#include "profile.h"

#include "banner.h"
#include "kallsyms.h"
#include "kimage.h"
#include "ldsyms.h"
#include "live.h"
#include "log.h"

#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

/* libbpf explains a rejected BTF only through its print callback: keep its
 * last warning so our one error line can say why. */
static char libbpf_last_warning[256];

static int libbpf_log(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_WARN) {
		vsnprintf(libbpf_last_warning, sizeof(libbpf_last_warning), fmt, ap);
		libbpf_last_warning[strcspn(libbpf_last_warning, "\n")] = 0;
	}
	return 0;
}

/* Records an option that does not apply to the input (exit 2); returns
 * PROFILE_MISUSE. */
B2I_PRINTF(1, 2)
static int misuse(const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	err_set("%s (see btf2isf --help)", msg);
	return PROFILE_MISUSE;
}

/* Maps path; past `max` bytes a stream (pipe, /proc file) is refused as not
 * being `what`. */
static const struct mapped_file *open_input(struct profile *p, const char *path, size_t max,
					    const char *what, bool (*plausible)(struct span head))
{
	if (p->nfiles == (int)ARRAY_SIZE(p->files)) {
		err_set("%s: too many input files", path);
		return NULL;
	}
	if (map_file_max(path, max, what, plausible, &p->files[p->nfiles]) < 0)
		return NULL;
	return &p->files[p->nfiles++];
}

static void add_source(struct profile *p, const char *kind, const char *name, struct span bytes)
{
	struct isf_source *s = &p->isf.sources[p->isf.nsources++];

	s->kind = kind;
	snprintf(s->name, sizeof(s->name), "%s", name);
	sha256_hex_start(&p->hashing[p->isf.nsources - 1], bytes, s->sha256);
}

static bool is_raw_btf(struct span s)
{
	return s.n >= 24 && ((s.p[0] == 0x9f && s.p[1] == 0xeb) || (s.p[0] == 0xeb && s.p[1] == 0x9f));
}

static bool is_elf(struct span s) { return s.n >= 4 && !memcmp(s.p, "\x7f" "ELF", 4); }

static bool is_btf_or_elf(struct span s) { return is_raw_btf(s) || is_elf(s); }

/* System.map and kallsyms lines start with an address. */
static bool starts_hex(struct span s) { return s.n && isxdigit(s.p[0]); }

/* BTF → type model, on another core while the caller gathers and sorts the
 * symbols (both take 10-20 ms on a distribution kernel). */
static void build_types(void *arg)
{
	struct profile *p = arg;

	libbpf_last_warning[0] = 0;
	p->btf = btf__new(p->btf_bytes.p, (uint32_t)p->btf_bytes.n);
	if (!p->btf) {
		p->btf_errno = errno;
		return;
	}
	p->types = isf_types_new(p->btf);
}

static void start_types(struct profile *p, struct span bytes)
{
	p->btf_bytes = bytes;
	if (bytes.n >= 24 && bytes.n <= UINT32_MAX)
		thread_job_start(&p->types_job, build_types, p);
}

/* Types from these bytes: kept if already under way, else started over. */
static void types_from(struct profile *p, struct span bytes)
{
	if (p->btf_bytes.p == bytes.p && p->btf_bytes.n == bytes.n)
		return;
	thread_job_join(&p->types_job);
	isf_types_free(p->types);
	btf__free(p->btf);
	p->types = NULL;
	p->btf = NULL;
	p->btf_errno = 0;
	start_types(p, bytes);
}

/* A memory image's likely BTF (carve_kernels' guess), parsed before the
 * kernel is known.  Nothing is reported from it unless parse_btf() later
 * names these very bytes. */
static void guess_btf(void *ctx, struct span bytes)
{
	types_from(ctx, bytes);
}

/* Start reading the BTF at bytes (which must stay mapped) once a path has
 * found it; what names it in messages ("FILE: .BTF section").  Whether it is
 * usable, finish_types() tells. */
static void parse_btf(struct profile *p, struct span bytes, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(p->btf_what, sizeof(p->btf_what), fmt, ap);
	va_end(ap);
	p->btf_size = bytes.n;
	p->btf_found = true;
	types_from(p, bytes);
}

static int finish_types(struct profile *p)
{
	thread_job_join(&p->types_job);
	if (!p->btf_found)
		return err_set("no BTF found (internal error)");
	if (p->btf_size < 24 || p->btf_size > UINT32_MAX)
		return err_set("%s: %zu bytes is not a plausible BTF size", p->btf_what, p->btf_size);
	if (!p->btf)
		return err_set("%s: BTF rejected by libbpf: %s", p->btf_what,
			       libbpf_last_warning[0] ? libbpf_last_warning : strerror(p->btf_errno));
	return 0;
}

/* ---- symbols ---- */

static int symbols_from_kallsyms(struct profile *p, struct span region, uint64_t va)
{
	struct kallsyms_table t;

	if (kallsyms_carve(region, va, &t) < 0)
		return -1;	/* the message names kallsyms and where */
	struct symbol *v = xreallocarray(NULL, t.n ? t.n : 1, sizeof(*v));
	for (size_t i = 0; i < t.n; i++) {
		const struct ksym *e = ksym_by_name(&t, i);
		v[i] = (struct symbol){ e->addr, e->name, e->type, e->absolute };
	}
	symbols_take(&p->symbols, t.names, t.names_size, t.names_cap, v, t.n);
	t.names = NULL;
	p->symbols_by_kallsyms = true;
	p->nkallsyms_tables = kallsyms_table_symbols(&t, va, p->kallsyms_tables);
	snprintf(p->symbol_source, sizeof(p->symbol_source),
		 "kallsyms (%zu entries, %s layout, encoding %c)", t.n, kallsyms_layout_name(t.layout),
		 (char)t.enc);
	kallsyms_free(&t);
	return 0;
}

/* ---- banner ---- */

static int banner_from_vmlinux(struct profile *p, const struct vmlinux *v)
{
	const struct symbol *sym = symbols_find(&p->symbols, "linux_banner");
	struct span at;
	size_t len;

	if (!sym)
		return err_set("linux_banner is not in the kernel's symbol table");
	if (!vmlinux_bytes_at(v, sym->addr, &at) || !(len = banner_len(at)))
		return err_set("linux_banner at %#llx does not hold a 'Linux version' string",
			       (unsigned long long)sym->addr);
	buf_append(&p->banner, at.p, len);
	snprintf(p->banner_source, sizeof(p->banner_source), "linux_banner at %#llx",
		 (unsigned long long)sym->addr);
	return 0;
}

/* --banner, read by profile_build() before the work. */
static int banner_from_option(struct profile *p)
{
	buf_free(&p->banner);
	buf_append(&p->banner, p->banner_opt.p, p->banner_opt.len);
	snprintf(p->banner_source, sizeof(p->banner_source), "--banner");
	return 0;
}

/* ---- input kinds ---- */

/* kallsyms lives in .rodata; without section headers, in a read-only segment.
 * The 7.0+ encoding needs the arrays' virtual addresses: pass them along. */
static int vmlinux_kallsyms(struct profile *p, const struct vmlinux *v)
{
	const struct vmlinux_section *rodata = vmlinux_section(v, ".rodata");
	struct span bytes;
	int found = vmlinux_section_bytes(v, ".rodata", &bytes);

	if (found < 0)
		return -1;
	if (found)
		return symbols_from_kallsyms(p, bytes, rodata->va);
	for (size_t i = 0; i < v->nseg; i++)
		if (!v->seg[i].writable && symbols_from_kallsyms(p, v->seg[i].bytes, v->seg[i].va) == 0)
			return 0;
	return err_set("no kallsyms tables in the kernel's read-only data (and no .symtab)");
}

/* Without section headers, BTF lies between the __start_BTF and __stop_BTF
 * symbols. */
static int vmlinux_btf_by_symbols(struct profile *p, const struct vmlinux *v, const char *input)
{
	const struct symbol *start = symbols_find(&p->symbols, "__start_BTF"),
			    *stop = symbols_find(&p->symbols, "__stop_BTF");
	struct span bytes;

	if (vmlinux_section(v, ".BTF"))
		return err_set("section .BTF is empty (BTF stripped?)");
	if (v->nsec || !start || !stop)
		return err_set("no .BTF section: the kernel was built without CONFIG_DEBUG_INFO_BTF");
	if (stop->addr <= start->addr || !vmlinux_bytes_at(v, start->addr, &bytes) ||
	    bytes.n < stop->addr - start->addr)
		return err_set("__start_BTF..__stop_BTF (%#llx..%#llx) is not inside the kernel's data",
			       (unsigned long long)start->addr, (unsigned long long)stop->addr);
	bytes.n = (size_t)(stop->addr - start->addr);
	parse_btf(p, bytes, "%s: BTF at __start_BTF", input);
	return 0;
}

/* A vmlinux ELF (given, or decompressed from a vmlinuz). */
static int from_vmlinux(struct profile *p, struct span elf, const struct profile_opts *o)
{
	struct span btf;

	if (vmlinux_open(elf, &p->vml) < 0)
		return -1;
	int found = vmlinux_section_bytes(&p->vml, ".BTF", &btf);
	if (found < 0)
		return -1;
	if (found)
		parse_btf(p, btf, "%s: .BTF section", o->input);
	if (vmlinux_read_symtab(&p->vml, &p->symbols) == 0 && p->symbols.n) {
		snprintf(p->symbol_source, sizeof(p->symbol_source), ".symtab (%zu entries)",
			 p->symbols.n);
	} else if (vmlinux_kallsyms(p, &p->vml) < 0) {
		/* Distribution kernels are stripped: kallsyms is the symbol table. */
		return -1;
	}
	symbols_finish(&p->symbols);
	if (!p->btf_found && vmlinux_btf_by_symbols(p, &p->vml, o->input) < 0)
		return -1;
	if (o->banner_arg)
		return banner_from_option(p);
	return banner_from_vmlinux(p, &p->vml);
}

static bool kernel_matches(const struct carved_kernel *k, const char *want)
{
	return !strcmp(k->release, want) || memmem(k->banner.p, k->banner.n, want, strlen(want));
}

/* Several kernels in one image (a kdump kernel, two dumps in one file): the
 * user's --kernel choice, else the one whose own page tables map it. */
static struct carved_kernel *choose_kernel(struct profile *p, const struct profile_opts *o)
{
	struct carve_result *c = &p->carve;
	struct carved_kernel *pick = NULL;
	size_t matches = 0, running = 0;
	struct buf list = { 0 };
	const char *names;

	for (size_t i = 0; i < c->n; i++) {
		struct carved_kernel *k = &c->k[i];
		char one[sizeof(k->release) + 64];
		snprintf(one, sizeof(one), "%s'%s' at %#llx%s", i ? ", " : "", k->release,
			 (unsigned long long)k->pa_text, k->running ? " (running)" : "");
		buf_append(&list, one, strlen(one));
		if (o->kernel ? kernel_matches(k, o->kernel) : true) {
			matches++;
			if (!pick || (k->running && !pick->running))
				pick = k;
			running += k->running;
		}
	}
	buf_append(&list, "", 1);
	names = (const char *)list.p;
	if (o->kernel && !matches) {
		err_set("--kernel '%s' matches none of the kernels in the image: %s", o->kernel, names);
		pick = NULL;
	} else if (matches > 1 && running != 1) {
		err_set("the image holds %zu kernels and %s: %s; choose one with --kernel RELEASE",
			matches, running ? "several look running" : "none is provably running", names);
		pick = NULL;
	} else {
		free(p->image_report);
		if (asprintf(&p->image_report, "kernels found: %s%s%s; scan: %s", names,
			     c->rejected[0] ? "; rejected: " : "", c->rejected, c->scan_how) < 0)
			p->image_report = NULL;
	}
	buf_free(&list);
	return pick;
}

static int from_memory_image(struct profile *p, const struct profile_opts *o)
{
	struct carved_kernel *k;

	if (o->banner_arg)
		return misuse("--banner does not apply to a memory image: its banner is read from the kernel's own bytes, which Volatility3 matches");
	if (p->input_fd_open) {
		p->input_fd_open = false;	/* adopted by the image */
		if (image_open_fd(p->input_fd, o->input, &p->img) < 0)
			return -1;
	} else if (image_open(o->input, &p->img) < 0) {
		return -1;
	}
	/* Other banner strings are only reported with -v. */
	struct carve_opts co = { .guess_btf = guess_btf, .ctx = p, .list_banners = log_level() >= LOG_INFO };
	if (carve_kernels(&p->img, &co, &p->carve) < 0)
		return err_prefix("%s (%s image): ", o->input, image_format_name(p->img.format));
	if (!(k = choose_kernel(p, o)) && p->carve.sampled) {
		/* --kernel names none of the sampled kernels, or several ran:
		 * decide on every kernel in the image. */
		carve_free(&p->carve);
		co.whole_image = true;
		if (carve_kernels(&p->img, &co, &p->carve) < 0)
			return err_prefix("%s (%s image): ", o->input, image_format_name(p->img.format));
		k = choose_kernel(p, o);
	}
	if (!k)
		return err_prefix("%s: ", o->input);
	snprintf(p->input_kind, sizeof(p->input_kind), "%s memory image, %zu ranges, %llu MiB present",
		 image_format_name(p->img.format), p->img.nruns,
		 (unsigned long long)(p->img.present >> 20));
	parse_btf(p, k->btf, "%s: BTF in the image", o->input);
	/* The kernel's own bytes identify the source: the same kernel gives the
	 * same hash whatever the container format.  Hashed meanwhile. */
	add_source(p, "symtab", path_basename(o->input), k->btf);
	carve_symbols(k, &p->symbols);
	symbols_finish(&p->symbols);
	p->symbols_by_kallsyms = true;
	p->nkallsyms_tables = carve_table_symbols(k, p->kallsyms_tables);
	snprintf(p->symbol_source, sizeof(p->symbol_source),
		 "kallsyms in memory (%zu entries, %s layout, encoding %c)", k->ks.n,
		 kallsyms_layout_name(k->ks.layout), (char)k->ks.enc);
	buf_append(&p->banner, k->banner.p, k->banner.n);
	carve_describe_other_banners(&p->carve, k, &p->img, p->other_banners, sizeof(p->other_banners));
	snprintf(p->banner_source, sizeof(p->banner_source), "linux_banner at physical %#llx",
		 (unsigned long long)k->banner_pa);
	p->slide_known = k->runtime_text != 0;
	p->slide = k->slide;
	snprintf(p->slide_method, sizeof(p->slide_method), "%s; _text at physical %#llx%s", k->slide_how,
		 (unsigned long long)k->pa_text, k->vmcoreinfo ? "; VMCOREINFO found" : "");
	return 0;
}

/* ---- what INPUT is ---- */

struct archive_kind {
	const char *what;		/* "a tar archive" */
	const char *hint, *hint_tail;	/* hint + NAME + hint_tail (no tail: no NAME) */
};

/* Packages and archives handed over instead of the kernel they hold: named
 * for what they are, with the way to the kernel inside. */
static bool archive_kind(struct span h, struct archive_kind *k)
{
	if (h.n >= 8 && !memcmp(h.p, "!<arch>\n", 8)) {
		if (h.n >= 8 + 13 && !memcmp(h.p + 8, "debian-binary", 13))
			*k = (struct archive_kind){ "a Debian package (ar archive)",
						    "extract its vmlinuz (dpkg-deb -x ",
						    " DIR; then btf2isf DIR/boot/vmlinuz-*)" };
		else
			*k = (struct archive_kind){ "an ar archive", "give a vmlinux, vmlinuz or memory image", NULL };
		return true;
	}
	if (h.n >= 4 && !memcmp(h.p, "\xed\xab\xee\xdb", 4)) {
		*k = (struct archive_kind){ "an RPM package", "extract its vmlinuz (rpm2cpio ",
					    " | cpio -idm; then btf2isf lib/modules/*/vmlinuz)" };
		return true;
	}
	if (h.n >= 262 && !memcmp(h.p + 257, "ustar", 5)) {
		*k = (struct archive_kind){ "a tar archive", "extract it (tar -xf ",
					    ") and give the vmlinuz or vmlinux inside" };
		return true;
	}
	if (h.n >= 6 && (!memcmp(h.p, "070701", 6) || !memcmp(h.p, "070702", 6) || !memcmp(h.p, "070707", 6))) {
		*k = (struct archive_kind){ "a cpio archive (an initramfs?)",
					    "give the vmlinuz of the kernel instead", NULL };
		return true;
	}
	if (h.n >= 4 && !memcmp(h.p, "PK\x03\x04", 4)) {
		*k = (struct archive_kind){ "a zip archive", "extract it (unzip ",
					    ") and give the vmlinuz or vmlinux inside" };
		return true;
	}
	return false;
}

static int refuse_archive(const char *name, const struct archive_kind *k, const char *codec)
{
	char how[32] = "";

	if (codec)
		snprintf(how, sizeof(how), ", %s-compressed", codec);
	return err_set("%s: %s%s, not a kernel or memory image: %s%s%s", name, k->what, how, k->hint,
		       k->hint_tail ? name : "", k->hint_tail ? k->hint_tail : "");
}

/* A file that starts with a compressed stream (gzip, xz, zstd, ...) but is
 * not a compressed vmlinux: says what it holds (-1), or 0 when that is a
 * vmlinux, cannot be told, or (unless `any`) is no known kind. */
static int refuse_compressed_non_kernel(struct span file, const char *name, bool any)
{
	uint8_t head[4096];
	const char *codec = NULL;
	size_t n = kimage_peek(file, head, sizeof(head), &codec);
	struct span h = { head, n };
	struct archive_kind k;

	if (!n || is_elf(h))
		return 0;
	if (archive_kind(h, &k))
		return refuse_archive(name, &k, codec);
	if (image_has_header(h))
		return err_set("%s: a memory image, %s-compressed: decompress it into a file first (a memory image needs random access)",
			       name, codec);
	if (kimage_is_compressed_kernel(h))
		return err_set("%s: %s-compressed data holding a compressed kernel (vmlinuz): decompress it into a file first",
			       name, codec);
	if (!any)
		return 0;
	return err_set("%s: %s-compressed data that is not a kernel: it decompresses to neither a vmlinux (ELF) nor a vmlinuz (first bytes %02x %02x %02x %02x)",
		       name, codec, head[0], n > 1 ? head[1] : 0, n > 2 ? head[2] : 0, n > 3 ? head[3] : 0);
}

static const char *stream_kind_name(unsigned mode)
{
	return (mode & S_IFMT) == S_IFREG ? "a /proc or /sys file" : file_kind_name(mode);
}

/* Only this much of a stream is read before deciding whether it can be
 * used at all: every magic tested lies in it (bzImage's "HdrS" at 0x202). */
#define SNIFF_BYTES STREAM_SNIFF_BYTES

/* INPUT that is a stream (pipe, character device, /proc or /sys file): a
 * vmlinux or vmlinuz is read into memory (capped); a memory image is mapped
 * and read at random, so it is refused after its first bytes. */
static int open_stream_input(int fd, const char *name, unsigned mode, bool is_stdin, struct mapped_file *mf)
{
	struct buf head = { 0 };
	struct archive_kind k;
	const char *holds = NULL;
	bool eof;

	if (fd_read_upto(fd, &head, SNIFF_BYTES, &eof) < 0) {
		int e = errno;
		buf_free(&head);
		return err_set("%s: read failed: %s", name, strerror(e));
	}
	struct span h = { head.p, head.len };
	if (!h.n)
		holds = "nothing";
	else if (archive_kind(h, &k))
		holds = k.what;
	else if (image_has_header(h))
		holds = "a memory image";
	else if (!is_elf(h) && !kimage_is_compressed_kernel(h) && !is_raw_btf(h))
		holds = "neither a vmlinux nor a vmlinuz (a raw memory image?)";
	if (!holds)
		return map_stream(fd, name, mode, &head, CAP_KERNEL_FILE, "a kernel file", mf);
	buf_free(&head);
	if (!h.n)
		return err_set("%s: %s that gave nothing: empty", name, stream_kind_name(mode));
	return err_set("%s: %s holding %s: only a vmlinux or vmlinuz can be read from a stream; a memory image needs random access: give it as a regular file%s",
		       name, stream_kind_name(mode), holds, is_stdin ? " (btf2isf - < FILE also works)" : "");
}

/* INPUT (or stdin for "-"): a regular file is mapped, and its descriptor
 * kept in p->input_fd for a memory image; a stream is read if it can be. */
static int open_kernel_input(struct profile *p, const char *name, struct mapped_file *mf)
{
	struct stat st;
	int fd, ret;

	if (p->input_is_stdin)
		fd = fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 0);
	else
		fd = open(name, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_set("%s: cannot open: %s", name, strerror(errno));
	if (fstat(fd, &st) < 0) {
		ret = err_set("%s: cannot stat: %s", name, strerror(errno));
	} else if (S_ISDIR(st.st_mode)) {
		ret = err_set("%s: is a directory", name);
	} else if (S_ISREG(st.st_mode) && (p->input_is_stdin || (strncmp(name, "/proc/", 6) && strncmp(name, "/sys/", 5)))) {
		if (st.st_size == 0)
			ret = err_set("%s: empty file", name);
		else if ((ret = map_fd(fd, name, CAP_KERNEL_FILE, "a kernel file", NULL, mf)) == 0) {
			p->input_fd = fd;
			p->input_fd_open = true;
			return 0;
		}
	} else {
		ret = open_stream_input(fd, name, st.st_mode, p->input_is_stdin, mf);
	}
	close(fd);
	return ret;
}

static int from_kernel_file(struct profile *p, const struct profile_opts *o);

/* A package or archive holding exactly one kernel: that kernel. */
static int from_package(struct profile *p, const struct profile_opts *o, struct span file)
{
	struct profile_opts io = *o;

	if (package_one_kernel(o->input, file, &p->member, p->member_name, sizeof(p->member_name)) < 0)
		return -1;
	io.input = p->member_name;
	io.bytes = p->member.bytes;
	return from_kernel_file(p, &io);
}

static int from_kernel_file(struct profile *p, const struct profile_opts *o)
{
	struct mapped_file *mf;
	struct archive_kind ak;
	struct span file = o->bytes;
	const char *codec;

	if (!file.p) {	/* not a package's member */
		if (p->nfiles == (int)ARRAY_SIZE(p->files))
			return err_set("%s: too many input files", o->input);
		mf = &p->files[p->nfiles];
		if (open_kernel_input(p, o->input, mf) < 0)
			return -1;
		p->nfiles++;
		file = (struct span){ mf->data, mf->size };
	}
	if (!file.n)
		return err_set("%s: empty file", o->input);
	if (image_has_header(file) && !o->bytes.p)
		return from_memory_image(p, o);
	if (!o->bytes.p && !is_elf(file) && package_sniff((struct span){ file.p, file.n < PACKAGE_HEAD_SIZE ? file.n : PACKAGE_HEAD_SIZE }))
		return from_package(p, o, file);
	if (archive_kind(file, &ak))
		return refuse_archive(o->input, &ak, NULL);
	if (is_elf(file)) {
		if (o->kernel)
			return misuse("--kernel does not apply to a vmlinux, which holds one kernel: it chooses among the kernels of a memory image");
		add_source(p, "symtab", path_basename(o->input), file);
		snprintf(p->input_kind, sizeof(p->input_kind), "vmlinux (ELF)");
		return from_vmlinux(p, file, o) < 0 ? err_prefix("%s: ", o->input) : 0;
	}
	if (kimage_is_compressed_kernel(file)) {
		if (refuse_compressed_non_kernel(file, o->input, false) < 0)
			return -1;
		if (o->kernel)
			return misuse("--kernel does not apply to a vmlinuz, which holds one kernel: it chooses among the kernels of a memory image");
		add_source(p, "symtab", path_basename(o->input), file);
		/* Only the read-only segments are needed: stop there. */
		if (kimage_extract_vmlinux_prefix(file, &p->decompressed, &codec, vmlinux_needed_prefix) < 0) {
			if (refuse_compressed_non_kernel(file, o->input, true) < 0)
				return -1;
			return err_prefix("%s: ", o->input);
		}
		snprintf(p->input_kind, sizeof(p->input_kind), "vmlinuz (%s, first %zu bytes decompressed)",
			 codec, p->decompressed.len);
		struct span elf = { p->decompressed.p, p->decompressed.len };
		return from_vmlinux(p, elf, o) < 0 ? err_prefix("%s: ", o->input) : 0;
	}
	if (is_raw_btf(file))
		return err_set("%s: raw BTF holds types only: use --btf %s --map System.map",
			       o->input, o->input);
	if (o->bytes.p)
		return err_set("%s: not a kernel (neither a vmlinux ELF nor a compressed kernel)", o->input);
	return from_memory_image(p, o);
}

/* --btf FILE --map FILE [--banner]: types and symbols from separate files. */
static int from_btf_and_map(struct profile *p, const struct profile_opts *o)
{
	const struct mapped_file *bf = open_input(p, o->btf_path, CAP_KERNEL_FILE, "BTF or a vmlinux", is_btf_or_elf), *mf;
	struct span btf;

	if (!bf)
		return err_prefix("--btf: ");
	btf = (struct span){ bf->data, bf->size };
	if (is_elf(btf)) {
		if (vmlinux_open(btf, &p->vml) < 0)
			return err_prefix("%s: ", o->btf_path);
		int found = vmlinux_section_bytes(&p->vml, ".BTF", &btf);
		if (found < 0)
			return err_prefix("%s: ", o->btf_path);
		if (!found)
			return err_set("%s: ELF file without a .BTF section", o->btf_path);
	} else if (!is_raw_btf(btf)) {
		return err_set("%s: neither raw BTF (magic 0xeb9f) nor an ELF file with .BTF", o->btf_path);
	}
	parse_btf(p, btf, "%s", o->btf_path);
	snprintf(p->input_kind, sizeof(p->input_kind), "BTF (%s) + symbol map", path_basename(o->btf_path));

	if (!(mf = open_input(p, o->map_path, CAP_SYMBOL_MAP, "a symbol map", starts_hex)))
		return err_prefix("--map: ");
	if (symbols_parse_map((struct span){ mf->data, mf->size }, o->map_path, &p->symbols) < 0)
		return -1;
	symbols_finish(&p->symbols);
	snprintf(p->symbol_source, sizeof(p->symbol_source), "%s (%zu entries)",
		 path_basename(o->map_path), p->symbols.n);
	add_source(p, "system-map", path_basename(o->map_path), (struct span){ mf->data, mf->size });

	if (o->banner_arg)
		return banner_from_option(p);
	if (p->vml.nsec)
		return banner_from_vmlinux(p, &p->vml) < 0 ? err_prefix("%s: ", o->btf_path) : 0;
	return err_set("no banner: raw BTF and a symbol map do not contain it; add --banner TEXT or --banner @FILE (e.g. @/proc/version)");
}

/* The running kernel's image on disk, if a distribution installed it: it has
 * the complete symbol table at link-time addresses and the exact banner. */
static const char *find_running_kernel_image(char *path, size_t n)
{
	static const char *const patterns[] = {
		"/boot/vmlinuz-%s", "/boot/vmlinux-%s", "/lib/modules/%s/vmlinuz",
		"/usr/lib/modules/%s/vmlinuz", "/usr/lib/debug/boot/vmlinux-%s",
	};
	struct utsname u;

	if (uname(&u) < 0)
		return NULL;
	for (size_t i = 0; i < ARRAY_SIZE(patterns); i++) {
		snprintf(path, n, patterns[i], u.release);
		if (access(path, R_OK) == 0)
			return path;
	}
	return NULL;
}

/* /proc/kallsyms of a kernel built without CONFIG_KALLSYMS_ALL lists code
 * only: there is no way to place init_task & co. without reading memory. */
static int require_data_symbols(const struct profile *p)
{
	static const char *const needed[] = { "init_task", "linux_banner", "init_files" };

	for (size_t i = 0; i < ARRAY_SIZE(needed); i++)
		if (!symbols_find(&p->symbols, needed[i]))
			return err_set("--live: /proc/kallsyms has no data symbols such as %s (kernel built without CONFIG_KALLSYMS_ALL) and no image of this kernel is installed in /boot or /lib/modules; run btf2isf on the kernel's vmlinux or vmlinuz instead",
				       needed[i]);
	return 0;
}

/* kallsyms' own tables, which /proc/kallsyms lists only from 7.0: decoded
 * from the running kernel's .rodata through /proc/kcore.  Where that is not
 * readable they stay out of the profile (README). */
static void live_kallsyms_tables(struct profile *p)
{
	const struct symbol *a = symbols_find(&p->symbols, "__start_rodata"),
			    *b = symbols_find(&p->symbols, "__end_rodata");
	struct kallsyms_table t;
	struct buf bytes = { 0 };

	if (symbols_find(&p->symbols, "kallsyms_num_syms") || !a || !b || b->addr <= a->addr ||
	    b->addr - a->addr > (64u << 20))
		return;
	uint64_t va = a->addr + p->slide;	/* a, b are un-slid already */
	if (live_read(va, (size_t)(b->addr - a->addr), &bytes) == 0 &&
	    kallsyms_carve((struct span){ bytes.p, bytes.len }, va, &t) == 0) {
		p->nkallsyms_tables = kallsyms_table_symbols(&t, a->addr, p->kallsyms_tables);
		kallsyms_free(&t);
	} else {
		pr_info("--live: kallsyms' tables not added: %s\n", err_get());
	}
	err_clear();
	buf_free(&bytes);
}

/* The running kernel.  /proc/kallsyms holds runtime (slid) addresses. */
static int from_live(struct profile *p, const struct profile_opts *o)
{
	const struct mapped_file *bf = open_input(p, "/sys/kernel/btf/vmlinux", CAP_KERNEL_FILE, "BTF", is_btf_or_elf), *kf, *vf;
	const struct symbol *text;

	if (!bf)
		return err_prefix("--live: ");
	parse_btf(p, (struct span){ bf->data, bf->size }, "/sys/kernel/btf/vmlinux");
	if (!(kf = open_input(p, "/proc/kallsyms", CAP_SYMBOL_MAP, "a symbol map", starts_hex)))
		return err_prefix("--live: ");
	if (symbols_parse_map((struct span){ kf->data, kf->size }, "/proc/kallsyms", &p->symbols) < 0)
		return -1;
	snprintf(p->symbol_source, sizeof(p->symbol_source), "/proc/kallsyms (%zu entries)", p->symbols.n);
	symbols_finish(&p->symbols);
	snprintf(p->input_kind, sizeof(p->input_kind), "running kernel");
	text = symbols_find(&p->symbols, "_text");
	if (!text || !text->addr)
		return err_set("/proc/kallsyms shows no address for _text (kptr_restrict): run as root");
	if (require_data_symbols(p) < 0)
		return -1;

	/* Banner: the kernel's own bytes through /proc/kcore when readable. */
	const struct symbol *lb = symbols_find(&p->symbols, "linux_banner");
	if (o->banner_arg) {
		if (banner_from_option(p) < 0)
			return -1;
	} else if (lb && live_read_banner(lb->addr, &p->banner) == 0) {
		snprintf(p->banner_source, sizeof(p->banner_source), "/proc/kcore at linux_banner");
	} else {
		char why[256];
		snprintf(why, sizeof(why), "%s", lb ? err_get() : "no linux_banner symbol");
		if (!(vf = open_input(p, "/proc/version", CAP_BANNER, "a banner", NULL)))
			return err_prefix("--live: ");
		buf_free(&p->banner);
		buf_append(&p->banner, vf->data, vf->size);
		buf_append(&p->banner, "", 1);
		if (!banner_len((struct span){ p->banner.p, p->banner.len }))
			return err_set("/proc/version does not hold a kernel banner");
		snprintf(p->banner_source, sizeof(p->banner_source), "/proc/version; %s", why);
	}
	banner_release(p->banner.p, p->banner.len, p->release, sizeof(p->release));

	char how[128];
	uint64_t link_text = live_link_text(p->release, how, sizeof(how));
	if (text->addr < link_text || (text->addr - link_text) % 0x200000)
		return err_set("runtime _text %#llx is not a 2 MiB multiple above the link base %#llx (%s)",
			       (unsigned long long)text->addr, (unsigned long long)link_text, how);
	p->slide_known = true;
	p->slide = text->addr - link_text;
	snprintf(p->slide_method, sizeof(p->slide_method), "runtime _text %#llx - link _text %#llx (%s)",
		 (unsigned long long)text->addr, (unsigned long long)link_text, how);
	symbols_unslide(&p->symbols, p->slide);
	p->symbols_by_kallsyms = true;
	live_kallsyms_tables(p);
	add_source(p, "system-map", "kallsyms", (struct span){ kf->data, kf->size });
	return 0;
}

/* What System.map has and kallsyms does not list: its own tables (before
 * 7.0) and the linker script's absolute symbols.  Names already present are
 * kept as they are. */
static void add_system_map_symbols(struct profile *p)
{
	struct symbol_def add[KALLSYMS_TABLE_SYMBOLS + LDSYMS_MAX];
	size_t n = p->nkallsyms_tables;

	memcpy(add, p->kallsyms_tables, n * sizeof(*add));
	n += ldsyms_derive(&p->symbols, &p->isf.version, add + n);
	size_t added = symbols_insert(&p->symbols, add, n);
	size_t used = strlen(p->symbol_source);
	if (added && used < sizeof(p->symbol_source))
		snprintf(p->symbol_source + used, sizeof(p->symbol_source) - used, " + %zu (tables, ld script)", added);
}

static bool running_kernel_banner_matches(const struct profile *p)
{
	struct mapped_file mf;
	bool same;

	if (map_file_max("/proc/version", CAP_BANNER, "a banner", NULL, &mf) < 0)
		return false;
	same = p->banner.len == mf.size + 1 && !memcmp(p->banner.p, mf.data, mf.size);
	unmap_file(&mf);
	return same;
}

int profile_build(const struct profile_opts *o, struct profile *p)
{
	int ret;

	memset(p, 0, sizeof(*p));
	libbpf_set_print(libbpf_log);
	/* A bad table or banner is found before the work, not after it. */
	if (o->banner_arg && banner_from_arg(o->banner_arg, &p->banner_opt) < 0)
		return -1;
	if (o->symdb_path) {
		if (!(p->own_symdb = symdb_load(o->symdb_path)))
			return err_prefix("--symdb: ");
		p->isf.symdb = p->own_symdb;
	} else {
		p->isf.symdb = symdb_builtin();
	}
	char image[512];
	if (o->live && find_running_kernel_image(image, sizeof(image))) {
		struct profile_opts io = *o;
		io.input = image;
		io.live = false;
		ret = from_kernel_file(p, &io);
		if (ret == 0 && !running_kernel_banner_matches(p)) {
			ret = err_set("--live: %s is not the running kernel (its banner differs from /proc/version)", image);
		}
	} else if (o->live)
		ret = from_live(p, o);
	else if (o->btf_path)
		ret = from_btf_and_map(p, o);
	else if (!strcmp(o->input, "-")) {
		struct profile_opts io = *o;
		io.input = "stdin";	/* for messages and the source name */
		p->input_is_stdin = true;
		ret = from_kernel_file(p, &io);
	} else
		ret = from_kernel_file(p, o);
	if (ret == PROFILE_MISUSE)
		return ret;
	if (ret < 0) {
		/* Every path reads the BTF first: if it is bad, that is the
		 * first thing wrong with the input. */
		if (p->btf_found)
			finish_types(p);
		return -1;
	}

	banner_release(p->banner.p, p->banner.len, p->release, sizeof(p->release));
	if (!kver_parse(p->release, &p->isf.version))
		return err_set("banner release '%s' has no X.Y version", p->release);
	if (p->symbols_by_kallsyms)
		add_system_map_symbols(p);
	if (finish_types(p) < 0)
		return -1;
	for (int i = 0; i < p->isf.nsources; i++)
		sha256_hex_finish(&p->hashing[i]);
	p->isf.types = p->types;
	p->isf.symbols = &p->symbols;
	p->isf.banner = (struct span){ p->banner.p, p->banner.len };
	return 0;
}

void profile_free(struct profile *p)
{
	thread_job_join(&p->types_job);	/* error paths: it reads mapped bytes */
	for (size_t i = 0; i < ARRAY_SIZE(p->hashing); i++)
		sha256_hex_finish(&p->hashing[i]);	/* error paths: before unmapping */
	isf_types_free(p->types);
	btf__free(p->btf);
	symbols_free(&p->symbols);
	buf_free(&p->banner);
	buf_free(&p->banner_opt);
	vmlinux_close(&p->vml);
	carve_free(&p->carve);
	image_close(&p->img);
	buf_free(&p->decompressed);
	package_blob_free(&p->member);
	symdb_free(p->own_symdb);
	for (int i = 0; i < p->nfiles; i++)
		unmap_file(&p->files[i]);
	if (p->input_fd_open)
		close(p->input_fd);
	free(p->image_report);
	memset(p, 0, sizeof(*p));
}

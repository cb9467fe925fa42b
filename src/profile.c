#include "profile.h"

#include "banner.h"
#include "kallsyms.h"
#include "kimage.h"
#include "live.h"
#include "log.h"

#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
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

static const struct mapped_file *open_input(struct profile *p, const char *path)
{
	if (p->nfiles == (int)ARRAY_SIZE(p->files)) {
		err_set("%s: too many input files", path);
		return NULL;
	}
	if (map_file(path, &p->files[p->nfiles]) < 0)
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
	symbols_take(&p->symbols, t.names, t.names_size, v, t.n);
	t.names = NULL;
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

static int banner_from_option(struct profile *p, const char *arg)
{
	if (banner_from_arg(arg, &p->banner) < 0)
		return -1;
	snprintf(p->banner_source, sizeof(p->banner_source), "--banner");
	return 0;
}

/* ---- input kinds ---- */

/* kallsyms lives in .rodata; without section headers, in a read-only segment.
 * The 7.0+ encoding needs the arrays' virtual addresses: pass them along. */
static int vmlinux_kallsyms(struct profile *p, const struct vmlinux *v)
{
	const struct vmlinux_section *rodata = vmlinux_section(v, ".rodata");

	if (rodata && rodata->bytes.n)
		return symbols_from_kallsyms(p, rodata->bytes, rodata->va);
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
	if (vmlinux_open(elf, &p->vml) < 0)
		return -1;
	const struct vmlinux_section *btf = vmlinux_section(&p->vml, ".BTF");
	if (btf && btf->bytes.n)
		parse_btf(p, btf->bytes, "%s: .BTF section", o->input);
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
		return banner_from_option(p, o->banner_arg);
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
	char list[700] = "";

	for (size_t i = 0; i < c->n; i++) {
		struct carved_kernel *k = &c->k[i];
		size_t used = strlen(list);
		snprintf(list + used, sizeof(list) - used, "%s'%s' at %#llx%s", i ? ", " : "", k->release,
			 (unsigned long long)k->pa_text, k->running ? " (running)" : "");
		if (o->kernel ? kernel_matches(k, o->kernel) : true) {
			matches++;
			if (!pick || (k->running && !pick->running))
				pick = k;
			running += k->running;
		}
	}
	if (o->kernel && !matches) {
		err_set("--kernel '%s' matches none of the kernels in the image: %s", o->kernel, list);
		return NULL;
	}
	if (matches > 1 && running != 1) {
		err_set("the image holds %zu kernels and %s: %s; choose one with --kernel RELEASE",
			matches, running ? "several look running" : "none is provably running", list);
		return NULL;
	}
	snprintf(p->image_report, sizeof(p->image_report), "kernels found: %s%s%s; scan: %s", list,
		 c->rejected[0] ? "; rejected: " : "", c->rejected, c->scan_how);
	return pick;
}

static int from_memory_image(struct profile *p, const struct profile_opts *o)
{
	struct carved_kernel *k;

	if (image_open(o->input, &p->img) < 0)
		return -1;
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
	snprintf(p->symbol_source, sizeof(p->symbol_source),
		 "kallsyms in memory (%zu entries, %s layout, encoding %c)", k->ks.n,
		 kallsyms_layout_name(k->ks.layout), (char)k->ks.enc);
	if (o->banner_arg) {
		if (banner_from_option(p, o->banner_arg) < 0)
			return -1;
	} else {
		buf_append(&p->banner, k->banner.p, k->banner.n);
		carve_describe_other_banners(&p->carve, k, &p->img, p->other_banners,
					     sizeof(p->other_banners));
		snprintf(p->banner_source, sizeof(p->banner_source), "linux_banner at physical %#llx",
			 (unsigned long long)k->banner_pa);
	}
	p->slide_known = k->runtime_text != 0;
	p->slide = k->slide;
	snprintf(p->slide_method, sizeof(p->slide_method), "%s; _text at physical %#llx%s", k->slide_how,
		 (unsigned long long)k->pa_text, k->vmcoreinfo ? "; VMCOREINFO found" : "");
	return 0;
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
	const struct mapped_file *mf = NULL;
	struct span file = o->bytes;
	const char *codec;

	if (!file.p) {
		if (!(mf = open_input(p, o->input)))
			return -1;
		file = (struct span){ mf->data, mf->size };
	}
	if (!file.n)
		return err_set("%s: empty file", o->input);
	if (image_has_header(file) && !o->bytes.p)
		return from_memory_image(p, o);
	if (!o->bytes.p && !is_elf(file) && package_sniff((struct span){ file.p, file.n < PACKAGE_HEAD_SIZE ? file.n : PACKAGE_HEAD_SIZE }))
		return from_package(p, o, file);
	if (is_elf(file)) {
		add_source(p, "symtab", path_basename(o->input), file);
		snprintf(p->input_kind, sizeof(p->input_kind), "vmlinux (ELF)");
		return from_vmlinux(p, file, o) < 0 ? err_prefix("%s: ", o->input) : 0;
	}
	if (kimage_is_compressed_kernel(file)) {
		add_source(p, "symtab", path_basename(o->input), file);
		/* Only the read-only segments are needed: stop there. */
		if (kimage_extract_vmlinux_prefix(file, &p->decompressed, &codec, vmlinux_needed_prefix) < 0)
			return err_prefix("%s: ", o->input);
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
	const struct mapped_file *bf = open_input(p, o->btf_path), *mf;
	struct span btf;

	if (!bf)
		return -1;
	btf = (struct span){ bf->data, bf->size };
	if (is_elf(btf)) {
		if (vmlinux_open(btf, &p->vml) < 0)
			return err_prefix("%s: ", o->btf_path);
		const struct vmlinux_section *s = vmlinux_section(&p->vml, ".BTF");
		if (!s || !s->bytes.n)
			return err_set("%s: ELF file without a .BTF section", o->btf_path);
		btf = s->bytes;
	} else if (!is_raw_btf(btf)) {
		return err_set("%s: neither raw BTF (magic 0xeb9f) nor an ELF file with .BTF", o->btf_path);
	}
	parse_btf(p, btf, "%s", o->btf_path);
	snprintf(p->input_kind, sizeof(p->input_kind), "BTF (%s) + symbol map", path_basename(o->btf_path));

	if (!(mf = open_input(p, o->map_path)))
		return -1;
	if (symbols_parse_map((struct span){ mf->data, mf->size }, o->map_path, &p->symbols) < 0)
		return -1;
	symbols_finish(&p->symbols);
	snprintf(p->symbol_source, sizeof(p->symbol_source), "%s (%zu entries)",
		 path_basename(o->map_path), p->symbols.n);
	add_source(p, "system-map", path_basename(o->map_path), (struct span){ mf->data, mf->size });

	if (o->banner_arg)
		return banner_from_option(p, o->banner_arg);
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

/* The running kernel.  /proc/kallsyms holds runtime (slid) addresses. */
static int from_live(struct profile *p, const struct profile_opts *o)
{
	const struct mapped_file *bf = open_input(p, "/sys/kernel/btf/vmlinux"), *kf, *vf;
	const struct symbol *text;

	if (!bf)
		return err_prefix("--live: ");
	parse_btf(p, (struct span){ bf->data, bf->size }, "/sys/kernel/btf/vmlinux");
	if (!(kf = open_input(p, "/proc/kallsyms")))
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
		if (banner_from_option(p, o->banner_arg) < 0)
			return -1;
	} else if (lb && live_read_banner(lb->addr, &p->banner) == 0) {
		snprintf(p->banner_source, sizeof(p->banner_source), "/proc/kcore at linux_banner");
	} else {
		char why[64];
		snprintf(why, sizeof(why), "%s", lb ? err_get() : "no linux_banner symbol");
		if (!(vf = open_input(p, "/proc/version")))
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
	add_source(p, "system-map", "kallsyms", (struct span){ kf->data, kf->size });
	return 0;
}

static bool running_kernel_banner_matches(const struct profile *p)
{
	struct mapped_file mf;
	bool same;

	if (map_file("/proc/version", &mf) < 0)
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
	else
		ret = from_kernel_file(p, o);
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
	if (o->symdb_path) {
		if (!(p->own_symdb = symdb_load(o->symdb_path)))
			return err_prefix("--symdb: ");
		p->isf.symdb = p->own_symdb;
	} else {
		p->isf.symdb = symdb_builtin();
	}
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
	vmlinux_close(&p->vml);
	carve_free(&p->carve);
	image_close(&p->img);
	buf_free(&p->decompressed);
	package_blob_free(&p->member);
	symdb_free(p->own_symdb);
	for (int i = 0; i < p->nfiles; i++)
		unmap_file(&p->files[i]);
	memset(p, 0, sizeof(*p));
}

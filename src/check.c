#include "check.h"

#include "banner.h"
#include "carve.h"
#include "image.h"
#include "jsonw.h"
#include "kmem.h"
#include "log.h"
#include "pagetable.h"
#include "profile_read.h"
#include "scan.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#define MAX_TASKS (1u << 20)
#define MAX_MODULES (1u << 16)
#define MAX_SEEN_BANNERS 16
#define CMDLINE_MAX 4096	/* bytes of a command line read and shown */
#define CMDLINE_BUDGET (64u << 20)	/* all command lines together (hostile task lists) */
#define PID_MAX_LIMIT 4194304	/* include/linux/threads.h, 64-bit */
#define STR_MAX 128		/* comm, module name, utsname fields: read at most */
#define PAGE_MASK_4K 0xfffULL

enum { STEP_BANNER, STEP_KASLR, STEP_WALK, NSTEPS };
static const char *const step_name[NSTEPS] = { "banner", "KASLR", "walk" };

/* Volatility3's init_task signature: comm "swapper/0" or "swapper", NUL-padded
 * (regex swapper(\/0|\x00\x00)\x00{6}). */
static const char SWAPPER[] = "swapper";
static const char LINUX_VERSION[] = "Linux version ";

struct task {
	uint64_t va;
	int32_t pid, tgid, ppid;
	char comm[STR_MAX];
	bool user;		/* has an mm: a process, not a kernel thread */
	uint8_t *cmd;		/* NUL-separated arguments (owned) */
	size_t cmd_len;
	char cmd_note[160];	/* why the command line is missing or partial */
};

struct module {
	uint64_t va;
	char name[STR_MAX];
};

struct seen_banner {
	uint8_t text[BANNER_MAX];
	size_t len;
	uint64_t pa;
	size_t copies;
};

/* Profile offsets the walk uses (after flattening anonymous members). */
struct offsets {
	uint64_t tasks, pid, tgid, comm, comm_len, real_parent, mm;
	uint64_t next, prev;
	uint64_t mm_pgd, mm_arg_start, mm_arg_end;
	uint64_t mod_list, mod_name, mod_name_len;
	uint64_t uts_name, uts_release, uts_release_len, uts_nodename, uts_nodename_len;
};

struct check {
	const char *profile_path, *image_path;
	struct isf *isf;
	struct image img;
	bool img_open;
	char input_error[1024];

	int state[NSTEPS];		/* 0 not run, 1 passed, -1 failed */
	char msg[NSTEPS][1536];		/* the reason (failed) or a one-line result */

	/* step 1 */
	struct span banner;		/* the profile's, "\n\0" included */
	char release[65];
	uint64_t banner_pa;
	size_t banner_copies, version_hits;
	struct seen_banner *seen;
	size_t nseen;
	int closest;
	char diff[768], diff_names[128];
	struct scan_hits hits[2];	/* "Linux version ", "swapper" */

	/* step 2 */
	const char *pgt_name;
	uint64_t sym_init_task, sym_init_files, sym_pgt, sym_banner;
	size_t swapper_hits, pid0_hits;
	uint64_t init_task_pa, aslr, kaslr, dtb;
	int levels;
	struct pt_space kas;
	bool carved;
	struct carve_result carve;
	const struct carved_kernel *k;
	uint64_t carve_aslr, carve_kaslr;

	/* step 3 */
	struct task *tasks;
	size_t ntasks, task_cap, cmd_total;
	struct module *mods;
	size_t nmods, mod_cap;
	char uts_release[STR_MAX], hostname[STR_MAX];
	char notes[1024];

	/* seconds: profile, image open, landmark scan, each step */
	double t_profile, t_image, t_scan, t_step[NSTEPS];
};

static int fail(struct check *c, int step, const char *fmt, ...) B2I_PRINTF(3, 4);
static int fail(struct check *c, int step, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->msg[step], sizeof(c->msg[step]), fmt, ap);
	va_end(ap);
	c->state[step] = -1;
	return -1;
}

static void note(struct check *c, const char *fmt, ...) B2I_PRINTF(2, 3);
static void note(struct check *c, const char *fmt, ...)
{
	size_t used = strlen(c->notes);
	va_list ap;

	if (used + 4 >= sizeof(c->notes))
		return;
	if (used)
		used += (size_t)snprintf(c->notes + used, sizeof(c->notes) - used, "; ");
	va_start(ap, fmt);
	vsnprintf(c->notes + used, sizeof(c->notes) - used, fmt, ap);
	va_end(ap);
}

typedef unsigned long long ull;

/* ---- small helpers ---------------------------------------------------------- */

/* Printable rendering of bytes (\xNN for the rest) into out[n]. */
static void escape(const uint8_t *s, size_t len, char *out, size_t n)
{
	size_t o = 0;

	for (size_t i = 0; i < len && o + 5 < n; i++) {
		uint8_t ch = s[i];
		if (ch >= 0x20 && ch < 0x7f && ch != '\\')
			out[o++] = (char)ch;
		else
			o += (size_t)snprintf(out + o, n - o, "\\x%02x", ch);
	}
	if (n)
		out[o < n ? o : n - 1] = 0;
}

/* A banner without its trailing "\n\0", escaped. */
static void banner_text(const uint8_t *b, size_t len, char *out, size_t n)
{
	while (len && (b[len - 1] == 0 || b[len - 1] == '\n'))
		len--;
	escape(b, len, out, n);
}

/* ---- profile fields --------------------------------------------------------- */

static const char *kind_name(enum isf_kind k)
{
	switch (k) {
	case ISF_KIND_BASE: return "a base type";
	case ISF_KIND_POINTER: return "a pointer";
	case ISF_KIND_ARRAY: return "an array";
	case ISF_KIND_STRUCT: return "a struct";
	case ISF_KIND_UNION: return "a union";
	case ISF_KIND_CLASS: return "a class";
	case ISF_KIND_ENUM: return "an enum";
	case ISF_KIND_BITFIELD: return "a bitfield";
	case ISF_KIND_FUNCTION: return "a function";
	default: return "of unknown kind";
	}
}

enum want { W_PTR, W_INT4, W_ULONG, W_CHARS, W_LIST, W_STRUCT };

/* Member type.member, checked to be what the walk reads.  For W_CHARS *len
 * gets the array length. */
static int field(struct check *c, int step, const char *type, const char *member, enum want w,
		 uint64_t *off, uint64_t *len)
{
	struct isf_field f;

	if (isf_field(c->isf, type, member, &f) < 0)
		return fail(c, step, "profile: %s", err_get());
	*off = f.offset;
	const struct isf_type *t = &f.type;
	bool ok = true;
	const char *want = "";
	switch (w) {
	case W_PTR:
		want = "a pointer";
		ok = t->kind == ISF_KIND_POINTER && (t->size == 8 || t->size == 0);
		break;
	case W_INT4:
		want = "a 4-byte integer";
		ok = (t->kind == ISF_KIND_BASE || t->kind == ISF_KIND_ENUM) && t->size == 4;
		break;
	case W_ULONG:
		want = "an 8-byte integer";
		ok = t->kind == ISF_KIND_BASE && t->size == 8;
		break;
	case W_CHARS:
		want = "a char array";
		ok = t->kind == ISF_KIND_ARRAY && t->count >= 2 && t->sub_kind == ISF_KIND_BASE &&
		     t->sub_size == 1;
		if (ok && len)
			*len = t->count < STR_MAX - 1 ? t->count : STR_MAX - 1;
		break;
	case W_LIST:
		want = "a struct list_head";
		ok = t->kind == ISF_KIND_STRUCT && !strcmp(t->name, "list_head");
		break;
	case W_STRUCT:
		want = "a struct";
		ok = t->kind == ISF_KIND_STRUCT;
		break;
	}
	if (!ok)
		return fail(c, step, "profile: %s.%s is %s%s%s (%llu bytes), the walk needs %s", type, member,
			    kind_name(t->kind), t->name[0] ? " " : "", t->name, (ull)t->size, want);
	return 0;
}

static int symbol(struct check *c, int step, const char *name, uint64_t *addr, const char *why)
{
	int r = isf_symbol(c->isf, name, addr);
	if (r < 0)
		return fail(c, step, "profile: %s", err_get());
	if (r == 0)
		return fail(c, step, "profile: no symbol %s%s", name, why);
	return 0;
}

/* ---- step 1: banner ----------------------------------------------------------- */

struct banner_parts {
	char release[96], builder[160], compiler[320], build[32], version[320];
};

/* Copy a parenthesised group at *p (nested parentheses allowed). */
static void take_group(const char **p, const char *end, char *out, size_t n)
{
	const char *s = *p;
	int depth = 0;

	out[0] = 0;
	if (s >= end || *s != '(')
		return;
	const char *q = s;
	for (; q < end; q++) {
		if (*q == '(')
			depth++;
		else if (*q == ')' && --depth == 0)
			break;
	}
	size_t len = (size_t)(q - s - 1);
	snprintf(out, n, "%.*s", (int)(len < n ? len : n - 1), s + 1);
	*p = q < end ? q + 1 : end;
	while (*p < end && **p == ' ')
		(*p)++;
}

/* "Linux version R (builder) (compiler) #N flags date" → parts. */
static void banner_split(const uint8_t *b, size_t len, struct banner_parts *bp)
{
	char text[BANNER_MAX];
	size_t plen = strlen(LINUX_VERSION);

	memset(bp, 0, sizeof(*bp));
	banner_text(b, len, text, sizeof(text));
	const char *p = text, *end = text + strlen(text);
	if ((size_t)(end - p) >= plen && !memcmp(p, LINUX_VERSION, plen))
		p += plen;
	const char *sp = memchr(p, ' ', (size_t)(end - p));
	const char *rend = sp ? sp : end;
	snprintf(bp->release, sizeof(bp->release), "%.*s", (int)(rend - p), p);
	p = rend;
	while (p < end && *p == ' ')
		p++;
	take_group(&p, end, bp->builder, sizeof(bp->builder));
	take_group(&p, end, bp->compiler, sizeof(bp->compiler));
	if (p < end && *p == '#') {
		sp = memchr(p, ' ', (size_t)(end - p));
		rend = sp ? sp : end;
		snprintf(bp->build, sizeof(bp->build), "%.*s", (int)(rend - p), p);
		p = rend;
		while (p < end && *p == ' ')
			p++;
	}
	snprintf(bp->version, sizeof(bp->version), "%s", p);
}

/* Fields that differ between a and b, as text; returns how many are equal. */
static int banner_compare(const struct banner_parts *a, const struct banner_parts *b, char *out, size_t n,
			  char *names, size_t nn)
{
	const struct {
		const char *what, *x, *y;
	} f[] = {
		{ "release", a->release, b->release },
		{ "build number", a->build, b->build },
		{ "compiler", a->compiler, b->compiler },
		{ "version and date", a->version, b->version },
		{ "builder", a->builder, b->builder },
	};
	int same = 0;
	size_t o = 0, on = 0;

	out[0] = names[0] = 0;
	for (size_t i = 0; i < ARRAY_SIZE(f); i++) {
		if (!strcmp(f[i].x, f[i].y)) {
			same++;
			continue;
		}
		if (o < n)
			o += (size_t)snprintf(out + o, n - o, "%s%s '%s' vs '%s'", o ? ", " : "", f[i].what, f[i].x,
					      f[i].y);
		if (on < nn)
			on += (size_t)snprintf(names + on, nn - on, "%s%s", on ? ", " : "", f[i].what);
	}
	return same;
}

static void add_seen(struct check *c, const uint8_t *text, size_t len, uint64_t pa)
{
	for (size_t i = 0; i < c->nseen; i++)
		if (c->seen[i].len == len && !memcmp(c->seen[i].text, text, len)) {
			c->seen[i].copies++;
			return;
		}
	if (c->nseen == MAX_SEEN_BANNERS)
		return;
	c->seen = xreallocarray(c->seen, c->nseen + 1, sizeof(*c->seen));
	struct seen_banner *s = &c->seen[c->nseen++];
	memcpy(s->text, text, len);
	s->len = len;
	s->pa = pa;
	s->copies = 1;
}

static int step_banner(struct check *c)
{
	const int S = STEP_BANNER;

	if (isf_banner(c->isf, &c->banner) < 0)
		return fail(c, S, "profile: %s", err_get());
	banner_release(c->banner.p, c->banner.n, c->release, sizeof(c->release));
	c->closest = -1;
	c->version_hits = c->hits[0].n;
	for (size_t i = 0; i < c->hits[0].n; i++) {
		uint64_t pa = c->hits[0].pa[i];
		struct span s;
		if (!image_at(&c->img, pa, &s))
			continue;
		if (s.n >= c->banner.n && !memcmp(s.p, c->banner.p, c->banner.n)) {
			if (!c->banner_copies++)
				c->banner_pa = pa;
			continue;
		}
		size_t len = banner_len(s);
		if (len)
			add_seen(c, s.p, len, pa);
	}
	if (c->banner_copies)
		return 0;

	if (!c->nseen)
		return fail(c, S,
			    "the profile's banner (release %s) is not in the image, and the image holds no Linux banner at all%s",
			    c->release,
			    c->version_hits ? " (only 'Linux version ' fragments, no complete \"...\\n\\0\" banner)"
					    : ": not a Linux memory image, or the kernel's read-only data is not in it");
	struct banner_parts want, got;
	banner_split(c->banner.p, c->banner.n, &want);
	int best = -1;
	for (size_t i = 0; i < c->nseen; i++) {
		banner_split(c->seen[i].text, c->seen[i].len, &got);
		char d[768], names[128];
		int same = banner_compare(&want, &got, d, sizeof(d), names, sizeof(names));
		if (same > best) {
			best = same;
			c->closest = (int)i;
			snprintf(c->diff, sizeof(c->diff), "%s", d);
			snprintf(c->diff_names, sizeof(c->diff_names), "%s", names);
		}
	}
	if (!c->diff[0]) {
		snprintf(c->diff, sizeof(c->diff), "%s",
			 "same fields, different bytes (spacing, or the profile's constant_data lacks the \"\\n\\0\" terminator)");
		snprintf(c->diff_names, sizeof(c->diff_names), "%s", "bytes only");
	}
	struct seen_banner *cl = &c->seen[c->closest];
	struct banner_parts near;
	banner_split(cl->text, cl->len, &near);
	return fail(c, S,
		    "the profile's banner (release %s) is not in the image; the closest banner in the image is release %s, which differs in %s",
		    c->release, near.release, c->diff_names);
}

/* ---- step 2: KASLR ------------------------------------------------------------ */

static bool phys_u32(const struct image *img, uint64_t pa, uint32_t *v)
{
	uint8_t b[4];
	if (!pt_phys_read(img, pa, b, 4))
		return false;
	*v = rd_le32(b);
	return true;
}

/* The virtual address va translates to physical `want` with this space. */
static bool maps_to(const struct pt_space *as, uint64_t va, uint64_t want, struct pt_walk *w)
{
	return pt_translate(as, va, w) && w->pa == want;
}

static bool banner_at(struct check *c, const struct pt_space *as, uint64_t va)
{
	uint8_t b[BANNER_MAX];
	size_t n = c->banner.n < sizeof(b) ? c->banner.n : sizeof(b);
	return pt_read(as, va, b, n, NULL, NULL) && !memcmp(b, c->banner.p, n);
}

static int carver_check(struct check *c)
{
	const int S = STEP_KASLR;
	char found[256] = "";

	if (carve_kernels(&c->img, &(struct carve_opts){ 0 }, &c->carve) < 0)
		return fail(c, S, "btf2isf's carver finds no kernel to compare with: %s", err_get());
	c->carved = true;
	for (size_t i = 0; i < c->carve.n && !c->k; i++) {
		const struct carved_kernel *k = &c->carve.k[i];
		if (k->banner.n >= c->banner.n && !memcmp(k->banner.p, c->banner.p, c->banner.n))
			c->k = k;
		size_t used = strlen(found);
		snprintf(found + used, sizeof(found) - used, "%s%s", used ? ", " : "", k->release);
	}
	if (!c->k)
		return fail(c, S, "btf2isf's carver finds kernel%s %s in the image, none with the profile's banner",
			    c->carve.n == 1 ? "" : "s", found);
	const struct carved_kernel *k = c->k;
	if (!k->runtime_text)
		return fail(c, S, "btf2isf's carver cannot determine the KASLR slide of %s: %s", k->release,
			    k->slide_how);
	c->carve_aslr = k->slide;
	c->carve_kaslr = k->pa_text - (k->link_text - PT_START_KERNEL_MAP);
	if (c->carve_aslr != c->aslr || c->carve_kaslr != c->kaslr)
		return fail(c, S,
			    "Volatility3's shifts (virtual %#llx, physical %#llx, from init_task at physical %#llx) disagree with btf2isf's carver (virtual %#llx, physical %#llx: _text %#llx at physical %#llx, link _text %#llx; %s)",
			    (ull)c->aslr, (ull)c->kaslr, (ull)c->init_task_pa, (ull)c->carve_aslr,
			    (ull)c->carve_kaslr, (ull)k->runtime_text, (ull)k->pa_text, (ull)k->link_text,
			    k->slide_how);
	return 0;
}

static int step_kaslr(struct check *c)
{
	const int S = STEP_KASLR;
	uint64_t comm_off, comm_len, pid_off, files_off, state_off = 0;
	bool has_state = false;
	struct isf_field f;

	if (symbol(c, S, "init_task", &c->sym_init_task, ": Volatility3 needs it to compute the KASLR shift") < 0 ||
	    symbol(c, S, "init_files", &c->sym_init_files, ": Volatility3 needs it to compute the KASLR shift") < 0 ||
	    symbol(c, S, "linux_banner", &c->sym_banner, "") < 0)
		return -1;
	c->pgt_name = "init_top_pgt";
	int r = isf_symbol(c->isf, "init_top_pgt", &c->sym_pgt);
	if (r == 0) {
		c->pgt_name = "init_level4_pgt";
		r = isf_symbol(c->isf, "init_level4_pgt", &c->sym_pgt);
	}
	if (r < 0)
		return fail(c, S, "profile: %s", err_get());
	if (r == 0)
		return fail(c, S,
			    "profile: no symbol init_top_pgt or init_level4_pgt: Volatility3 would build a 32-bit Intel layer from swapper_pg_dir");
	if (field(c, S, "task_struct", "comm", W_CHARS, &comm_off, &comm_len) < 0 ||
	    field(c, S, "task_struct", "pid", W_INT4, &pid_off, NULL) < 0 ||
	    field(c, S, "task_struct", "files", W_PTR, &files_off, NULL) < 0)
		return -1;
	if (isf_field(c->isf, "task_struct", "state", &f) == 0) {
		has_state = true;
		state_off = f.offset;
	}
	err_clear();

	/* Volatility3: the first signature hit (in physical order) whose task
	 * has pid 0, state 0 (if the member exists) and page-aligned shifts. */
	bool found = false;
	size_t misaligned = 0;
	for (size_t i = 0; i < c->hits[1].n && !found; i++) {
		uint64_t hit = c->hits[1].pa[i];
		uint8_t sig[15];
		if (!pt_phys_read(&c->img, hit, sig, sizeof(sig)) ||
		    (memcmp(sig + 7, "/0", 2) && memcmp(sig + 7, "\0\0", 2)) || memcmp(sig + 9, "\0\0\0\0\0\0", 6))
			continue;
		c->swapper_hits++;
		if (hit < comm_off)
			continue;
		uint64_t task = hit - comm_off, files;
		uint32_t pid, state;
		if (!phys_u32(&c->img, task + pid_off, &pid) || pid != 0)
			continue;
		if (has_state && (!phys_u32(&c->img, task + state_off, &state) || state != 0))
			continue;
		c->pid0_hits++;
		if (!pt_phys_read_u64(&c->img, task + files_off, &files))
			continue;
		uint64_t aslr = files - c->sym_init_files;
		uint64_t kaslr = task - (c->sym_init_task - PT_START_KERNEL_MAP);
		if ((aslr & PAGE_MASK_4K) || (kaslr & PAGE_MASK_4K)) {
			misaligned++;
			continue;
		}
		c->init_task_pa = task;
		c->aslr = aslr;
		c->kaslr = kaslr;
		found = true;
	}
	if (!found)
		return fail(c, S,
			    "Volatility3 finds no init_task: %zu '%s' comm signature hit%s, %zu with pid 0%s, %zu of them with shifts that are not 4 KiB-aligned; it would fall back to shifts 0 and fail",
			    c->swapper_hits, "swapper/0", c->swapper_hits == 1 ? "" : "s", c->pid0_hits,
			    has_state ? " and state 0" : "", misaligned);

	c->dtb = c->sym_pgt - PT_START_KERNEL_MAP + c->kaslr;
	struct pt_walk w4, w5;
	uint64_t it_va = c->sym_init_task + c->aslr, lb_va = c->sym_banner + c->aslr;
	for (int levels = 4; levels <= 5 && !c->levels; levels++) {
		struct pt_space as = { &c->img, c->dtb, levels };
		if (maps_to(&as, it_va, c->init_task_pa, levels == 4 ? &w4 : &w5) && banner_at(c, &as, lb_va)) {
			c->levels = levels;
			c->kas = as;
		}
	}
	if (!c->levels)
		return fail(c, S,
			    "with DTB %#llx (%s + physical shift %#llx) init_task's virtual address %#llx does not translate to its physical address %#llx, or linux_banner's to the banner (4-level: %s; 5-level: %s): Volatility3's layer would be wrong",
			    (ull)c->dtb, c->pgt_name, (ull)c->kaslr, (ull)it_va, (ull)c->init_task_pa,
			    w4.fault ? pt_fault_name(w4.fault) : "maps elsewhere",
			    w5.fault ? pt_fault_name(w5.fault) : "maps elsewhere");
	return carver_check(c);
}

/* ---- step 3: walk ------------------------------------------------------------- */

/* Describe a task for messages. */
static void who(const struct task *t, char *out, size_t n)
{
	if (!t)
		snprintf(out, n, "init_task");
	else
		snprintf(out, n, "pid %d (%s)", t->pid, t->comm);
}

/* kmem's checks and reads, failing this step with their message. */
static int check_ptr(struct check *c, uint64_t v, const char *fieldname, const char *owner)
{
	if (kmem_check_ptr(&c->kas, v, fieldname, owner) < 0)
		return fail(c, STEP_WALK, "%s", err_get());
	return 0;
}

static int kread(struct check *c, uint64_t va, void *buf, size_t len, const char *fieldname, const char *owner)
{
	if (kmem_read(&c->kas, va, buf, len, fieldname, owner) < 0)
		return fail(c, STEP_WALK, "%s", err_get());
	return 0;
}

static int kread_u64(struct check *c, uint64_t va, uint64_t *v, const char *fieldname, const char *owner)
{
	uint8_t b[8];
	if (kread(c, va, b, 8, fieldname, owner) < 0)
		return -1;
	*v = rd_le64(b);
	return 0;
}

static int kread_s32(struct check *c, uint64_t va, int32_t *v, const char *fieldname, const char *owner)
{
	uint8_t b[4];
	if (kread(c, va, b, 4, fieldname, owner) < 0)
		return -1;
	uint32_t u = rd_le32(b);
	memcpy(v, &u, 4);
	return 0;
}

/* A NUL-terminated char array of len bytes. */
static int kread_str(struct check *c, uint64_t va, uint64_t len, char *out, const char *fieldname,
		     const char *owner)
{
	uint8_t b[STR_MAX];
	if (kread(c, va, b, (size_t)len, fieldname, owner) < 0)
		return -1;
	const uint8_t *nul = memchr(b, 0, (size_t)len);
	if (!nul)
		return fail(c, STEP_WALK, "%s of %s is not NUL-terminated within its %llu bytes", fieldname, owner,
			    (ull)len);
	escape(b, (size_t)(nul - b), out, STR_MAX);
	return 0;
}

static int load_offsets(struct check *c, struct offsets *o)
{
	const int S = STEP_WALK;
	uint64_t unused;

	if (field(c, S, "task_struct", "tasks", W_LIST, &o->tasks, NULL) < 0 ||
	    field(c, S, "task_struct", "pid", W_INT4, &o->pid, NULL) < 0 ||
	    field(c, S, "task_struct", "tgid", W_INT4, &o->tgid, NULL) < 0 ||
	    field(c, S, "task_struct", "comm", W_CHARS, &o->comm, &o->comm_len) < 0 ||
	    field(c, S, "task_struct", "real_parent", W_PTR, &o->real_parent, NULL) < 0 ||
	    field(c, S, "task_struct", "mm", W_PTR, &o->mm, NULL) < 0 ||
	    field(c, S, "list_head", "next", W_PTR, &o->next, NULL) < 0 ||
	    field(c, S, "list_head", "prev", W_PTR, &o->prev, NULL) < 0 ||
	    field(c, S, "mm_struct", "pgd", W_PTR, &o->mm_pgd, NULL) < 0 ||
	    field(c, S, "mm_struct", "arg_start", W_ULONG, &o->mm_arg_start, NULL) < 0 ||
	    field(c, S, "mm_struct", "arg_end", W_ULONG, &o->mm_arg_end, NULL) < 0 ||
	    field(c, S, "module", "list", W_LIST, &o->mod_list, NULL) < 0 ||
	    field(c, S, "module", "name", W_CHARS, &o->mod_name, &o->mod_name_len) < 0 ||
	    field(c, S, "uts_namespace", "name", W_STRUCT, &o->uts_name, NULL) < 0 ||
	    field(c, S, "new_utsname", "release", W_CHARS, &o->uts_release, &o->uts_release_len) < 0 ||
	    field(c, S, "new_utsname", "nodename", W_CHARS, &o->uts_nodename, &o->uts_nodename_len) < 0 ||
	    field(c, S, "task_struct", "parent", W_PTR, &unused, NULL) < 0 ||
	    field(c, S, "task_struct", "files", W_PTR, &unused, NULL) < 0)
		return -1;
	return 0;
}

/* The command line from the process's own page tables.  A page that is not
 * in memory is a note, not a failure; a bad mm is a failure. */
static int read_cmdline(struct check *c, const struct offsets *o, struct task *t, uint64_t mm)
{
	char owner[STR_MAX + 32];
	uint64_t pgd, start, end;
	struct pt_walk w;

	who(t, owner, sizeof(owner));
	if (check_ptr(c, mm, "task_struct.mm", owner) < 0 ||
	    kread_u64(c, mm + o->mm_pgd, &pgd, "mm_struct.pgd", owner) < 0 ||
	    check_ptr(c, pgd, "mm_struct.pgd", owner) < 0 ||
	    kread_u64(c, mm + o->mm_arg_start, &start, "mm_struct.arg_start", owner) < 0 ||
	    kread_u64(c, mm + o->mm_arg_end, &end, "mm_struct.arg_end", owner) < 0)
		return -1;
	if (!pt_translate(&c->kas, pgd, &w))
		return fail(c, STEP_WALK, "mm_struct.pgd of %s points to unmapped %#llx", owner, (ull)pgd);
	if (w.pa & PAGE_MASK_4K)
		return fail(c, STEP_WALK, "mm_struct.pgd of %s (%#llx) is not page-aligned", owner, (ull)pgd);
	struct pt_space user = { &c->img, w.pa, c->levels };
	if (end < start) {
		snprintf(t->cmd_note, sizeof(t->cmd_note), "mm_struct.arg_end %#llx is below arg_start %#llx",
			 (ull)end, (ull)start);
		return 0;
	}
	if (start == end)
		return 0;
	if (!pt_canonical(start, c->levels) || pt_is_kernel(start)) {
		snprintf(t->cmd_note, sizeof(t->cmd_note), "mm_struct.arg_start %#llx is not a user address",
			 (ull)start);
		return 0;
	}
	size_t len = end - start > CMDLINE_MAX ? CMDLINE_MAX : (size_t)(end - start), done = 0;
	if (c->cmd_total + len > CMDLINE_BUDGET) {
		snprintf(t->cmd_note, sizeof(t->cmd_note), "not read: %u MiB of command lines already read",
			 CMDLINE_BUDGET >> 20);
		return 0;
	}
	c->cmd_total += len;
	t->cmd = xmalloc(len);
	if (!pt_read(&user, start, t->cmd, len, &w, &done))
		snprintf(t->cmd_note, sizeof(t->cmd_note), "argument page %#llx not in memory (%s)",
			 (ull)((start + done) & ~PAGE_MASK_4K), pt_fault_name(w.fault));
	else if (len < end - start)
		snprintf(t->cmd_note, sizeof(t->cmd_note), "truncated to %d bytes", CMDLINE_MAX);
	t->cmd_len = done;
	return 0;
}

static struct task *new_task(struct check *c)
{
	if (c->ntasks == c->task_cap) {
		c->task_cap = c->task_cap ? c->task_cap * 2 : 256;
		c->tasks = xreallocarray(c->tasks, c->task_cap, sizeof(*c->tasks));
	}
	struct task *t = &c->tasks[c->ntasks++];
	memset(t, 0, sizeof(*t));
	return t;
}

struct walk_arg {
	struct check *c;
	const struct offsets *o;
};

/* A task on init_task.tasks; owner: the task before it, then this one. */
static int visit_task(void *arg, uint64_t task, char *owner, size_t n)
{
	struct check *c = ((struct walk_arg *)arg)->c;
	const struct offsets *o = ((struct walk_arg *)arg)->o;
	struct task *t = new_task(c);
	uint64_t parent, mm;
	char at[64];

	t->va = task;
	snprintf(at, sizeof(at), "the task at %#llx", (ull)task);
	if (kread_s32(c, task + o->pid, &t->pid, "task_struct.pid", at) < 0 ||
	    kread_s32(c, task + o->tgid, &t->tgid, "task_struct.tgid", at) < 0 ||
	    kread_str(c, task + o->comm, o->comm_len, t->comm, "task_struct.comm", at) < 0)
		return -1;
	if (t->pid <= 0 || t->pid > PID_MAX_LIMIT)
		return fail(c, STEP_WALK, "task_struct.pid of %s (comm '%s', reached from %s) is %d, not a valid pid", at,
			    t->comm, owner, t->pid);
	who(t, owner, n);
	if (t->tgid != t->pid)
		note(c, "%s has tgid %d: not a thread-group leader on the tasks list", owner, t->tgid);
	if (kread_u64(c, task + o->real_parent, &parent, "task_struct.real_parent", owner) < 0 ||
	    check_ptr(c, parent, "task_struct.real_parent", owner) < 0 ||
	    kread_s32(c, parent + o->tgid, &t->ppid, "task_struct.tgid of the real parent", owner) < 0 ||
	    kread_u64(c, task + o->mm, &mm, "task_struct.mm", owner) < 0)
		return -1;
	if (mm) {
		t->user = true;
		return read_cmdline(c, o, t, mm);
	}
	return 0;
}

/* A module on the modules list. */
static int visit_module(void *arg, uint64_t va, char *owner, size_t n)
{
	struct check *c = ((struct walk_arg *)arg)->c;
	const struct offsets *o = ((struct walk_arg *)arg)->o;
	char at[64];

	if (c->nmods == c->mod_cap) {
		c->mod_cap = c->mod_cap ? c->mod_cap * 2 : 64;
		c->mods = xreallocarray(c->mods, c->mod_cap, sizeof(*c->mods));
	}
	struct module *m = &c->mods[c->nmods++];
	m->va = va;
	snprintf(at, sizeof(at), "the module at %#llx", (ull)m->va);
	if (kread_str(c, m->va + o->mod_name, o->mod_name_len, m->name, "module.name", at) < 0)
		return -1;
	snprintf(owner, n, "module %s", m->name);
	return 0;
}

/* Both lists: the list's own faults come back in err_get(), a visit's are
 * already in the step's message. */
static int walk_list(struct check *c, const struct offsets *o, const struct kmem_list *l, kmem_list_fn fn)
{
	if (kmem_list_walk(l, fn, &(struct walk_arg){ c, o }) == 0)
		return 0;
	return c->msg[STEP_WALK][0] ? -1 : fail(c, STEP_WALK, "%s", err_get());
}

static int walk_tasks(struct check *c, const struct offsets *o)
{
	const struct kmem_list l = {
		.as = &c->kas, .head = c->sym_init_task + c->aslr + o->tasks, .entry_off = o->tasks,
		.next_off = o->next, .prev_off = o->prev, .max = MAX_TASKS,
		.field = "task_struct.tasks", .noun = "task", .head_name = "init_task",
		.if_empty = "no process at all, or a wrong task_struct.tasks offset",
	};
	return walk_list(c, o, &l, visit_task);
}

static int walk_modules(struct check *c, const struct offsets *o)
{
	uint64_t head;

	if (symbol(c, STEP_WALK, "modules", &head, ": the module list cannot be walked") < 0)
		return -1;
	const struct kmem_list l = {
		.as = &c->kas, .head = head + c->aslr, .entry_off = o->mod_list,
		.next_off = o->next, .prev_off = o->prev, .max = MAX_MODULES,
		.field = "module.list", .noun = "module", .head_name = "the modules list head",
	};
	return walk_list(c, o, &l, visit_module);
}

static int step_walk(struct check *c)
{
	struct offsets o;
	uint64_t uts;
	int32_t pid;
	char comm[STR_MAX];

	if (load_offsets(c, &o) < 0 ||
	    symbol(c, STEP_WALK, "init_uts_ns", &uts, ": the kernel release cannot be read") < 0)
		return -1;
	uint64_t init = c->sym_init_task + c->aslr;
	if (kread_s32(c, init + o.pid, &pid, "task_struct.pid", "init_task") < 0 ||
	    kread_str(c, init + o.comm, o.comm_len, comm, "task_struct.comm", "init_task") < 0)
		return -1;
	if (pid != 0 || strncmp(comm, SWAPPER, strlen(SWAPPER)))
		return fail(c, STEP_WALK, "init_task at %#llx has pid %d and comm '%s', not pid 0 and 'swapper/0'",
			    (ull)init, pid, comm);
	uts += c->aslr + o.uts_name;
	if (kread_str(c, uts + o.uts_release, o.uts_release_len, c->uts_release, "init_uts_ns.name.release",
		      "init_uts_ns") < 0 ||
	    kread_str(c, uts + o.uts_nodename, o.uts_nodename_len, c->hostname, "init_uts_ns.name.nodename",
		      "init_uts_ns") < 0)
		return -1;
	if (strcmp(c->uts_release, c->release))
		return fail(c, STEP_WALK, "init_uts_ns.name.release is '%s' but the banner says '%s'", c->uts_release,
			    c->release);
	if (walk_tasks(c, &o) < 0 || walk_modules(c, &o) < 0)
		return -1;
	return 0;
}

/* ---- report ------------------------------------------------------------------- */

static void summary(const struct check *c, char *out, size_t n)
{
	if (c->input_error[0]) {
		snprintf(out, n, "profile does not fit image: %s", c->input_error);
		return;
	}
	for (int s = 0; s < NSTEPS; s++)
		if (c->state[s] < 0) {
			snprintf(out, n, "profile does not fit image: step %d (%s): %s", s + 1, step_name[s], c->msg[s]);
			return;
		}
	snprintf(out, n, "profile fits image: %zu task%s, %zu module%s, release %s", c->ntasks,
		 c->ntasks == 1 ? "" : "s", c->nmods, c->nmods == 1 ? "" : "s", c->uts_release);
}

/* Arguments of t's command line, one callback per argument. */
static size_t split_args(const struct task *t, size_t i, size_t *len)
{
	const uint8_t *p = t->cmd + i, *nul = memchr(p, 0, t->cmd_len - i);
	*len = nul ? (size_t)(nul - p) : t->cmd_len - i;
	return i + *len + 1;	/* start of the next one */
}

static void print_text(const struct check *c)
{
	char buf[BANNER_MAX * 2];

	printf("profile  %s: %s, %zu types, %zu symbols\n", c->profile_path,
	       c->isf ? isf_producer(c->isf) : "unreadable", c->isf ? isf_ntypes(c->isf) : 0,
	       c->isf ? isf_nsymbols(c->isf) : 0);
	if (c->img_open)
		printf("image    %s: %s, %zu range%s, %llu MiB\n", c->image_path, image_format_name(c->img.format),
		       c->img.nruns, c->img.nruns == 1 ? "" : "s", (ull)(c->img.present >> 20));
	for (int s = 0; s < NSTEPS && !c->input_error[0]; s++) {
		if (!c->state[s])
			break;
		printf("step %d  %-7s %s\n", s + 1, step_name[s], c->state[s] > 0 ? "ok" : "FAILED");
		if (c->state[s] < 0) {
			printf("  %s\n", c->msg[s]);
			if (s == STEP_BANNER && c->banner.n) {
				banner_text(c->banner.p, c->banner.n, buf, sizeof(buf));
				printf("  profile banner: '%s'\n", buf);
				if (c->diff[0])
					printf("  difference from the closest: %s\n", c->diff);
				for (size_t i = 0; i < c->nseen; i++) {
					banner_text(c->seen[i].text, c->seen[i].len, buf, sizeof(buf));
					printf("  image banner%s '%s' at physical %#llx (%zu cop%s)\n",
					       (int)i == c->closest ? " (closest):" : ":          ", buf, (ull)c->seen[i].pa,
					       c->seen[i].copies, c->seen[i].copies == 1 ? "y" : "ies");
				}
			}
		}
		if (s == STEP_BANNER && c->state[s] > 0) {
			banner_text(c->banner.p, c->banner.n, buf, sizeof(buf));
			printf("  '%s'\n  at physical %#llx (%zu cop%s)\n", buf, (ull)c->banner_pa, c->banner_copies,
			       c->banner_copies == 1 ? "y" : "ies");
			/* Other kernels' banners; near-copies of this one (stale or
			 * partly overwritten) are only in the JSON report. */
			for (size_t i = 0; i < c->nseen; i++) {
				struct banner_parts bp;
				banner_split(c->seen[i].text, c->seen[i].len, &bp);
				if (!strcmp(bp.release, c->release))
					continue;
				banner_text(c->seen[i].text, c->seen[i].len, buf, sizeof(buf));
				printf("  the image also holds '%s' at physical %#llx\n", buf, (ull)c->seen[i].pa);
			}
		}
		if (s == STEP_KASLR && c->init_task_pa) {
			printf("  Volatility3: init_task at physical %#llx: virtual shift %#llx, physical shift %#llx\n",
			       (ull)c->init_task_pa, (ull)c->aslr, (ull)c->kaslr);
			if (c->levels)
				printf("               DTB %#llx (%s), %d-level paging, linux_banner translates to the banner%s\n",
				       (ull)c->dtb, c->pgt_name, c->levels,
				       c->levels == 5 ? " (note: Volatility3's Intel32e layer is 4-level only)" : "");
			if (c->k && c->k->runtime_text)
				printf("  carver:      _text %#llx at physical %#llx: virtual shift %#llx, physical shift %#llx\n"
				       "               (%s)\n",
				       (ull)c->k->runtime_text, (ull)c->k->pa_text, (ull)c->carve_aslr,
				       (ull)c->carve_kaslr, c->k->slide_how);
		}
		if (s == STEP_WALK && (c->ntasks || c->state[s] > 0)) {
			if (c->uts_release[0])
				printf("  init_uts_ns: release %s, hostname %s\n", c->uts_release, c->hostname);
			printf("  %zu task%s (init_task not counted)\n  %7s %7s  %-16s %s\n", c->ntasks,
			       c->ntasks == 1 ? "" : "s", "PID", "PPID", "COMM", "COMMAND");
			for (size_t i = 0; i < c->ntasks; i++) {
				const struct task *t = &c->tasks[i];
				size_t o = 0;
				buf[0] = 0;
				for (size_t a = 0; a < t->cmd_len && o + 8 < sizeof(buf);) {
					size_t len;
					size_t nexta = split_args(t, a, &len);
					char arg[1024];
					escape(t->cmd + a, len, arg, sizeof(arg));
					o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s%s", o ? " " : "", arg);
					a = nexta;
				}
				printf("  %7d %7d  %-16s %s%s%s%s\n", t->pid, t->ppid, t->comm,
				       t->user ? "" : "[kernel thread]", buf, t->cmd_note[0] ? "  # " : "", t->cmd_note);
			}
			printf("  %zu module%s\n", c->nmods, c->nmods == 1 ? "" : "s");
			for (size_t i = 0; i < c->nmods; i++)
				printf("    %s at %#llx\n", c->mods[i].name, (ull)c->mods[i].va);
			if (c->notes[0])
				printf("  notes: %s\n", c->notes);
		}
	}
	summary(c, buf, sizeof(buf));
	printf("%s\n", buf);
}

static void print_json(const struct check *c)
{
	struct sink *out = sink_open(NULL);
	if (!out)
		return;
	struct jsonw *w = jsonw_new(out, true);
	char buf[BANNER_MAX * 2];

	jsonw_start_object(w);
	jsonw_name(w, "profile");
	jsonw_start_object(w);
	jsonw_string_field(w, "path", c->profile_path);
	if (c->isf) {
		jsonw_string_field(w, "producer", isf_producer(c->isf));
		jsonw_uint_field(w, "types", isf_ntypes(c->isf));
		jsonw_uint_field(w, "symbols", isf_nsymbols(c->isf));
	}
	if (c->banner.n) {
		jsonw_name(w, "banner");
		jsonw_string_len(w, (const char *)c->banner.p, c->banner.n);
	}
	jsonw_end_object(w);
	jsonw_name(w, "image");
	jsonw_start_object(w);
	jsonw_string_field(w, "path", c->image_path);
	if (c->img_open) {
		jsonw_string_field(w, "format", image_format_name(c->img.format));
		jsonw_uint_field(w, "ranges", c->img.nruns);
		jsonw_uint_field(w, "bytes", c->img.present);
	}
	jsonw_end_object(w);
	if (c->input_error[0]) {
		jsonw_string_field(w, "error", c->input_error);
	}
	jsonw_name(w, "steps");
	jsonw_start_array(w);
	for (int s = 0; s < NSTEPS && !c->input_error[0] && c->state[s]; s++) {
		jsonw_start_object(w);
		jsonw_uint_field(w, "step", (uint64_t)s + 1);
		jsonw_string_field(w, "name", step_name[s]);
		jsonw_bool_field(w, "ok", c->state[s] > 0);
		if (c->state[s] < 0) {
			jsonw_string_field(w, "error", c->msg[s]);
		}
		if (s == STEP_BANNER) {
			jsonw_uint_field(w, "copies", c->banner_copies);
			if (c->banner_copies) {
				jsonw_uint_field(w, "physical_address", c->banner_pa);
			}
			jsonw_name(w, "image_banners");
			jsonw_start_array(w);
			for (size_t i = 0; i < c->nseen; i++) {
				jsonw_start_object(w);
				jsonw_name(w, "banner");
				jsonw_string_len(w, (const char *)c->seen[i].text, c->seen[i].len);
				jsonw_uint_field(w, "physical_address", c->seen[i].pa);
				jsonw_uint_field(w, "copies", c->seen[i].copies);
				jsonw_end_object(w);
			}
			jsonw_end_array(w);
			if (c->closest >= 0) {
				jsonw_uint_field(w, "closest", (uint64_t)c->closest);
				jsonw_string_field(w, "difference", c->diff);
			}
		}
		if (s == STEP_KASLR) {
			jsonw_name(w, "volatility3");
			jsonw_start_object(w);
			jsonw_uint_field(w, "swapper_hits", c->swapper_hits);
			if (c->init_task_pa) {
				jsonw_uint_field(w, "init_task_physical", c->init_task_pa);
				jsonw_uint_field(w, "virtual_shift", c->aslr);
				jsonw_uint_field(w, "physical_shift", c->kaslr);
				jsonw_string_field(w, "dtb_symbol", c->pgt_name);
				jsonw_uint_field(w, "dtb", c->dtb);
			}
			if (c->levels) {
				jsonw_uint_field(w, "paging_levels", (uint64_t)c->levels);
			}
			jsonw_end_object(w);
			if (c->k) {
				jsonw_name(w, "carver");
				jsonw_start_object(w);
				jsonw_string_field(w, "release", c->k->release);
				jsonw_uint_field(w, "text_runtime", c->k->runtime_text);
				jsonw_uint_field(w, "text_physical", c->k->pa_text);
				jsonw_uint_field(w, "text_link", c->k->link_text);
				jsonw_uint_field(w, "virtual_shift", c->carve_aslr);
				jsonw_uint_field(w, "physical_shift", c->carve_kaslr);
				jsonw_string_field(w, "how", c->k->slide_how);
				jsonw_end_object(w);
			}
		}
		if (s == STEP_WALK) {
			if (c->uts_release[0]) {
				jsonw_string_field(w, "release", c->uts_release);
				jsonw_string_field(w, "hostname", c->hostname);
			}
			jsonw_name(w, "tasks");
			jsonw_start_array(w);
			for (size_t i = 0; i < c->ntasks; i++) {
				const struct task *t = &c->tasks[i];
				jsonw_start_object(w);
				jsonw_int_field(w, "pid", t->pid);
				jsonw_int_field(w, "ppid", t->ppid);
				jsonw_string_field(w, "comm", t->comm);
				jsonw_uint_field(w, "address", t->va);
				jsonw_bool_field(w, "kernel_thread", !t->user);
				jsonw_name(w, "cmdline");
				jsonw_start_array(w);
				for (size_t a = 0; a < t->cmd_len;) {
					size_t len;
					size_t nexta = split_args(t, a, &len);
					jsonw_string_len(w, (const char *)t->cmd + a, len);
					a = nexta;
				}
				jsonw_end_array(w);
				if (t->cmd_note[0]) {
					jsonw_string_field(w, "cmdline_note", t->cmd_note);
				}
				jsonw_end_object(w);
			}
			jsonw_end_array(w);
			jsonw_name(w, "modules");
			jsonw_start_array(w);
			for (size_t i = 0; i < c->nmods; i++) {
				jsonw_start_object(w);
				jsonw_string_field(w, "name", c->mods[i].name);
				jsonw_uint_field(w, "address", c->mods[i].va);
				jsonw_end_object(w);
			}
			jsonw_end_array(w);
			if (c->notes[0]) {
				jsonw_string_field(w, "notes", c->notes);
			}
		}
		jsonw_end_object(w);
	}
	jsonw_end_array(w);
	bool fits = !c->input_error[0] && c->state[STEP_WALK] > 0;
	jsonw_bool_field(w, "fits", fits);
	summary(c, buf, sizeof(buf));
	jsonw_string_field(w, "summary", buf);
	jsonw_name(w, "milliseconds");
	jsonw_start_object(w);
	const struct { const char *what; double t; } times[] = {
		{ "profile", c->t_profile }, { "image", c->t_image }, { "scan", c->t_scan },
		{ "banner", c->t_step[STEP_BANNER] }, { "kaslr", c->t_step[STEP_KASLR] }, { "walk", c->t_step[STEP_WALK] },
	};
	for (size_t i = 0; i < ARRAY_SIZE(times); i++)
		jsonw_uint_field(w, times[i].what, (uint64_t)(times[i].t * 1000 + 0.5));
	jsonw_end_object(w);
	jsonw_end_object(w);
	jsonw_free(w);
	sink_write(out, "\n", 1);
	sink_close(out);
}

/* ---- driver ------------------------------------------------------------------- */

static void check_free(struct check *c)
{
	for (size_t i = 0; i < c->ntasks; i++)
		free(c->tasks[i].cmd);
	free(c->tasks);
	free(c->mods);
	free(c->seen);
	scan_hits_free(c->hits, ARRAY_SIZE(c->hits));
	if (c->carved)
		carve_free(&c->carve);
	if (c->img_open)
		image_close(&c->img);
	isf_close(c->isf);
}

static void run_steps(struct check *c)
{
	double t = now_seconds();
	if (isf_open(c->profile_path, &c->isf) < 0) {
		snprintf(c->input_error, sizeof(c->input_error), "cannot read the profile: %s", err_get());
		return;
	}
	c->t_profile = now_seconds() - t;
	t = now_seconds();
	if (image_open(c->image_path, &c->img) < 0) {
		snprintf(c->input_error, sizeof(c->input_error), "cannot read the image: %s", err_get());
		return;
	}
	c->img_open = true;
	c->t_image = now_seconds() - t;
	t = now_seconds();
	const struct span needles[2] = {
		{ (const uint8_t *)LINUX_VERSION, sizeof(LINUX_VERSION) - 1 },
		{ (const uint8_t *)SWAPPER, sizeof(SWAPPER) - 1 },
	};
	scan_image(&c->img, needles, ARRAY_SIZE(needles), c->hits);
	c->t_scan = now_seconds() - t;

	int (*const steps[NSTEPS])(struct check *) = { step_banner, step_kaslr, step_walk };
	for (int s = 0; s < NSTEPS; s++) {
		err_clear();
		t = now_seconds();
		int r = steps[s](c);
		c->t_step[s] = now_seconds() - t;
		if (r < 0) {
			c->state[s] = -1;
			if (!c->msg[s][0])
				snprintf(c->msg[s], sizeof(c->msg[s]), "%s", err_get());
			return;
		}
		c->state[s] = 1;
	}
}

static const char check_usage[] =
	"Usage: btf2isf check [--json] PROFILE IMAGE\n"
	"\n"
	"Prove that the Volatility3 profile PROFILE (.json, .json.xz, .json.gz; ours or\n"
	"dwarf2json's) fits the memory IMAGE (raw, LiME, ELF core, AVML), or say why not:\n"
	"  1 banner  the profile's linux_banner is in the image\n"
	"  2 KASLR   Volatility3's shifts (init_task scan) agree with btf2isf's carver\n"
	"  3 walk    tasks, modules and init_uts_ns read with the profile's offsets\n"
	"The last line is 'profile fits image: N tasks, M modules, release R' or the failure.\n"
	"\n"
	"Options:\n"
	"      --json     print the report as JSON\n"
	"  -h, --help     print this help and exit\n"
	"\n"
	"Exit status: 0 fits, 1 does not fit (or an input is unreadable), 2 misuse.\n";

int check_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool json = false;
	int opt;

	opterr = 0;
	optind = 1;
	while ((opt = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (opt) {
		case 'j': json = true; break;
		case 'h': fputs(check_usage, stdout); return 0;
		default:
			fprintf(stderr, "btf2isf: check: unknown option '%s'\nTry 'btf2isf check --help'.\n",
				argv[optind - 1]);
			return 2;
		}
	}
	if (argc - optind != 2) {
		fprintf(stderr, "btf2isf: check: want PROFILE and IMAGE\nTry 'btf2isf check --help'.\n");
		return 2;
	}
	struct check *c = xcalloc(1, sizeof(*c));
	c->profile_path = argv[optind];
	c->image_path = argv[optind + 1];
	c->closest = -1;
	run_steps(c);
	if (json)
		print_json(c);
	else
		print_text(c);
	fflush(stdout);
	int ret = !c->input_error[0] && c->state[STEP_WALK] > 0 ? 0 : 1;
	check_free(c);
	free(c);
	return ret;
}

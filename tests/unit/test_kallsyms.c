/* Unit tests for src/kallsyms.c.
 *
 * 1. Synthetic tables: a small encoder below writes kallsyms blocks the way
 *    scripts/kallsyms lays them out in every era (pre-4.20 u64, 4.20-6.1,
 *    6.2 seqs, 6.4 reorder, 7.0 PC-relative; encodings A/B/C/D; 1- and 2-byte
 *    name lengths; .balign 4/8 and arm64 ".align 8" = 256 bytes), and the
 *    carver must return exactly what went in.
 * 2. Hostile input: corrupted, truncated, random and empty regions must give
 *    0 tables and an error, never a crash (run under `make check SAN=1`).
 * 3. Real kernels: when $REF and an extracted vmlinux in $CACHE exist, every
 *    decoded entry must match the kernel's real System.map.
 *
 * Protocol: one line per check; exit 0 = all pass, 1 = a failure. */
#include "kallsyms.h"
#include "check.h"
#include "log.h"

#include <elf.h>
#include <inttypes.h>
#include <lzma.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>



static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- deterministic pseudo-random numbers --------------------------------- */

static uint64_t rnd(void) { return check_random(); }

static void fill_random(uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)rnd();
}

/* ---- synthetic symbol lists ---------------------------------------------- */

struct gsym {
	uint64_t addr;
	char type;
	bool percpu;		/* stored as a positive offset in encoding C */
	char name[300];
};

struct gsyms {
	struct gsym *v;
	size_t n;
};

static void add_sym(struct gsyms *s, uint64_t addr, char type, bool percpu, const char *name)
{
	s->v = xreallocarray(s->v, s->n + 1, sizeof(*s->v));
	struct gsym *g = &s->v[s->n++];
	g->addr = addr;
	g->type = type;
	g->percpu = percpu;
	snprintf(g->name, sizeof(g->name), "%s", name);
}

/* A kernel-like symbol list, sorted by address: optional per-CPU 'A' symbols
 * at small addresses, _text/_stext, functions, a few Rust-like names long
 * enough to need 2-byte lengths, then data. */
static struct gsyms make_syms(size_t nfunc, bool percpu, bool long_names, uint64_t text)
{
	struct gsyms s = { 0 };
	char name[300];

	if (percpu) {
		add_sym(&s, 0, 'A', true, "fixed_percpu_data");
		add_sym(&s, 0, 'A', true, "__per_cpu_start");
		for (int i = 1; i <= 5; i++) {
			snprintf(name, sizeof(name), "percpu_var%d", i);
			add_sym(&s, 0x1000u * (unsigned)i, 'A', true, name);
		}
	}
	add_sym(&s, text, 'T', false, "_stext");
	add_sym(&s, text, 'T', false, "_text");
	add_sym(&s, text, 'T', false, "startup_64");
	uint64_t a = text + 0x40;
	for (size_t i = 0; i < nfunc; i++, a += 0x10 + (rnd() & 0x1f0)) {
		snprintf(name, sizeof(name), "%s_func_%05zu", i % 3 ? "net" : "fs", i);
		add_sym(&s, a, i % 5 ? 't' : 'T', false, name);
		if (long_names && i % 97 == 50) {
			size_t len = 180 + i % 20;
			char *p = name + snprintf(name, sizeof(name), "_RNvXs0_NtNtCs");
			for (size_t k = 0; k < len; k++)
				*p++ = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_"[rnd() % 63];
			*p = 0;
			add_sym(&s, a, 'T', false, name);
		}
	}
	add_sym(&s, a, 'T', false, "_etext");
	for (size_t i = 0; i < nfunc / 4; i++, a += 0x40) {
		snprintf(name, sizeof(name), "data_obj_%04zu", i);
		add_sym(&s, a, "DdRrBb"[i % 6], false, name);
	}
	add_sym(&s, a, 'D', false, "init_task");
	return s;
}

/* ---- token table and name compression ------------------------------------ */

struct gtokens {
	char tok[256][16];
};

/* Identity tokens for every byte that occurs in a name (as scripts/kallsyms
 * keeps), multi-character tokens in the unused slots, including "T__" so a
 * type char shares its token with the name. */
static void make_tokens(const struct gsyms *s, struct gtokens *t)
{
	static const char *multi[] = { "T__", "t_", "func_", "net_", "fs_", "_00", "data_",
				       "obj_", "percpu", "_R", "Nt", "Cs", "00", "01", "_f" };
	bool used[256] = { false };
	size_t next_multi = 0, next_pair = 0;

	for (size_t i = 0; i < s->n; i++) {
		used[(uint8_t)s->v[i].type] = true;
		for (const char *p = s->v[i].name; *p; p++)
			used[(uint8_t)*p] = true;
	}
	for (int b = 0; b < 256; b++) {
		if (used[b]) {
			t->tok[b][0] = (char)b;
			t->tok[b][1] = 0;
		} else if (next_multi < ARRAY_SIZE(multi)) {
			snprintf(t->tok[b], sizeof(t->tok[b]), "%s", multi[next_multi++]);
		} else {
			size_t k = next_pair++;
			snprintf(t->tok[b], sizeof(t->tok[b]), "%c%c", 'a' + (int)(k / 26 % 26),
				 'a' + (int)(k % 26));
		}
	}
}

/* Greedy longest-token compression of type char + name. */
static size_t compress(const struct gtokens *t, const struct gsym *g, uint8_t *out)
{
	char full[320];
	size_t n = 0, len = (size_t)snprintf(full, sizeof(full), "%c%s", g->type, g->name);

	for (size_t i = 0; i < len;) {
		int best = -1;
		size_t best_len = 0;
		for (int b = 0; b < 256; b++) {
			size_t tl = strlen(t->tok[b]);
			if (tl > best_len && tl <= len - i && !memcmp(full + i, t->tok[b], tl)) {
				best = b;
				best_len = tl;
			}
		}
		out[n++] = (uint8_t)best;
		i += best_len;
	}
	return n;
}

/* ---- block writer -------------------------------------------------------- */

struct genopts {
	enum ksym_layout layout;
	enum ksym_encoding enc;
	unsigned algn;
	bool zero_rb;		/* relative_base stored as 0 (arm64 file) */
};

/* Where the writer put each array (offsets into the output buffer). */
struct genpos {
	size_t num_syms, names, markers, token_table, token_index, addrs, seqs, rb, end;
	size_t n, two_byte_lengths;
};

static void put_zero(struct buf *b, size_t n)
{
	buf_reserve(b, n);
	memset(b->p + b->len, 0, n);
	b->len += n;
}

static void put_align(struct buf *b, unsigned algn)
{
	put_zero(b, (algn - b->len % algn) % algn);
}

static void put_u32(struct buf *b, uint32_t v) { buf_append(b, &v, 4); }
static void put_u64(struct buf *b, uint64_t v) { buf_append(b, &v, 8); }

struct gstate {
	const struct gsyms *s;
	struct gtokens tok;
	struct genopts o;
	uint64_t va0, rb;
	struct genpos pos;
};

static bool has_seqs(enum ksym_layout l)
{
	return l == KSYM_LAYOUT_6_2 || l == KSYM_LAYOUT_6_4 || l == KSYM_LAYOUT_7_0;
}

static unsigned count_width(enum ksym_layout l)
{
	return l == KSYM_LAYOUT_PRE_4_20 ? 8 : 4;
}

static void put_count(struct buf *b, enum ksym_layout l, uint64_t v)
{
	if (count_width(l) == 8)
		put_u64(b, v);
	else
		put_u32(b, (uint32_t)v);
}

static void emit_num_syms(struct buf *b, struct gstate *g)
{
	put_align(b, g->o.algn);
	g->pos.num_syms = b->len;
	put_count(b, g->o.layout, g->s->n);
}

static void emit_names_markers(struct buf *b, struct gstate *g)
{
	size_t nm = (g->s->n + 255) / 256;
	uint64_t *markers = xcalloc(nm, sizeof(*markers));
	uint8_t comp[512];

	put_align(b, g->o.algn);
	g->pos.names = b->len;
	for (size_t i = 0; i < g->s->n; i++) {
		if (!(i & 0xff))
			markers[i >> 8] = b->len - g->pos.names;
		size_t len = compress(&g->tok, &g->s->v[i], comp);
		if (len > 0x7f) {
			uint8_t hdr[2] = { (uint8_t)(0x80 | (len & 0x7f)), (uint8_t)(len >> 7) };
			buf_append(b, hdr, 2);
			g->pos.two_byte_lengths++;
		} else {
			uint8_t l8 = (uint8_t)len;
			buf_append(b, &l8, 1);
		}
		buf_append(b, comp, len);
	}
	put_align(b, g->o.algn);
	g->pos.markers = b->len;
	for (size_t k = 0; k < nm; k++)
		put_count(b, g->o.layout, markers[k]);
	free(markers);
}

static void emit_tokens(struct buf *b, struct gstate *g)
{
	uint16_t index[256];

	put_align(b, g->o.algn);
	g->pos.token_table = b->len;
	for (int i = 0; i < 256; i++) {
		index[i] = (uint16_t)(b->len - g->pos.token_table);
		buf_append(b, g->tok.tok[i], strlen(g->tok.tok[i]) + 1);
	}
	put_align(b, g->o.algn);
	g->pos.token_index = b->len;
	buf_append(b, index, sizeof(index));
}

static void emit_addresses(struct buf *b, struct gstate *g)
{
	put_align(b, g->o.algn);
	g->pos.addrs = b->len;
	for (size_t i = 0; i < g->s->n; i++) {
		const struct gsym *s = &g->s->v[i];
		uint64_t va_here = g->va0 + b->len;
		switch (g->o.enc) {
		case KSYM_ENC_ABSOLUTE: put_u64(b, s->addr); break;
		case KSYM_ENC_BASE_RELATIVE: put_u32(b, (uint32_t)(s->addr - g->rb)); break;
		case KSYM_ENC_ABS_PERCPU:
			put_u32(b, s->percpu ? (uint32_t)s->addr : (uint32_t)(g->rb - s->addr - 1));
			break;
		case KSYM_ENC_PC_RELATIVE: put_u32(b, (uint32_t)(s->addr - va_here)); break;
		}
	}
	if (g->o.enc == KSYM_ENC_BASE_RELATIVE || g->o.enc == KSYM_ENC_ABS_PERCPU) {
		put_align(b, g->o.algn);
		g->pos.rb = b->len;
		put_u64(b, g->o.zero_rb ? 0 : g->rb);
	}
}

static const struct gsyms *cmp_syms;

static int cmp_by_name(const void *a, const void *b)
{
	size_t i = *(const size_t *)a, j = *(const size_t *)b;
	int rc = strcmp(cmp_syms->v[i].name, cmp_syms->v[j].name);
	if (rc)
		return rc;
	if (cmp_syms->v[i].addr != cmp_syms->v[j].addr)
		return cmp_syms->v[i].addr < cmp_syms->v[j].addr ? -1 : 1;
	return (i > j) - (i < j);
}

static void emit_seqs(struct buf *b, struct gstate *g)
{
	size_t *order = xmalloc(g->s->n * sizeof(*order));

	for (size_t i = 0; i < g->s->n; i++)
		order[i] = i;
	cmp_syms = g->s;
	qsort(order, g->s->n, sizeof(*order), cmp_by_name);
	put_align(b, g->o.algn);
	g->pos.seqs = b->len;
	for (size_t j = 0; j < g->s->n; j++) {
		uint8_t be[3] = { (uint8_t)(order[j] >> 16), (uint8_t)(order[j] >> 8), (uint8_t)order[j] };
		buf_append(b, be, 3);
	}
	free(order);
}

/* Write `s` as a kallsyms block in layout/encoding `o`, surrounded by
 * non-zero filler, into b (whose offset 0 is at virtual address va0). */
static struct genpos gen_block(struct buf *b, const struct gsyms *s, struct genopts o, uint64_t va0)
{
	struct gstate g = { .s = s, .o = o, .va0 = va0 };
	static const char banner[] = "Linux version 9.9.9-test (builder@host) (gcc) #1 SMP\n";

	make_tokens(s, &g.tok);
	for (size_t i = 0; i < s->n; i++)
		if (!s->v[i].percpu) {
			g.rb = s->v[i].addr;
			break;
		}
	buf_append(b, banner, sizeof(banner));
	switch (o.layout) {
	case KSYM_LAYOUT_PRE_4_20:
	case KSYM_LAYOUT_4_20:
	case KSYM_LAYOUT_6_2:
		emit_addresses(b, &g);
		emit_num_syms(b, &g);
		emit_names_markers(b, &g);
		if (o.layout == KSYM_LAYOUT_6_2)
			emit_seqs(b, &g);
		emit_tokens(b, &g);
		break;
	case KSYM_LAYOUT_6_4:
	case KSYM_LAYOUT_7_0:
		emit_num_syms(b, &g);
		emit_names_markers(b, &g);
		emit_tokens(b, &g);
		emit_addresses(b, &g);
		emit_seqs(b, &g);
		break;
	}
	g.pos.end = b->len;
	uint8_t tail[64];
	fill_random(tail, sizeof(tail));
	tail[0] |= 1;
	buf_append(b, tail, sizeof(tail));
	g.pos.n = s->n;
	return g.pos;
}

/* ---- comparing a decoded table with what was written --------------------- */

static bool same_symbols(const struct kallsyms_table *t, const struct gsyms *s, uint64_t addr_shift)
{
	if (t->n != s->n)
		return false;
	for (size_t i = 0; i < s->n; i++) {
		const struct ksym *k = &t->syms[i];
		const struct gsym *g = &s->v[i];
		if (k->addr != g->addr - addr_shift || k->type != g->type ||
		    strcmp(ksym_name(t, k), g->name) ||
		    k->absolute != (t->enc == KSYM_ENC_ABS_PERCPU && g->percpu)) {
			printf("     entry %zu: got %016" PRIx64 " %c %s%s, want %016" PRIx64 " %c %s\n",
			       i, k->addr, k->type, ksym_name(t, k), k->absolute ? " (abs)" : "",
			       g->addr - addr_shift, g->type, g->name);
			return false;
		}
	}
	return true;
}

static bool same_offsets(const struct kallsyms_table *t, const struct genpos *p, size_t shift)
{
	bool rb = t->enc == KSYM_ENC_BASE_RELATIVE || t->enc == KSYM_ENC_ABS_PERCPU;
	return t->off_num_syms == p->num_syms + shift && t->off_names == p->names + shift &&
	       t->off_markers == p->markers + shift && t->off_token_table == p->token_table + shift &&
	       t->off_token_index == p->token_index + shift && t->off_addresses == p->addrs + shift &&
	       (!t->has_seqs || t->off_seqs == p->seqs + shift) &&
	       t->has_relative_base == rb && (!rb || t->off_relative_base == p->rb + shift) &&
	       t->markers_count == (p->n + 255) / 256 &&
	       t->off_block_start == (p->num_syms < p->addrs ? p->num_syms : p->addrs) + shift &&
	       t->off_block_end == p->end + shift;
}

#define VA0 0xffffffff82000000ull
#define TEXT 0xffffffff81000000ull

struct era {
	const char *what;
	struct genopts o;
	bool percpu, long_names;
};

static const struct era eras[] = {
	{ "4.18/4.19 x86_64: u64 num_syms/markers, encoding C",
	  { KSYM_LAYOUT_PRE_4_20, KSYM_ENC_ABS_PERCPU, 8, false }, true, false },
	{ "4.x arm64: u64 counts, .align 8 = 256 bytes, encoding B",
	  { KSYM_LAYOUT_PRE_4_20, KSYM_ENC_BASE_RELATIVE, 256, false }, false, false },
	{ "pre-4.20, encoding A (kallsyms_addresses)",
	  { KSYM_LAYOUT_PRE_4_20, KSYM_ENC_ABSOLUTE, 8, false }, false, false },
	{ "4.20-6.0 x86_64: u32 counts, encoding C",
	  { KSYM_LAYOUT_4_20, KSYM_ENC_ABS_PERCPU, 8, false }, true, false },
	{ "6.1 mainline: 2-byte name lengths, encoding B",
	  { KSYM_LAYOUT_4_20, KSYM_ENC_BASE_RELATIVE, 8, false }, false, true },
	{ "4.20 arm64 .align 8 = 256 bytes, encoding B",
	  { KSYM_LAYOUT_4_20, KSYM_ENC_BASE_RELATIVE, 256, false }, false, false },
	{ "4.20-6.1, encoding A", { KSYM_LAYOUT_4_20, KSYM_ENC_ABSOLUTE, 8, false }, false, false },
	{ "6.2/6.3 (and Debian 6.1.192): seqs before token table, encoding C, 2-byte lengths",
	  { KSYM_LAYOUT_6_2, KSYM_ENC_ABS_PERCPU, 8, false }, true, true },
	{ "6.2/6.3 arm64: seqs before token table, encoding B",
	  { KSYM_LAYOUT_6_2, KSYM_ENC_BASE_RELATIVE, 8, false }, false, false },
	{ "6.4-6.14 x86_64: reordered, encoding C",
	  { KSYM_LAYOUT_6_4, KSYM_ENC_ABS_PERCPU, 8, false }, true, true },
	{ "6.15-6.19 x86_64 / arm64: reordered, encoding B",
	  { KSYM_LAYOUT_6_4, KSYM_ENC_BASE_RELATIVE, 8, false }, false, true },
	{ "6.4-6.10, encoding A", { KSYM_LAYOUT_6_4, KSYM_ENC_ABSOLUTE, 8, false }, false, false },
	{ "arm64 file, relocations not applied: encoding B with relative_base 0",
	  { KSYM_LAYOUT_6_4, KSYM_ENC_BASE_RELATIVE, 8, true }, false, false },
	{ "7.0+: PC-relative, .balign 4, no relative_base",
	  { KSYM_LAYOUT_7_0, KSYM_ENC_PC_RELATIVE, 4, false }, false, true },
};

/* Build an era's block; callers own *b and *s. */
static struct genpos build_era(const struct era *e, size_t nfunc, struct buf *b, struct gsyms *s)
{
	memset(b, 0, sizeof(*b));
	*s = make_syms(nfunc, e->percpu, e->long_names, TEXT);
	return gen_block(b, s, e->o, VA0);
}

static void test_eras(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(eras); i++) {
		const struct era *e = &eras[i];
		struct buf b;
		struct gsyms s;
		struct genpos p = build_era(e, 700, &b, &s);
		struct kallsyms_table *t = NULL;
		int n = kallsyms_carve_all((struct span){ b.p, b.len }, VA0, &t);

		/* Unrelocated tables hold offsets from the first symbol. */
		uint64_t addr_shift = e->o.zero_rb ? TEXT : 0;
		if (check_that(n == 1, "%s: one table (N=%zu, %zu two-byte lengths)%s%s", e->what, s.n,
			  p.two_byte_lengths, n ? "" : ": ", n ? "" : err_get())) {
			check_that(t[0].layout == e->o.layout && t[0].enc == e->o.enc &&
			      t[0].unrelocated == e->o.zero_rb,
			      "  layout %d / encoding %c%s detected (want %d / %c)", t[0].layout,
			      t[0].enc, t[0].unrelocated ? " (unrelocated)" : "", e->o.layout, e->o.enc);
			check_that(same_symbols(&t[0], &s, addr_shift),
			      "  every name, type, address and absolute flag");
			check_that(same_offsets(&t[0], &p, 0), "  array offsets, markers count, block start and end");
			check_that(t[0].has_seqs == has_seqs(e->o.layout), "  seqs_of_names %s",
			      t[0].has_seqs ? "found" : "absent");
			if (e->long_names)
				check_that(p.two_byte_lengths > 0, "  2-byte name lengths were exercised");
		}
		kallsyms_free_all(t, n);

		/* The same bytes at an odd offset inside a bigger region: labels are
		 * no longer aligned relative to the region start. */
		struct buf big = { 0 };
		size_t shift = 4096 + 3;
		put_zero(&big, shift);
		fill_random(big.p, shift);
		buf_append(&big, b.p, b.len);
		put_zero(&big, 8192);
		n = kallsyms_carve_all((struct span){ big.p, big.len }, VA0 - shift, &t);
		check_that(n == 1 && same_symbols(&t[0], &s, addr_shift) && same_offsets(&t[0], &p, shift),
		      "  same block at odd offset %#zx inside a larger region", shift);
		kallsyms_free_all(t, n);
		buf_free(&big);
		buf_free(&b);
		free(s.v);
	}
}

/* Encoding D with the virtual address unknown: addresses come out relative
 * to the region start (wrapping), off by the same constant for all. */
static void test_pc_relative_without_va(void)
{
	struct buf b;
	struct gsyms s;
	struct kallsyms_table *t = NULL;

	build_era(&eras[ARRAY_SIZE(eras) - 1], 700, &b, &s);
	int n = kallsyms_carve_all((struct span){ b.p, b.len }, 0, &t);
	check_that(n == 1 && same_symbols(&t[0], &s, VA0),
	      "7.0 PC-relative with va_of_start 0: addresses relative to the region start");
	kallsyms_free_all(t, n);
	/* A physical base (as a memory carver passes) shifts them alike. */
	uint64_t pa = 0x3a600000;
	n = kallsyms_carve_all((struct span){ b.p, b.len }, pa, &t);
	check_that(n == 1 && same_symbols(&t[0], &s, VA0 - pa),
	      "7.0 PC-relative with a physical va_of_start: physical addresses");
	kallsyms_free_all(t, n);
	buf_free(&b);
	free(s.v);
}

/* A tiny kernel: one marker, N < 256. */
static void test_tiny_table(void)
{
	struct buf b = { 0 };
	struct gsyms s = make_syms(60, true, false, TEXT);
	struct genopts o = { KSYM_LAYOUT_6_4, KSYM_ENC_ABS_PERCPU, 8, false };
	struct kallsyms_table *t = NULL;

	gen_block(&b, &s, o, VA0);
	int n = kallsyms_carve_all((struct span){ b.p, b.len }, VA0, &t);
	check_that(n == 1 && same_symbols(&t[0], &s, 0) && t[0].markers_count == 1,
	      "tiny table: N=%zu, a single marker", s.n);
	kallsyms_free_all(t, n);
	buf_free(&b);
	free(s.v);
}

/* ---- negative cases ------------------------------------------------------ */

static int carve_count(const uint8_t *p, size_t n, uint64_t va)
{
	struct kallsyms_table *t = NULL;
	err_clear();
	int got = kallsyms_carve_all((struct span){ p, n }, va, &t);
	kallsyms_free_all(t, got);
	return got;
}

static void expect_none(const uint8_t *p, size_t n, const char *what)
{
	int got = carve_count(p, n, VA0);
	check_that(got == 0 && strncmp(err_get(), "kallsyms: ", 10) == 0, "%s: 0 tables (%s)", what,
	      err_get());
}

static void test_corruptions(void)
{
	const struct era *e = &eras[9];		/* 6.4 layout, encoding C, seqs */
	struct buf b;
	struct gsyms s;
	struct genpos p = build_era(e, 700, &b, &s);
	uint8_t *c = xmalloc(b.len);

	memcpy(c, b.p, b.len);
	c[p.markers + 4] ^= 0x02;
	expect_none(c, b.len, "corrupted marker");

	memcpy(c, b.p, b.len);
	c[p.num_syms] ^= 0x40;
	expect_none(c, b.len, "num_syms off by 64");

	memcpy(c, b.p, b.len);
	{
		uint8_t tmp[3];
		memcpy(tmp, c + p.seqs, 3);
		memcpy(c + p.seqs, c + p.seqs + 3 * 100, 3);
		memcpy(c + p.seqs + 3 * 100, tmp, 3);
	}
	expect_none(c, b.len, "seqs_of_names out of name order");

	memcpy(c, b.p, b.len);
	memset(c + p.seqs + 30, 0, 3);
	expect_none(c, b.len, "seqs_of_names not a permutation");

	memcpy(c, b.p, b.len);
	{
		uint32_t a, z;
		memcpy(&a, c + p.addrs + 4 * 400, 4);
		memcpy(&z, c + p.addrs + 4 * 401, 4);
		memcpy(c + p.addrs + 4 * 400, &z, 4);
		memcpy(c + p.addrs + 4 * 401, &a, 4);
	}
	expect_none(c, b.len, "addresses out of order");

	memcpy(c, b.p, b.len);
	memset(c + p.addrs + 8, 0xff, 8);
	expect_none(c, b.len, "relative offsets garbled");

	/* Entry 3's first token becomes 'f', not an nm type character. */
	memcpy(c, b.p, b.len);
	{
		size_t pos = p.names;
		for (int i = 0; i < 3; i++)
			pos += 1 + c[pos];
		for (int tk = 0; tk < 256; tk++)
			if (c[p.token_table + rd_le16(c + p.token_index + 2 * tk)] == 'f' &&
			    c[p.token_table + rd_le16(c + p.token_index + 2 * tk) + 1] == 0)
				c[pos + 1] = (uint8_t)tk;
	}
	expect_none(c, b.len, "invalid type character");

	memcpy(c, b.p, b.len);
	c[p.token_index + 2 * 0x41] ^= 1;
	expect_none(c, b.len, "token_index disagrees with token_table");

	expect_none(b.p, p.names + (p.markers - p.names) / 2, "truncated inside kallsyms_names");
	expect_none(b.p, p.token_index + 100, "truncated inside kallsyms_token_index");
	expect_none(b.p, p.seqs + 10, "truncated inside kallsyms_seqs_of_names");
	expect_none(b.p + p.names, b.len - p.names, "cut before kallsyms_num_syms");

	free(c);
	buf_free(&b);
	free(s.v);
}

static void test_garbage(void)
{
	size_t n = 4 << 20;
	uint8_t *r = xmalloc(n);
	static const uint8_t digits[20] = { '0', 0, '1', 0, '2', 0, '3', 0, '4', 0,
					    '5', 0, '6', 0, '7', 0, '8', 0, '9', 0 };

	expect_none(NULL, 0, "empty region");
	expect_none(digits, sizeof(digits), "bare digit run");
	fill_random(r, n);
	expect_none(r, n, "4 MiB of random bytes");
	for (size_t at = 1000; at + 64 < n; at += 65537)
		memcpy(r + at, digits, sizeof(digits));
	expect_none(r, n, "random bytes with planted digit runs");
	memset(r, 0, n);
	for (size_t at = 1001; at + 64 < n; at += 65537)
		memcpy(r + at, digits, sizeof(digits));
	expect_none(r, n, "zero bytes with planted digit runs");
	/* A UTF-16 code page: the digit run continues with ":\0;\0". */
	for (size_t i = 0; i < 0x80; i++) {
		r[2 * i] = (uint8_t)i;
		r[2 * i + 1] = 0;
	}
	expect_none(r, 0x100, "UTF-16 code page table");
	/* Back-to-back digit runs: every 20 bytes a landmark hit whose token
	 * parse overlaps the previous one; must stay linear. */
	for (size_t at = 0; at + sizeof(digits) <= n; at += sizeof(digits))
		memcpy(r + at, digits, sizeof(digits));
	double t0 = now();
	expect_none(r, n, "4 MiB of back-to-back digit runs");
	printf("     (%.3f s)\n", now() - t0);
	free(r);
}

/* Random byte mutations of a valid block: 0 or 1 table, never a crash. */
static void test_mutations(void)
{
	struct buf b;
	struct gsyms s;
	int zero = 0, one = 0, other = 0;

	for (size_t era = 0; era < ARRAY_SIZE(eras); era++) {
		build_era(&eras[era], 300, &b, &s);
		uint8_t *c = xmalloc(b.len);
		for (int iter = 0; iter < 40; iter++) {
			memcpy(c, b.p, b.len);
			for (int k = 1 + (int)(rnd() % 8); k > 0; k--)
				c[rnd() % b.len] = (uint8_t)rnd();
			int got = carve_count(c, b.len, VA0);
			got == 0 ? zero++ : got == 1 ? one++ : other++;
		}
		free(c);
		buf_free(&b);
		free(s.v);
	}
	check_that(other == 0, "random mutations of every era: %d rejected, %d still decode, %d odd",
	      zero, one, other);
}

/* Physical-memory-like region: a stale copy with truncated names, random
 * bytes, then the real block; only the real one may come back. */
static void test_stale_copy(void)
{
	const struct era *e = &eras[7];		/* 6.2 layout */
	struct buf b, r = { 0 };
	struct gsyms s;
	struct genpos p = build_era(e, 700, &b, &s);
	struct kallsyms_table *t = NULL;

	put_zero(&r, 12345);
	fill_random(r.p, r.len);
	size_t stale = r.len;
	buf_append(&r, b.p, b.len);
	memset(r.p + stale + p.names + (p.markers - p.names) / 2, 0, 4000);
	put_zero(&r, 7777);
	size_t good = r.len;
	buf_append(&r, b.p, b.len);
	put_zero(&r, 999);

	int n = kallsyms_carve_all((struct span){ r.p, r.len }, 0, &t);
	check_that(n == 1 && t[0].off_token_table == good + p.token_table && same_symbols(&t[0], &s, 0),
	      "stale copy with truncated names rejected, real copy at %#zx found", good);
	kallsyms_free_all(t, n);

	/* Two intact copies: both returned, and kallsyms_carve accepts them as
	 * the same kernel. */
	memcpy(r.p + stale, b.p, b.len);
	n = kallsyms_carve_all((struct span){ r.p, r.len }, 0, &t);
	check_that(n == 2 && t[0].off_token_table < t[1].off_token_table,
	      "two intact copies: both returned in region order");
	kallsyms_free_all(t, n);
	struct kallsyms_table one;
	check_that(kallsyms_carve((struct span){ r.p, r.len }, 0, &one) == 0 && one.n == s.n,
	      "kallsyms_carve: identical copies agree");
	kallsyms_free(&one);

	/* A different kernel in the same region: kallsyms_carve must refuse. */
	struct buf other = { 0 };
	struct gsyms s2 = make_syms(900, true, false, TEXT);
	gen_block(&other, &s2, e->o, VA0);
	buf_append(&r, other.p, other.len);
	check_that(kallsyms_carve((struct span){ r.p, r.len }, 0, &one) == -1 &&
	      strstr(err_get(), "disagree"), "kallsyms_carve: different kernels refused (%s)",
	      err_get());
	buf_free(&other);
	free(s2.v);
	buf_free(&r);
	buf_free(&b);
	free(s.v);
}

/* ---- real kernels -------------------------------------------------------- */

static bool read_xz(const char *path, struct buf *out)
{
	struct mapped_file mf;
	lzma_stream z = LZMA_STREAM_INIT;
	bool ok = false;

	if (map_file(path, &mf))
		return false;
	if (lzma_stream_decoder(&z, UINT64_MAX, 0) == LZMA_OK) {
		z.next_in = mf.data;
		z.avail_in = mf.size;
		for (;;) {
			buf_reserve(out, 1 << 20);
			z.next_out = out->p + out->len;
			z.avail_out = out->cap - out->len;
			lzma_ret rc = lzma_code(&z, LZMA_FINISH);
			out->len = out->cap - z.avail_out;
			if (rc == LZMA_STREAM_END) {
				ok = true;
				break;
			}
			if (rc != LZMA_OK)
				break;
		}
	}
	lzma_end(&z);
	unmap_file(&mf);
	return ok;
}

struct mapsym {
	uint64_t addr;
	char type;
	const char *name;
};

static int cmp_mapsym(const void *a, const void *b)
{
	const struct mapsym *x = a, *y = b;
	int rc = strcmp(x->name, y->name);
	return rc ? rc : (x->addr > y->addr) - (x->addr < y->addr);
}

/* Parse "addr type name" lines in place (the buffer gets NULs). */
static struct mapsym *parse_system_map(struct buf *text, size_t *count)
{
	struct mapsym *v = NULL;
	size_t n = 0, cap = 0;
	char *p = (char *)text->p, *end = p + text->len;

	while (p < end) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			break;
		*nl = 0;
		char *sp;
		uint64_t addr = strtoull(p, &sp, 16);
		if (sp[0] == ' ' && sp[1] && sp[2] == ' ') {
			if (n == cap)
				v = xreallocarray(v, cap = cap ? 2 * cap : 1 << 16, sizeof(*v));
			v[n++] = (struct mapsym){ addr, sp[1], sp + 3 };
		}
		p = nl + 1;
	}
	qsort(v, n, sizeof(*v), cmp_mapsym);
	*count = n;
	return v;
}

/* The file bytes of the PT_LOAD segment holding .rodata, and its address. */
static bool rodata_segment(const struct mapped_file *mf, struct span *r, uint64_t *va)
{
	const uint8_t *d = mf->data;
	Elf64_Ehdr eh;
	uint64_t rodata = 0;

	if (mf->size < sizeof(eh) || memcmp(d, ELFMAG, SELFMAG))
		return false;
	memcpy(&eh, d, sizeof(eh));
	for (unsigned i = 0; i < eh.e_shnum; i++) {
		Elf64_Shdr sh, str;
		if (eh.e_shoff + (i + 1) * sizeof(sh) > mf->size ||
		    eh.e_shoff + (eh.e_shstrndx + 1) * sizeof(str) > mf->size)
			return false;
		memcpy(&sh, d + eh.e_shoff + i * sizeof(sh), sizeof(sh));
		memcpy(&str, d + eh.e_shoff + eh.e_shstrndx * sizeof(str), sizeof(str));
		if (str.sh_offset + sh.sh_name + 8 <= mf->size &&
		    !strcmp((const char *)d + str.sh_offset + sh.sh_name, ".rodata"))
			rodata = sh.sh_addr;
	}
	for (unsigned i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;
		if (eh.e_phoff + (i + 1) * sizeof(ph) > mf->size)
			return false;
		memcpy(&ph, d + eh.e_phoff + i * sizeof(ph), sizeof(ph));
		if (ph.p_type == PT_LOAD && rodata >= ph.p_vaddr && rodata < ph.p_vaddr + ph.p_filesz &&
		    ph.p_offset + ph.p_filesz <= mf->size) {
			*r = (struct span){ d + ph.p_offset, ph.p_filesz };
			*va = ph.p_vaddr;
			return true;
		}
	}
	return false;
}

/* Since ~6.4 the kallsyms_* labels are in the table: they must point at the
 * arrays the carver found. */
static void check_self_labels(const struct kallsyms_table *t, uint64_t va, uint64_t base,
			      const char *tag)
{
	static const char *labels[] = { "kallsyms_num_syms", "kallsyms_names", "kallsyms_markers",
					"kallsyms_token_table", "kallsyms_token_index",
					"kallsyms_offsets", "kallsyms_seqs_of_names",
					"kallsyms_relative_base" };
	size_t offs[] = { t->off_num_syms, t->off_names, t->off_markers, t->off_token_table,
			  t->off_token_index, t->off_addresses, t->off_seqs, t->off_relative_base };
	int seen = 0, good = 0;

	for (size_t i = 0; i < t->n; i++)
		for (size_t l = 0; l < ARRAY_SIZE(labels); l++)
			if (!strcmp(ksym_name(t, &t->syms[i]), labels[l])) {
				seen++;
				good += t->syms[i].addr + base == va + offs[l];
			}
	if (seen)
		check_that(good == seen, "%s: %d/%d kallsyms_* labels in the table point at the carved arrays",
		      tag, good, seen);
}

struct refkernel {
	const char *dir;	/* under $REF */
	const char *cache;	/* extracted vmlinux under $CACHE */
	size_t n;		/* expected kallsyms entries */
	enum ksym_layout layout;
	enum ksym_encoding enc;
};

static const struct refkernel refs[] = {
	{ "debian-6.1.0-56-amd64", "vmlinux-6.1.0-56-amd64", 94266, KSYM_LAYOUT_6_2,
	  KSYM_ENC_ABS_PERCPU },
	{ "debian-7.2.13+deb14-amd64", "vmlinux-7.2.13+deb14-amd64", 199097, KSYM_LAYOUT_7_0,
	  KSYM_ENC_PC_RELATIVE },
};

/* Every decoded entry is in System.map: same name and address, and the same
 * type except per-CPU entries (System.map 'D', kallsyms 'A'). */
static void compare_with_map(const struct kallsyms_table *t, const struct mapsym *map, size_t nmap,
			     const char *tag)
{
	size_t matched = 0, percpu_type = 0, missing = 0;

	for (size_t i = 0; i < t->n; i++) {
		const struct ksym *k = &t->syms[i];
		struct mapsym key = { k->addr, 0, ksym_name(t, k) };
		const struct mapsym *m = bsearch(&key, map, nmap, sizeof(*map), cmp_mapsym);
		if (!m) {
			if (missing++ < 5)
				printf("     not in System.map: %016" PRIx64 " %c %s\n", k->addr,
				       k->type, key.name);
			continue;
		}
		/* Duplicates (same name and address) sit next to each other. */
		while (m > map && !cmp_mapsym(m - 1, &key))
			m--;
		bool typed = false;
		for (; m < map + nmap && !cmp_mapsym(m, &key); m++)
			typed = typed || m->type == k->type;
		if (typed)
			matched++;
		else if (k->absolute && k->type == 'A')
			percpu_type++;
		else if (missing++ < 5)
			printf("     type differs: %016" PRIx64 " %c %s\n", k->addr, k->type, key.name);
	}
	check_that(missing == 0 && matched + percpu_type == t->n,
	      "%s: all %zu entries match System.map (%zu lines): %zu exact, %zu per-CPU 'A'", tag,
	      t->n, nmap, matched, percpu_type);
}

static void test_real_kernel(const char *ref, const char *cache, const struct refkernel *rk)
{
	char vmlinux[4096], map[4096];
	struct mapped_file mf;
	struct span r = { 0 };
	uint64_t va = 0;

	if (snprintf(vmlinux, sizeof(vmlinux), "%s/%s", cache, rk->cache) >= (int)sizeof(vmlinux) ||
	    snprintf(map, sizeof(map), "%s/%s/System.map.xz", ref, rk->dir) >= (int)sizeof(map)) {
		printf("skip %s: path too long\n", rk->dir);
		return;
	}
	if (map_file(vmlinux, &mf)) {
		printf("skip %s: no extracted vmlinux at %s (extract it from %s/%s/vmlinuz)\n",
		       rk->dir, vmlinux, ref, rk->dir);
		return;
	}
	if (!check_that(rodata_segment(&mf, &r, &va), "%s: .rodata segment found in %s", rk->dir, vmlinux)) {
		unmap_file(&mf);
		return;
	}
	struct kallsyms_table *t = NULL;
	double t0 = now();
	int n = kallsyms_carve_all(r, va, &t);
	double secs = now() - t0;
	if (check_that(n == 1, "%s: one table in %zu bytes at %#" PRIx64 " (%.3f s)%s%s", rk->dir, r.n,
		  va, secs, n ? "" : ": ", n ? "" : err_get())) {
		check_that(t->n == rk->n && t->layout == rk->layout && t->enc == rk->enc,
		      "%s: N=%zu (want %zu), layout %d, encoding %c, %zu markers", rk->dir, t->n, rk->n,
		      t->layout, t->enc, t->markers_count);
		struct buf text = { 0 };
		if (read_xz(map, &text)) {
			size_t nmap;
			struct mapsym *m = parse_system_map(&text, &nmap);
			compare_with_map(t, m, nmap, rk->dir);
			free(m);
		} else {
			printf("skip %s: cannot read %s\n", rk->dir, map);
		}
		buf_free(&text);
		check_self_labels(t, va, 0, rk->dir);
	}

	/* Memory-like: the segment at an odd offset between random bytes, after
	 * a stale copy whose names were cut short.  va unknown (0). */
	size_t stale = 3 * 4096 + 1, good = stale + r.n + 123457, size = good + r.n + 65536;
	uint8_t *mem = xmalloc(size);
	fill_random(mem, size);
	memcpy(mem + stale, r.p, r.n);
	if (n == 1)
		memset(mem + stale + t->off_names + (t->off_markers - t->off_names) / 3, 0, 1 << 16);
	memcpy(mem + good, r.p, r.n);
	struct kallsyms_table *u = NULL;
	t0 = now();
	int nu = kallsyms_carve_all((struct span){ mem, size }, 0, &u);
	secs = now() - t0;
	bool same = n == 1 && nu == 1 && u->n == t->n;
	uint64_t shift = rk->enc == KSYM_ENC_PC_RELATIVE ? va - good : 0;
	for (size_t i = 0; same && i < t->n; i++)
		same = u->syms[i].addr == t->syms[i].addr - shift &&
		       !strcmp(ksym_name(u, &u->syms[i]), ksym_name(t, &t->syms[i]));
	check_that(same && u->off_token_table == good + t->off_token_table,
	      "%s: in a %zu MiB memory-like region with a stale copy: only the real one (%.3f s)",
	      rk->dir, size >> 20, secs);
	kallsyms_free_all(u, nu);
	free(mem);
	kallsyms_free_all(t, n);
	unmap_file(&mf);
}

/* More kernels, checked when someone extracted them into $CACHE: no
 * System.map for these, so the tables must point at themselves. */
struct extrakernel {
	const char *cache;
	uint64_t image_va;	/* raw arm64 Image: link address of offset 0; 0 = ELF */
	size_t n;
	enum ksym_layout layout;
	enum ksym_encoding enc;
	bool unrelocated;
};

static const struct extrakernel extras[] = {
	{ "vmlinux-6.12.117+deb12-cloud-amd64", 0, 154686, KSYM_LAYOUT_6_4, KSYM_ENC_ABS_PERCPU,
	  false },
	{ "Image-6.1.0-56-cloud-arm64", 0xffff800008000000ull, 44722, KSYM_LAYOUT_6_2,
	  KSYM_ENC_BASE_RELATIVE, true },
	{ "Image-6.12.117+deb12-cloud-arm64", 0xffff800080000000ull, 115539, KSYM_LAYOUT_6_4,
	  KSYM_ENC_BASE_RELATIVE, true },
};

static void test_extra_kernel(const char *cache, const struct extrakernel *x)
{
	char path[4096];
	struct mapped_file mf;
	struct span r = { 0 };
	uint64_t va = x->image_va;

	if (snprintf(path, sizeof(path), "%s/%s", cache, x->cache) >= (int)sizeof(path) ||
	    map_file(path, &mf)) {
		printf("skip %s: not extracted into %s\n", x->cache, cache);
		return;
	}
	if (x->image_va)
		r = (struct span){ mf.data, mf.size };
	if (!x->image_va && !check_that(rodata_segment(&mf, &r, &va), "%s: .rodata segment", x->cache)) {
		unmap_file(&mf);
		return;
	}
	struct kallsyms_table *t = NULL;
	int n = kallsyms_carve_all(r, va, &t);
	if (check_that(n == 1 && t->n == x->n && t->layout == x->layout && t->enc == x->enc &&
		  t->unrelocated == x->unrelocated,
		  "%s: one table, N=%zu (want %zu), layout %d, encoding %c%s", x->cache,
		  n ? t->n : 0, x->n, n ? (int)t->layout : -1, n ? t->enc : '-',
		  n && t->unrelocated ? ", unrelocated" : "")) {
		/* An unrelocated arm64 table is relative to its first symbol. */
		bool text_first = !strcmp(ksym_name(t, &t->syms[0]), "_text");
		check_self_labels(t, va, t->unrelocated && text_first ? va : 0, x->cache);
	}
	kallsyms_free_all(t, n);
	unmap_file(&mf);
}

static void test_real_kernels(void)
{
	const char *ref = getenv("REF"), *cache = getenv("CACHE"), *top = getenv("TOP");
	char cache_buf[4096];

	if (!ref || !*ref) {
		printf("skip real kernels: $REF not set\n");
		return;
	}
	if (!cache || !*cache) {
		snprintf(cache_buf, sizeof(cache_buf), "%s/.cache", top && *top ? top : ".");
		cache = cache_buf;
	}
	for (size_t i = 0; i < ARRAY_SIZE(refs); i++)
		test_real_kernel(ref, cache, &refs[i]);
	for (size_t i = 0; i < ARRAY_SIZE(extras); i++)
		test_extra_kernel(cache, &extras[i]);
}

int main(void)
{
	test_eras();
	test_pc_relative_without_va();
	test_tiny_table();
	test_corruptions();
	test_garbage();
	test_mutations();
	test_stale_copy();
	test_real_kernels();
	printf("%s\n", check_failures ? "kallsyms: FAILED" : "kallsyms: all checks passed");
	return check_failures ? 1 : 0;
}

/* Binary kallsyms tables: landmark-driven carving and decoding.
 *
 * Pipeline per digit-run hit (see kallsyms.h and the kallsyms notes, 2.2):
 *   1. token_table / token_index from the "0\0".."9\0" run;
 *   2. for each table "shape" (num_syms/marker width, label alignment, whether
 *      seqs_of_names sits before the token table): kallsyms_markers;
 *   3. kallsyms_num_syms + kallsyms_names, checked against every marker;
 *   4. for each layout era of that shape: the address table, decoded with
 *      every applicable encoding, then names, anchors and seqs_of_names.
 * A candidate becomes a table only when every step validates.
 *
 * All positions are offsets into the region; every read goes through
 * span_has().  Label alignment is only ever applied to distances from another
 * label, so a region that starts at any byte offset of the kernel works. */
#include "kallsyms.h"

#include "log.h"
#include "scan.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

/* Upper bound on num_syms.  Real KALLSYMS_ALL kernels hold 80k–250k symbols;
 * the cap bounds every allocation and scan window driven by table contents. */
#define KS_MAX_SYMS (1u << 21)
#define KS_MAX_MARKERS (KS_MAX_SYMS / 256)
/* A 256-entry group of kallsyms_names is at least 256 * 2 bytes (length byte
 * plus one token) and, with KSYM_NAME_LEN 512, below 256 * 514 < 256 KiB. */
#define KS_MIN_GROUP 512u
#define KS_MAX_GROUP 0x40000u
/* KSYM_NAME_LEN (512 since 6.1, 128 before) bounds type char + name. */
#define KS_MAX_EXPANDED 512u
/* Total decoded name bytes; real tables need < 10 MiB. */
#define KS_MAX_POOL (256u << 20)
#define KS_TOKEN_INDEX_SIZE 512u
/* KERNEL_VA_MIN (symbols.h): the lowest kernel virtual address on x86_64 and
 * arm64 (48-bit and LA57 alike). */

const uint8_t kallsyms_landmark[KALLSYMS_LANDMARK_LEN] = {
	'0', 0, '1', 0, '2', 0, '3', 0, '4', 0, '5', 0, '6', 0, '7', 0, '8', 0, '9', 0,
};

/* ---- bounds-checked reads ------------------------------------------------ */

static bool read_word(struct span r, size_t off, unsigned width, uint64_t *v)
{
	if (!span_has(r, off, width))
		return false;
	*v = width == 8 ? rd_le64(r.p + off) : rd_le32(r.p + off);
	return true;
}

static bool read_u32(struct span r, size_t off, uint32_t *v)
{
	if (!span_has(r, off, 4))
		return false;
	*v = rd_le32(r.p + off);
	return true;
}

static bool is_zero(struct span r, size_t off, size_t len)
{
	if (!span_has(r, off, len))
		return false;
	for (size_t i = 0; i < len; i++)
		if (r.p[off + i])
			return false;
	return true;
}

static uint32_t rd_be24(const uint8_t *p)
{
	return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
}

/* Lengths only: labels are aligned, so the distance between two labels is the
 * size of the first array rounded up to the alignment. */
static size_t align_len(size_t len, unsigned algn)
{
	return (len + algn - 1) / algn * algn;
}

/* ---- nearest-miss reporting --------------------------------------------- */

/* How far the best failed candidate got; the deepest one explains a miss. */
enum ks_stage {
	STAGE_NONE,
	STAGE_DIGITS,		/* digit run seen, no token table around it */
	STAGE_TOKENS,		/* token table + index, no markers */
	STAGE_MARKERS,		/* markers, no num_syms/names matching them */
	STAGE_NAMES,		/* names structure valid, addresses rejected */
	STAGE_ADDRS,		/* addresses valid, names/anchors/seqs rejected */
};

struct miss {
	enum ks_stage stage;
	char msg[384];
};

B2I_PRINTF(3, 4)
static void miss_note(struct miss *m, enum ks_stage stage, const char *fmt, ...)
{
	va_list ap;

	if (stage <= m->stage)
		return;
	m->stage = stage;
	va_start(ap, fmt);
	vsnprintf(m->msg, sizeof(m->msg), fmt, ap);
	va_end(ap);
}

/* ---- step 1: token table and token index --------------------------------- */

struct tokens {
	size_t table;		/* kallsyms_token_table */
	size_t index;		/* kallsyms_token_index (256 x u16) */
	size_t end;		/* one past the last token's NUL */
	uint16_t off[256];
	uint8_t len[256];
	bool printable[256];	/* every character in 0x21..0x7e */
};

static bool printable_bytes(const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i] < 0x21 || p[i] > 0x7e)
			return false;
	return true;
}

/* Step over one NUL-terminated token (at most 255 characters). */
static bool next_token(struct span r, size_t pos, size_t *next)
{
	if (pos >= r.n)
		return false;
	size_t avail = r.n - pos < 256 ? r.n - pos : 256;
	const uint8_t *nul = memchr(r.p + pos, 0, avail);
	if (!nul)
		return false;
	*next = (size_t)(nul - r.p) + 1;
	return true;
}

/* Does a token_index at q describe a token table containing the digit run at
 * `hit`?  On success fills *tok from the re-parsed table. */
static bool token_index_at(struct span r, size_t hit, size_t q, struct tokens *tok)
{
	if (!span_has(r, q, KS_TOKEN_INDEX_SIZE) || rd_le16(r.p + q) != 0)
		return false;
	size_t x = rd_le16(r.p + q + 2 * '0');
	if (x < '0' || x > hit)
		return false;
	for (unsigned k = 1; k <= 9; k++)
		if (rd_le16(r.p + q + 2 * ('0' + k)) != x + 2 * k)
			return false;

	size_t table = hit - x, pos = table;
	for (unsigned i = 0; i < 256; i++) {
		size_t next;
		if (pos - table != rd_le16(r.p + q + 2 * i) || !next_token(r, pos, &next))
			return false;
		tok->off[i] = (uint16_t)(pos - table);
		tok->len[i] = (uint8_t)(next - pos - 1);
		tok->printable[i] = printable_bytes(r.p + pos, tok->len[i]);
		pos = next;
	}
	tok->table = table;
	tok->index = q;
	tok->end = pos;
	return true;
}

/* NUL positions after a moving start, each found once.  Hits are visited in
 * increasing order and their token parses overlap (a crafted region of
 * back-to-back digit runs would otherwise cost 198 token steps per hit). */
#define TOKENS_AFTER_9 (256 - ('9' + 1))

struct nul_queue {
	size_t pos[256];	/* ring of queued NUL offsets, ascending */
	size_t head, count;
	size_t scanned;		/* every NUL in [first start, scanned) is queued */
};

/* Tokens are mostly 1-4 characters: a byte loop beats a memchr call for the
 * first few bytes. */
static const uint8_t *find_nul(const uint8_t *p, size_t n)
{
	size_t i = 0;
	for (; i < n && i < 16; i++)
		if (!p[i])
			return p + i;
	return i < n ? memchr(p + i, 0, n - i) : NULL;
}

/* Offset just past the NUL that ends token TOKENS_AFTER_9 counted from
 * `start`, each token at most 255 characters; 0 when there is none. */
static size_t tokens_end(struct span r, struct nul_queue *q, size_t start)
{
	while (q->count && q->pos[q->head] < start) {
		q->head = (q->head + 1) % ARRAY_SIZE(q->pos);
		q->count--;
	}
	if (!q->count && q->scanned < start)
		q->scanned = start;
	while (q->count < TOKENS_AFTER_9) {
		size_t tok = q->count ? q->pos[(q->head + q->count - 1) % ARRAY_SIZE(q->pos)] + 1
				      : start;
		size_t limit = tok + 256 < r.n ? tok + 256 : r.n;
		const uint8_t *nul = q->scanned < limit
					     ? find_nul(r.p + q->scanned, limit - q->scanned)
					     : NULL;
		if (!nul) {
			if (q->scanned < limit)
				q->scanned = limit;
			return 0;
		}
		q->pos[(q->head + q->count++) % ARRAY_SIZE(q->pos)] = (size_t)(nul - r.p);
		q->scanned = (size_t)(nul - r.p) + 1;
	}
	return q->pos[(q->head + TOKENS_AFTER_9 - 1) % ARRAY_SIZE(q->pos)] + 1;
}

/* The tokens after '9' end the table; the index follows after < 256 zero
 * bytes of label padding. */
static bool find_tokens(struct span r, struct nul_queue *nq, size_t hit, struct tokens *tok)
{
	size_t end = tokens_end(r, nq, hit + sizeof(kallsyms_landmark));
	if (!end)
		return false;
	for (size_t q = end; q - end < 256 && q < r.n; q++) {
		if (q > end && r.p[q - 1] != 0)
			break;
		if (token_index_at(r, hit, q, tok) && tok->end == end)
			return true;
	}
	return false;
}

/* ---- table shapes and candidates ----------------------------------------- */

/* What the marker and names steps need to know about a layout family. */
struct shape {
	unsigned width;			/* bytes of num_syms and of each marker */
	unsigned algn;			/* label alignment */
	bool seqs_before_tokens;	/* 6.2/6.3: markers, seqs, token_table */
	unsigned n_layouts;
	enum ksym_layout layouts[2];
};

/* Most common first; the first fully validated hypothesis wins. */
static const struct shape shapes[] = {
	{ 4, 8, false, 2, { KSYM_LAYOUT_6_4, KSYM_LAYOUT_4_20 } },
	{ 4, 4, false, 1, { KSYM_LAYOUT_7_0 } },
	{ 4, 8, true, 1, { KSYM_LAYOUT_6_2 } },
	{ 8, 8, false, 1, { KSYM_LAYOUT_PRE_4_20 } },
	/* arm64 GNU as: ".align 8" is 2^8 bytes (4.x). */
	{ 4, 256, false, 1, { KSYM_LAYOUT_4_20 } },
	{ 8, 256, false, 1, { KSYM_LAYOUT_PRE_4_20 } },
};

const char *kallsyms_layout_name(enum ksym_layout l)
{
	switch (l) {
	case KSYM_LAYOUT_PRE_4_20: return "pre-4.20";
	case KSYM_LAYOUT_4_20: return "4.20-6.1";
	case KSYM_LAYOUT_6_2: return "6.2-6.3";
	case KSYM_LAYOUT_6_4: return "6.4-6.19";
	case KSYM_LAYOUT_7_0: return "7.0+";
	}
	return "?";
}

/* Names decoded once per names candidate and shared by its layout tries. */
struct names {
	bool tried, ok;
	char *types;
	uint32_t *name_off;
	char *pool;
	size_t pool_size, pool_cap;
};

struct cand {
	const struct tokens *tok;
	const struct shape *shape;
	size_t markers;			/* kallsyms_markers */
	uint32_t m;			/* marker count */
	uint32_t n_min, n_max;		/* num_syms range the markers allow */
	size_t seqs;			/* seqs_before_tokens only */
	size_t num_syms, names, names_end;
	uint32_t n;
	struct names dec;
};

/* Where one layout hypothesis puts the address table and friends. */
struct placement {
	enum ksym_layout layout;
	enum ksym_encoding enc;		/* A, D, or B (meaning "B or C") */
	size_t addrs;			/* kallsyms_offsets or kallsyms_addresses */
	bool has_rb;
	size_t rb;
	bool has_seqs;
	size_t seqs;
	size_t end;			/* end of the last array of the block */
};

struct carver {
	struct span r;
	uint64_t va;
	struct miss miss;
	struct kallsyms_table *tables;
	int n_tables;
};

static uint64_t marker_at(struct span r, const struct cand *c, uint32_t k)
{
	uint64_t v = 0;
	read_word(r, c->markers + (size_t)k * c->shape->width, c->shape->width, &v);
	return v;
}

/* ---- step 3: names structure --------------------------------------------- */

/* One kallsyms_names entry at pos (1- or 2-byte length, then tokens) must end
 * at or before limit.  Returns the next entry's position, or 0. */
static size_t entry_end(struct span r, size_t pos, size_t limit)
{
	if (pos >= limit || limit > r.n)
		return 0;
	size_t len = r.p[pos++];
	if (len & 0x80) {
		if (pos >= limit || (r.p[pos] & 0x80))
			return 0;
		len = (len & 0x7f) | (size_t)r.p[pos++] << 7;
	}
	if (len == 0 || len > limit - pos)
		return 0;
	return pos + len;
}

/* names_end may be followed only by zero label padding up to markers. */
static bool names_end_ok(struct span r, const struct cand *c, size_t end)
{
	return end <= c->markers && c->markers - end < c->shape->algn &&
	       is_zero(r, end, c->markers - end);
}

/* Cheap filter: the last marker's group holds exactly the entries num_syms
 * leaves for it and ends at the markers. */
static bool last_group_fits(struct span r, const struct cand *c)
{
	size_t pos = c->names + (size_t)marker_at(r, c, c->m - 1);
	uint32_t count = c->n - 256 * (c->m - 1);
	for (uint32_t i = 0; i < count; i++)
		if (!(pos = entry_end(r, pos, c->markers)))
			return false;
	return names_end_ok(r, c, pos);
}

/* Full walk: every marker must equal its entry's offset from names. */
static bool names_walk(struct span r, struct cand *c)
{
	size_t pos = c->names;
	for (uint32_t i = 0; i < c->n; i++) {
		if (!(i & 0xff) && marker_at(r, c, i >> 8) != pos - c->names)
			return false;
		if (!(pos = entry_end(r, pos, c->markers)))
			return false;
	}
	if (!names_end_ok(r, c, pos))
		return false;
	c->names_end = pos;
	return true;
}

/* ---- names decoding ------------------------------------------------------ */

static bool valid_type_char(char t)
{
	switch (t) {
	case 'A': case 'a': case 'B': case 'b': case 'C': case 'c': case 'D': case 'd':
	case 'G': case 'g': case 'I': case 'i': case 'N': case 'n': case 'P': case 'p':
	case 'R': case 'r': case 'S': case 's': case 'T': case 't': case 'U': case 'u':
	case 'V': case 'v': case 'W': case 'w': case '?': case '-':
		return true;
	default:
		return false;
	}
}

/* Tokens padded to 16 bytes: most expand with one fixed-size copy, which is
 * what makes decoding ~200k names cheap. */
#define TOKEN_PAD 16

struct token_copies {
	uint8_t pad[256][TOKEN_PAD];
};

static void token_copies_init(struct span r, const struct tokens *tok, struct token_copies *tc)
{
	memset(tc, 0, sizeof(*tc));
	for (int b = 0; b < 256; b++)
		memcpy(tc->pad[b], r.p + tok->table + tok->off[b], tok->len[b] < TOKEN_PAD ? tok->len[b] : TOKEN_PAD);
}

/* Expand one entry's tokens to out (room for KS_MAX_EXPANDED + TOKEN_PAD
 * bytes); returns the expanded length, or 0 when it would exceed
 * KSYM_NAME_LEN or contain a non-printable character. */
static size_t expand_entry(struct span r, const struct tokens *tok, const struct token_copies *tc,
			   size_t pos, size_t len, char *out)
{
	size_t n = 0;
	for (size_t k = 0; k < len; k++) {
		uint8_t b = r.p[pos + k];
		size_t tl = tok->len[b];
		if (tl > KS_MAX_EXPANDED - n || !tok->printable[b])
			return 0;
		if (tl <= TOKEN_PAD)
			memcpy(out + n, tc->pad[b], TOKEN_PAD);
		else
			memcpy(out + n, r.p + tok->table + tok->off[b], tl);
		n += tl;
	}
	return n;
}

static void names_free(struct names *d)
{
	free(d->types);
	free(d->name_off);
	free(d->pool);
	memset(d, 0, sizeof(*d));
}

/* Entries [from, to) of a validated names array, starting at pos, decoded
 * into a pool of their own: the halves of the array decode on two cores. */
struct names_part {
	struct span r;
	const struct cand *c;
	const struct token_copies *tc;
	uint32_t from, to;
	size_t pos;
	char *types;		/* the whole array's, filled in [from, to) */
	uint32_t *name_off;	/* likewise, offsets into this part's pool */
	struct buf pool;
	uint32_t bad;		/* the first entry that did not decode, or to */
	bool too_big;		/* the pool passed KS_MAX_POOL there */
};

static void decode_part(void *arg)
{
	struct names_part *np = arg;
	struct span r = np->r;
	const struct cand *c = np->c;
	size_t pos = np->pos;

	np->bad = np->to;
	for (uint32_t i = np->from; i < np->to; i++) {
		size_t next = entry_end(r, pos, c->markers);	/* validated already */
		size_t hdr = r.p[pos] & 0x80 ? 2 : 1;
		buf_reserve(&np->pool, KS_MAX_EXPANDED + TOKEN_PAD);
		char *out = (char *)np->pool.p + np->pool.len;
		size_t len = expand_entry(r, c->tok, np->tc, pos + hdr, next - pos - hdr, out);
		if (len < 2 || !valid_type_char(out[0])) {
			np->bad = i;
			return;
		}
		if (np->pool.len + len > KS_MAX_POOL) {
			np->bad = i;
			np->too_big = true;
			return;
		}
		/* The type char stays in the pool, just before the name. */
		np->types[i] = out[0];
		np->name_off[i] = (uint32_t)np->pool.len + 1;
		out[len] = 0;
		np->pool.len += len + 1;
		pos = next;
	}
}

/* Decode names (after names_walk validated the structure): type char first,
 * then a printable name.  Fills c->dec; false with a miss note on bad data. */
static bool decode_names(struct carver *k, struct cand *c)
{
	struct names *d = &c->dec;
	struct token_copies tc;
	struct names_part part[2];
	struct thread_job second;

	if (d->tried)
		return d->ok;
	d->tried = true;
	d->types = xmalloc(c->n);
	d->name_off = xmalloc((size_t)c->n * sizeof(*d->name_off));
	token_copies_init(k->r, c->tok, &tc);
	/* Split at a marker: names_walk checked that it gives the entry's position. */
	uint32_t half_marker = c->m / 2;
	for (int h = 0; h < 2; h++)
		part[h] = (struct names_part){ .r = k->r, .c = c, .tc = &tc, .types = d->types,
					       .name_off = d->name_off };
	part[0].to = part[1].from = 256 * half_marker;
	part[0].pos = c->names;
	part[1].pos = c->names + (size_t)marker_at(k->r, c, half_marker);
	part[1].to = c->n;
	thread_job_start(&second, decode_part, &part[1]);
	decode_part(&part[0]);
	thread_job_join(&second);

	struct names_part *bad = part[0].bad < part[0].to ? &part[0] : part[1].bad < part[1].to ? &part[1] : NULL;
	if (!bad && part[0].pool.len + part[1].pool.len > KS_MAX_POOL)
		bad = &part[1];
	if (bad) {
		if (bad->too_big || bad->bad == bad->to)
			miss_note(&k->miss, STAGE_ADDRS,
				  "kallsyms_names at %#zx: names expand to more than %u MiB",
				  c->names, KS_MAX_POOL >> 20);
		else
			miss_note(&k->miss, STAGE_ADDRS,
				  "kallsyms_names at %#zx: entry %u does not decode to a type "
				  "char and printable name", c->names, bad->bad);
		buf_free(&part[0].pool);
		buf_free(&part[1].pool);
		return false;
	}
	/* One pool: the second part's after the first's. */
	for (uint32_t i = part[1].from; i < part[1].to; i++)
		d->name_off[i] += (uint32_t)part[0].pool.len;
	buf_reserve(&part[0].pool, part[1].pool.len + KALLSYMS_NAMES_ROOM);
	buf_append(&part[0].pool, part[1].pool.p, part[1].pool.len);
	buf_free(&part[1].pool);
	d->pool = (char *)part[0].pool.p;
	d->pool_size = part[0].pool.len;
	d->pool_cap = part[0].pool.cap;
	d->ok = true;
	return true;
}

/* ---- step 4: address tables ---------------------------------------------- */

/* Place the arrays of `layout` with address format `enc` around the
 * validated names; false when the bytes cannot hold them. */
static bool place(struct span r, const struct cand *c, enum ksym_layout layout,
		  enum ksym_encoding enc, struct placement *pl)
{
	unsigned algn = c->shape->algn;
	size_t n = c->n, esz = enc == KSYM_ENC_ABSOLUTE ? 8 : 4;
	size_t tab = align_len(n * esz, algn);

	memset(pl, 0, sizeof(*pl));
	pl->layout = layout;
	pl->enc = enc;
	pl->end = c->tok->index + KS_TOKEN_INDEX_SIZE;
	switch (layout) {
	case KSYM_LAYOUT_PRE_4_20:
	case KSYM_LAYOUT_4_20:
	case KSYM_LAYOUT_6_2: {
		/* addresses | offsets, relative_base → num_syms */
		size_t rbsz = enc == KSYM_ENC_ABSOLUTE ? 0 : align_len(8, algn);
		if (c->num_syms < rbsz + tab)
			return false;
		pl->addrs = c->num_syms - rbsz - tab;
		if (rbsz) {
			pl->has_rb = true;
			pl->rb = c->num_syms - rbsz;
			if (!is_zero(r, pl->rb + 8, rbsz - 8))
				return false;
		}
		if (!is_zero(r, pl->addrs + n * esz, tab - n * esz))
			return false;
		if (layout == KSYM_LAYOUT_6_2) {
			pl->has_seqs = true;
			pl->seqs = c->seqs;
		}
		return true;
	}
	case KSYM_LAYOUT_6_4:
	case KSYM_LAYOUT_7_0:
		/* token_index → offsets | addresses [→ relative_base] → seqs */
		pl->addrs = pl->end;
		pl->seqs = pl->addrs + tab;
		if (enc == KSYM_ENC_BASE_RELATIVE) {
			pl->has_rb = true;
			pl->rb = pl->seqs;
			pl->seqs += align_len(8, algn);
			if (!is_zero(r, pl->addrs + 4 * n, tab - 4 * n))
				return false;
		}
		pl->has_seqs = true;
		pl->end = pl->seqs + 3 * n;
		return span_has(r, pl->addrs, pl->end - pl->addrs);
	}
	return false;
}

/* Decode addresses with `enc`; false (and *bad = first decreasing index)
 * unless they are non-decreasing. */
static bool decode_addrs(const struct carver *k, const struct placement *pl,
			 enum ksym_encoding enc, uint64_t rb, struct ksym *syms, uint32_t n,
			 uint32_t *bad)
{
	const uint8_t *a = k->r.p + pl->addrs;
	int64_t prev_rel = INT64_MIN;

	for (uint32_t i = 0; i < n; i++) {
		struct ksym *s = &syms[i];
		int32_t off = enc == KSYM_ENC_ABSOLUTE ? 0 : (int32_t)rd_le32(a + 4 * (size_t)i);
		s->absolute = false;
		switch (enc) {
		case KSYM_ENC_ABSOLUTE:
			s->addr = rd_le64(a + 8 * (size_t)i);
			break;
		case KSYM_ENC_BASE_RELATIVE:
			s->addr = rb + (uint32_t)off;
			break;
		case KSYM_ENC_ABS_PERCPU:
			s->absolute = off >= 0;
			s->addr = off >= 0 ? (uint64_t)off : rb - 1 - (uint64_t)(int64_t)off;
			break;
		case KSYM_ENC_PC_RELATIVE: {
			/* Order by position + offset: with va 0 the sum may wrap. */
			int64_t rel = (int64_t)(pl->addrs + 4 * (size_t)i) + off;
			s->addr = k->va + (uint64_t)rel;
			if (rel < prev_rel) {
				*bad = i;
				return false;
			}
			prev_rel = rel;
			continue;
		}
		}
		if (i && s->addr < syms[i - 1].addr) {
			*bad = i;
			return false;
		}
	}
	return true;
}

/* B stores the first symbol's address as relative_base, so off[0] == 0.
 * With the base itself stored as 0 (arm64 file, relocations not applied),
 * the addresses are offsets from _text that the caller rebases. */
static bool unrelocated_base(const struct placement *pl, enum ksym_encoding enc, uint64_t rb,
			     const struct ksym *syms)
{
	return pl->has_rb && enc == KSYM_ENC_BASE_RELATIVE && rb == 0 && syms[0].addr == 0;
}

/* _text/_stext must exist and look like the kernel image: a kernel VA, or
 * (encoding D) a place before the offsets table, or (unrelocated B) an
 * offset from the base. */
static bool anchors_ok(const struct carver *k, const struct cand *c, const struct placement *pl,
		       const struct ksym *syms, enum ksym_encoding enc, bool unrelocated)
{
	bool found = false;

	for (uint32_t i = 0; i < c->n; i++) {
		const char *name = c->dec.pool + c->dec.name_off[i];
		if (name[0] != '_' || (strcmp(name, "_text") && strcmp(name, "_stext")))
			continue;
		found = true;
		if (syms[i].absolute)
			return false;
		if (enc == KSYM_ENC_PC_RELATIVE) {
			/* va_of_start may be 0 or a physical address: only the
			 * sign of the offset says something. */
			if ((int32_t)rd_le32(k->r.p + pl->addrs + 4 * (size_t)i) >= 0)
				return false;
		} else if (!unrelocated && syms[i].addr < KERNEL_VA_MIN) {
			return false;
		}
	}
	return found;
}

/* Name order used by seqs_of_names: 6.1-era LTO kernels compare with the
 * ".llvm.<hash>" suffix stripped, later ones compare the whole name. */
static int cmp_llvm_stripped(const char *a, const char *b)
{
	const char *ea = strstr(a, ".llvm."), *eb = strstr(b, ".llvm.");
	size_t la = ea ? (size_t)(ea - a) : strlen(a), lb = eb ? (size_t)(eb - b) : strlen(b);
	int rc = memcmp(a, b, la < lb ? la : lb);
	return rc ? rc : (la > lb) - (la < lb);
}

static bool seqs_permutation(struct span r, size_t seqs, uint32_t n)
{
	uint8_t *seen = xcalloc(n, 1);
	bool ok = true;

	for (uint32_t j = 0; j < n && ok; j++) {
		uint32_t v = rd_be24(r.p + seqs + 3 * (size_t)j);
		ok = v < n && !seen[v];
		if (ok)
			seen[v] = 1;
	}
	free(seen);
	return ok;
}

static bool seqs_sorted(struct span r, const struct cand *c, size_t seqs,
			int (*cmp)(const char *, const char *))
{
	const char *prev = NULL;

	for (uint32_t j = 0; j < c->n; j++) {
		if (j + NAME_PREFETCH < c->n) {
			uint32_t ahead = rd_be24(r.p + seqs + 3 * (size_t)(j + NAME_PREFETCH));
			__builtin_prefetch(c->dec.pool + c->dec.name_off[ahead]);
		}
		uint32_t v = rd_be24(r.p + seqs + 3 * (size_t)j);
		const char *name = c->dec.pool + c->dec.name_off[v];
		if (prev && cmp(prev, name) > 0)
			return false;
		prev = name;
	}
	return true;
}

/* seqs_of_names must be a permutation of [0, n) listing names in order: by
 * strcmp, or (clang LTO kernels) with ".llvm.N" suffixes ignored.  In the
 * first case *by_name gets the order, which spares the caller a sort. */
static bool seqs_ok(struct span r, const struct cand *c, size_t seqs, uint32_t **by_name)
{
	*by_name = NULL;
	if (!seqs_permutation(r, seqs, c->n))
		return false;
	if (!seqs_sorted(r, c, seqs, strcmp))
		return seqs_sorted(r, c, seqs, cmp_llvm_stripped);
	*by_name = xreallocarray(NULL, c->n, sizeof(**by_name));
	for (uint32_t j = 0; j < c->n; j++)
		(*by_name)[j] = rd_be24(r.p + seqs + 3 * (size_t)j);
	return true;
}

static void table_fill(struct cand *c, const struct placement *pl, enum ksym_encoding enc,
		       uint64_t rb, struct ksym *syms, struct kallsyms_table *t)
{
	memset(t, 0, sizeof(*t));
	for (uint32_t i = 0; i < c->n; i++) {
		syms[i].name = c->dec.name_off[i];
		syms[i].type = c->dec.types[i];
	}
	t->n = c->n;
	t->syms = syms;
	t->names = c->dec.pool;
	t->names_size = c->dec.pool_size;
	t->names_cap = c->dec.pool_cap;
	c->dec.pool = NULL;
	t->enc = enc;
	t->layout = pl->layout;
	t->relative_base = pl->has_rb ? rb : 0;
	t->has_relative_base = pl->has_rb;
	t->off_relative_base = pl->has_rb ? pl->rb : 0;
	t->off_num_syms = c->num_syms;
	t->off_names = c->names;
	t->off_markers = c->markers;
	t->off_token_table = c->tok->table;
	t->off_token_index = c->tok->index;
	t->off_addresses = pl->addrs;
	t->has_seqs = pl->has_seqs;
	t->off_seqs = pl->has_seqs ? pl->seqs : 0;
	t->off_block_start = c->num_syms < pl->addrs ? c->num_syms : pl->addrs;
	t->off_block_end = pl->end;
	t->markers_count = c->m;
}

static const enum ksym_encoding bc_encodings[] = { KSYM_ENC_BASE_RELATIVE, KSYM_ENC_ABS_PERCPU };

/* Decode and validate one placement; on success appends a table. */
static bool try_placement(struct carver *k, struct cand *c, const struct placement *pl)
{
	const enum ksym_encoding *encs = &pl->enc;
	size_t n_encs = 1;
	uint64_t rb = 0;
	uint32_t bad = 0;

	if (pl->has_rb) {
		rb = rd_le64(k->r.p + pl->rb);
		encs = bc_encodings;
		n_encs = ARRAY_SIZE(bc_encodings);
	}
	struct ksym *syms = xmalloc((size_t)c->n * sizeof(*syms));
	for (size_t e = 0; e < n_encs; e++) {
		if (!decode_addrs(k, pl, encs[e], rb, syms, c->n, &bad)) {
			miss_note(&k->miss, STAGE_NAMES,
				  "kallsyms_names at %#zx (N=%u): no address table gives "
				  "non-decreasing addresses (%s layout, encoding %c: entry %u "
				  "decreases)",
				  c->names, c->n, kallsyms_layout_name(pl->layout), encs[e], bad);
			continue;
		}
		if (!decode_names(k, c))
			break;
		bool unrelocated = unrelocated_base(pl, encs[e], rb, syms);
		if (!anchors_ok(k, c, pl, syms, encs[e], unrelocated)) {
			miss_note(&k->miss, STAGE_ADDRS,
				  "kallsyms_names at %#zx (N=%u): _text/_stext missing or not "
				  "a kernel address (%s layout, encoding %c)",
				  c->names, c->n, kallsyms_layout_name(pl->layout), encs[e]);
			continue;
		}
		uint32_t *by_name = NULL;
		if (pl->has_seqs && !seqs_ok(k->r, c, pl->seqs, &by_name)) {
			miss_note(&k->miss, STAGE_ADDRS,
				  "kallsyms_names at %#zx (N=%u): kallsyms_seqs_of_names at %#zx "
				  "is not a sorted permutation (%s layout)",
				  c->names, c->n, pl->seqs, kallsyms_layout_name(pl->layout));
			continue;
		}
		k->tables = xreallocarray(k->tables, (size_t)k->n_tables + 1, sizeof(*k->tables));
		table_fill(c, pl, encs[e], rb, syms, &k->tables[k->n_tables]);
		k->tables[k->n_tables].by_name = by_name;
		k->tables[k->n_tables++].unrelocated = unrelocated;
		pr_debug("kallsyms: table at %#zx: N=%u, %s layout, encoding %c\n",
			 c->tok->table, c->n, kallsyms_layout_name(pl->layout), encs[e]);
		return true;
	}
	free(syms);
	return false;
}

static bool try_layouts(struct carver *k, struct cand *c)
{
	/* Address table formats per era: relative ones (B or C) are the norm
	 * before 7.0, absolute kallsyms_addresses (A) exist only up to 6.10. */
	static const enum ksym_encoding before_7_0[] = {
		KSYM_ENC_BASE_RELATIVE, KSYM_ENC_ABSOLUTE,
	};
	static const enum ksym_encoding since_7_0[] = { KSYM_ENC_PC_RELATIVE };
	const struct shape *sh = c->shape;

	for (unsigned l = 0; l < sh->n_layouts; l++) {
		enum ksym_layout layout = sh->layouts[l];
		bool pc = layout == KSYM_LAYOUT_7_0;
		const enum ksym_encoding *encs = pc ? since_7_0 : before_7_0;
		size_t n_encs = pc ? ARRAY_SIZE(since_7_0) : ARRAY_SIZE(before_7_0);
		for (size_t e = 0; e < n_encs; e++) {
			struct placement pl;
			if (place(k->r, c, layout, encs[e], &pl) && try_placement(k, c, &pl))
				return true;
		}
	}
	miss_note(&k->miss, STAGE_NAMES,
		  "kallsyms_names at %#zx (N=%u): no address table layout fits around it",
		  c->names, c->n);
	return false;
}

/* Try every names start the markers allow: num_syms sits one label before
 * it, and the last group must end at the markers. */
static bool try_names(struct carver *k, struct cand *c)
{
	const struct shape *sh = c->shape;
	size_t hdr = align_len(sh->width, sh->algn);
	uint64_t last = marker_at(k->r, c, c->m - 1);
	/* The last group holds at most n_max - 256 (m - 1) entries. */
	size_t group_max = (size_t)(c->n_max - 256 * (c->m - 1)) * (2 + 0x3fff);
	if (group_max > KS_MAX_GROUP)
		group_max = KS_MAX_GROUP;

	for (size_t back = align_len(last + 2, sh->algn);
	     back <= last + group_max + sh->algn && back + hdr <= c->markers;
	     back += sh->algn) {
		uint64_t n;
		c->names = c->markers - back;
		c->num_syms = c->names - hdr;
		if (!read_word(k->r, c->num_syms, sh->width, &n) || n < c->n_min || n > c->n_max ||
		    !is_zero(k->r, c->num_syms + sh->width, hdr - sh->width))
			continue;
		c->n = (uint32_t)n;
		if (!last_group_fits(k->r, c))
			continue;
		if (!names_walk(k->r, c)) {
			miss_note(&k->miss, STAGE_MARKERS,
				  "kallsyms_names at %#zx (N=%u): entries disagree with "
				  "kallsyms_markers at %#zx", c->names, c->n, c->markers);
			continue;
		}
		bool ok = try_layouts(k, c);
		names_free(&c->dec);
		if (ok)
			return true;
	}
	miss_note(&k->miss, STAGE_MARKERS,
		  "token table at %#zx, %u markers at %#zx: no kallsyms_num_syms/names block "
		  "ends there", c->tok->table, c->m, c->markers);
	return false;
}

/* ---- step 2: markers ----------------------------------------------------- */

/* Walk a markers array backwards from `end` (exclusive): each entry exceeds
 * the one before by one group size and the first is 0.  Returns the count,
 * or 0 when no such array ends there. */
static uint32_t markers_walk_back(struct span r, size_t end, unsigned width)
{
	uint64_t v, prev;
	uint32_t m = 1;

	if (end < width || !read_word(r, end - width, width, &v))
		return 0;
	for (size_t pos = end - width; v != 0; pos -= width, v = prev, m++) {
		if (pos < width || m >= KS_MAX_MARKERS || !read_word(r, pos - width, width, &prev))
			return 0;
		if (prev >= v || v - prev < KS_MIN_GROUP || v - prev > KS_MAX_GROUP)
			return 0;
	}
	return m;
}

static bool try_markers_ending(struct carver *k, struct cand *c, size_t end)
{
	unsigned w = c->shape->width;
	uint32_t m = markers_walk_back(k->r, end, w);

	if (!m)
		return false;
	c->m = m;
	c->markers = end - (size_t)m * w;
	return true;
}

/* Layouts where the token table directly follows the markers (after label
 * padding). */
static bool try_markers_before_tokens(struct carver *k, const struct tokens *tok,
				      const struct shape *sh)
{
	struct cand c = { .tok = tok, .shape = sh };

	for (size_t pad = 0; pad < sh->algn && pad + sh->width <= tok->table; pad += sh->width) {
		if (pad && !is_zero(k->r, tok->table - pad, sh->width))
			break;
		if (!try_markers_ending(k, &c, tok->table - pad) ||
		    (tok->table - c.markers) % sh->algn)
			continue;
		c.n_min = 256 * (c.m - 1) + 1;
		c.n_max = 256 * c.m;
		if (try_names(k, &c))
			return true;
	}
	return false;
}

/* 6.2/6.3: seqs_of_names (3N bytes) sits between markers and token table, so
 * its start S fixes N, which fixes the marker count and position. */
static bool try_seqs_start(struct carver *k, struct cand *c, size_t seqs, uint32_t n)
{
	struct span r = k->r;
	const struct shape *sh = c->shape;
	uint32_t m = (n + 255) / 256, first;
	size_t msz = align_len(4 * (size_t)m, sh->algn);

	if (msz > seqs)
		return false;
	size_t p = seqs - msz;
	/* Cheap rejections first: markers[0] == 0, one group per delta. */
	if (!read_u32(r, p, &first) || first != 0)
		return false;
	if (m > 1) {
		uint32_t a, b;
		if (!read_u32(r, p + 4, &a) || a < KS_MIN_GROUP || a > KS_MAX_GROUP ||
		    !read_u32(r, p + 4 * ((size_t)m - 1), &b) || b <= a)
			return false;
	}
	if (rd_be24(r.p + seqs) >= n || !is_zero(r, p + 4 * (size_t)m, msz - 4 * (size_t)m) ||
	    !try_markers_ending(k, c, p + 4 * (size_t)m) || c->m != m)
		return false;
	c->n_min = c->n_max = n;
	c->seqs = seqs;
	return try_names(k, c);
}

/* How many 3-byte entries before `end` could belong to seqs_of_names:
 * values below KS_MAX_SYMS and no two neighbours equal (it is a
 * permutation).  Bounds the scan to the plausible run, so zero pages or
 * random bytes before a token table cost almost nothing. */
static uint32_t seqs_run_back(struct span r, size_t end)
{
	uint32_t count = 0, after = UINT32_MAX;

	while (count < KS_MAX_SYMS && end >= 3 * ((size_t)count + 1)) {
		uint32_t v = rd_be24(r.p + end - 3 * ((size_t)count + 1));
		if (v >= KS_MAX_SYMS || v == after)
			break;
		after = v;
		count++;
	}
	return count;
}

static bool try_markers_with_seqs(struct carver *k, const struct tokens *tok,
				  const struct shape *sh)
{
	struct cand c = { .tok = tok, .shape = sh };

	/* seqs ends where the token table's zero label padding starts */
	for (size_t pad = 0; pad < sh->algn && pad < tok->table; pad++) {
		if (pad && k->r.p[tok->table - pad] != 0)
			break;
		size_t end = tok->table - pad;
		uint32_t run = seqs_run_back(k->r, end);
		for (uint32_t n = 1; n <= run; n++) {
			size_t seqs = end - 3 * (size_t)n;
			if ((tok->table - seqs) % sh->algn == 0 && try_seqs_start(k, &c, seqs, n))
				return true;
		}
	}
	return false;
}

/* ---- driver -------------------------------------------------------------- */

static bool try_tokens(struct carver *k, const struct tokens *tok)
{
	for (size_t i = 0; i < ARRAY_SIZE(shapes); i++) {
		const struct shape *sh = &shapes[i];
		if ((tok->index - tok->table) % sh->algn || tok->index - tok->end >= sh->algn)
			continue;
		bool ok = sh->seqs_before_tokens ? try_markers_with_seqs(k, tok, sh)
						 : try_markers_before_tokens(k, tok, sh);
		if (ok)
			return true;
	}
	miss_note(&k->miss, STAGE_TOKENS,
		  "token table at %#zx (index at %#zx): no kallsyms_markers array before it",
		  tok->table, tok->index);
	return false;
}

static int cmp_table_pos(const void *a, const void *b)
{
	const struct kallsyms_table *x = a, *y = b;
	size_t p = x->off_token_table, q = y->off_token_table;
	return (p > q) - (p < q);
}

int kallsyms_carve_at(struct span r, uint64_t va_of_start, const size_t *landmarks, size_t nlandmarks,
		      struct kallsyms_table **out)
{
	struct carver k = { .r = r, .va = va_of_start };
	struct nul_queue nq = { .scanned = 0 };
	size_t pos = 0;

	*out = NULL;
	for (size_t i = 0; r.p && i < nlandmarks; i++) {
		size_t hit = landmarks[i];
		struct tokens tok;
		if (hit < pos || hit >= r.n)
			continue;	/* inside a table already decoded */
		pos = hit + 1;
		if (!find_tokens(r, &nq, hit, &tok)) {
			miss_note(&k.miss, STAGE_DIGITS,
				  "digit run at %#zx is not part of a kallsyms token table", hit);
			continue;
		}
		pr_debug("kallsyms: token table at %#zx, index at %#zx\n", tok.table, tok.index);
		if (try_tokens(&k, &tok))
			pos = tok.index + KS_TOKEN_INDEX_SIZE;
	}
	if (!k.n_tables) {
		if (k.miss.stage == STAGE_NONE)
			err_set("kallsyms: no token table landmark (digit run "
				"\"0\\0\"..\"9\\0\") in %zu bytes", r.n);
		else
			err_set("kallsyms: %s", k.miss.msg);
		return 0;
	}
	qsort(k.tables, (size_t)k.n_tables, sizeof(*k.tables), cmp_table_pos);
	*out = k.tables;
	return k.n_tables;
}

int kallsyms_carve_all(struct span r, uint64_t va_of_start, struct kallsyms_table **out)
{
	const struct span landmark = { kallsyms_landmark, sizeof(kallsyms_landmark) };
	size_t *hits = NULL, n = 0, cap = 0;

	for (size_t pos = 0; r.p && pos < r.n;) {
		const uint8_t *h = scan_find((struct span){ r.p + pos, r.n - pos }, landmark);
		if (!h)
			break;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			hits = xreallocarray(hits, cap, sizeof(*hits));
		}
		hits[n++] = (size_t)(h - r.p);
		pos = hits[n - 1] + 1;
	}
	int found = kallsyms_carve_at(r, va_of_start, hits, n, out);
	free(hits);
	return found;
}

/* ---- single-table convenience -------------------------------------------- */

/* Same kernel: same names and types, and the same addresses (encoding D: the
 * same distances from the first symbol, as they move with the table). */
static bool tables_agree(const struct kallsyms_table *a, const struct kallsyms_table *b)
{
	if (a->n != b->n || a->enc != b->enc)
		return false;
	bool rel = a->enc == KSYM_ENC_PC_RELATIVE;
	for (size_t i = 0; i < a->n; i++) {
		const struct ksym *x = &a->syms[i], *y = &b->syms[i];
		uint64_t ax = rel ? x->addr - a->syms[0].addr : x->addr;
		uint64_t by = rel ? y->addr - b->syms[0].addr : y->addr;
		if (ax != by || x->type != y->type || strcmp(ksym_name(a, x), ksym_name(b, y)))
			return false;
	}
	return true;
}

int kallsyms_carve(struct span r, uint64_t va_of_start, struct kallsyms_table *out)
{
	struct kallsyms_table *all;
	int n = kallsyms_carve_all(r, va_of_start, &all);

	memset(out, 0, sizeof(*out));
	if (n == 0)
		return -1;
	for (int i = 1; i < n; i++) {
		if (!tables_agree(&all[0], &all[i])) {
			err_set("kallsyms: %d tables found that disagree (token tables at %#zx "
				"and %#zx)", n, all[0].off_token_table, all[i].off_token_table);
			kallsyms_free_all(all, n);
			return -1;
		}
	}
	*out = all[0];
	memset(&all[0], 0, sizeof(all[0]));
	kallsyms_free_all(all, n);
	return 0;
}

void kallsyms_free(struct kallsyms_table *t)
{
	if (!t)
		return;
	free(t->syms);
	free(t->names);
	free(t->by_name);
	memset(t, 0, sizeof(*t));
}

void kallsyms_free_all(struct kallsyms_table *tables, int n)
{
	if (!tables)
		return;
	for (int i = 0; i < n; i++)
		kallsyms_free(&tables[i]);
	free(tables);
}

size_t kallsyms_table_symbols(const struct kallsyms_table *t, uint64_t va_of_start,
			      struct symbol_def out[KALLSYMS_TABLE_SYMBOLS])
{
	size_t n = 0;
	/* Type D, as System.map lists them. */
#define TABLE(name, off) (out[n++] = (struct symbol_def){ name, va_of_start + (off), 'D', false })
	TABLE(t->enc == KSYM_ENC_ABSOLUTE ? "kallsyms_addresses" : "kallsyms_offsets", t->off_addresses);
	if (t->has_relative_base)
		TABLE("kallsyms_relative_base", t->off_relative_base);
	TABLE("kallsyms_num_syms", t->off_num_syms);
	TABLE("kallsyms_names", t->off_names);
	TABLE("kallsyms_markers", t->off_markers);
	TABLE("kallsyms_token_table", t->off_token_table);
	TABLE("kallsyms_token_index", t->off_token_index);
	if (t->has_seqs)
		TABLE("kallsyms_seqs_of_names", t->off_seqs);
#undef TABLE
	return n;
}

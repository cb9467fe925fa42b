#include "profile_read.h"

#include "log.h"

#include <bzlib.h>
#include <json-c/json.h>
#include <limits.h>
#include <lzma.h>
#include <stdio.h>
#include <stdlib.h>
#include <zlib.h>

#define MAX_JSON_BYTES ((size_t)1 << 30)	/* decompressed profile cap */
#define MAX_NESTING 512				/* structural pass */
#define JSONC_DEPTH 64				/* one entry parsed by json-c */
#define MAX_ANON_DEPTH 8			/* anonymous members inside anonymous members */
#define MAX_TYPE_DEPTH 16			/* arrays of arrays of ... */
#define MAX_BANNER 4096

/* ---- index: name -> byte range of its value, parsed on demand ---------- */

struct entry {
	const char *key;
	size_t klen;
	const char *val;
	size_t vlen;
	json_object *obj;	/* parsed value (owned), NULL until asked for */
};

struct index {
	struct entry *e;
	size_t n, cap;
	uint32_t *slot;		/* entry index + 1; 0 = empty */
	size_t nslots;		/* power of two */
};

struct isf {
	char path[256];
	struct mapped_file mf;
	struct buf dec;		/* decompressed text, when compressed */
	const char *text;
	size_t n;
	struct index base, user, enums, syms;
	bool has_user, has_syms, has_base;
	struct entry meta;	/* "metadata" (vlen 0: absent) */
	char producer[160];
	uint8_t *banner;
	size_t banner_n;
};

static uint32_t fnv1a(const char *s, size_t n)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i++) {
		h ^= (uint8_t)s[i];
		h *= 16777619u;
	}
	return h;
}

static void index_add(struct index *ix, const char *key, size_t klen, const char *val, size_t vlen)
{
	if (ix->n == ix->cap) {
		ix->cap = ix->cap ? ix->cap * 2 : 256;
		ix->e = xreallocarray(ix->e, ix->cap, sizeof(*ix->e));
	}
	ix->e[ix->n++] = (struct entry){ key, klen, val, vlen, NULL };
}

/* Later duplicates replace earlier ones, as in json-c and Python. */
static void index_build(struct index *ix)
{
	size_t ns = 16;
	while (ns < ix->n * 2)
		ns *= 2;
	ix->nslots = ns;
	ix->slot = xcalloc(ns, sizeof(*ix->slot));
	for (size_t i = 0; i < ix->n; i++) {
		size_t h = fnv1a(ix->e[i].key, ix->e[i].klen) & (ns - 1);
		for (;;) {
			uint32_t s = ix->slot[h];
			if (!s) {
				ix->slot[h] = (uint32_t)(i + 1);
				break;
			}
			struct entry *o = &ix->e[s - 1];
			if (o->klen == ix->e[i].klen && !memcmp(o->key, ix->e[i].key, o->klen)) {
				ix->slot[h] = (uint32_t)(i + 1);
				break;
			}
			h = (h + 1) & (ns - 1);
		}
	}
}

static struct entry *index_find(const struct index *ix, const char *name)
{
	size_t n = strlen(name);

	if (!ix->nslots)
		return NULL;
	size_t h = fnv1a(name, n) & (ix->nslots - 1);
	for (;;) {
		uint32_t s = ix->slot[h];
		if (!s)
			return NULL;
		struct entry *e = &ix->e[s - 1];
		if (e->klen == n && !memcmp(e->key, name, n))
			return e;
		h = (h + 1) & (ix->nslots - 1);
	}
}

static void index_free(struct index *ix)
{
	for (size_t i = 0; i < ix->n; i++)
		if (ix->e[i].obj)
			json_object_put(ix->e[i].obj);
	free(ix->e);
	free(ix->slot);
	memset(ix, 0, sizeof(*ix));
}

/* ---- structural pass ----------------------------------------------------- */

static const char *skip_ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
		p++;
	return p;
}

/* p at an opening quote: one past the closing quote, or NULL. */
static const char *skip_string(const char *p, const char *end)
{
	const char *start = p + 1;

	for (const char *q = start; q < end;) {
		const char *hit = memchr(q, '"', (size_t)(end - q));
		if (!hit)
			return NULL;
		size_t bs = 0;
		for (const char *b = hit; b > start && b[-1] == '\\'; b--)
			bs++;
		if (bs % 2 == 0)
			return hit + 1;
		q = hit + 1;
	}
	return NULL;
}

static bool scalar_char(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' ||
	       c == '+' || c == '.';
}

/* One JSON value starting at p: one past its end, or NULL.  Brackets are
 * counted, not matched by kind: entries actually used are parsed by json-c,
 * which checks them properly. */
static const char *skip_value(const char *p, const char *end)
{
	if (p >= end)
		return NULL;
	if (*p == '"')
		return skip_string(p, end);
	if (*p == '{' || *p == '[') {
		size_t depth = 0;
		while (p < end) {
			char c = *p;
			if (c == '"') {
				if (!(p = skip_string(p, end)))
					return NULL;
				continue;
			}
			if (c == '{' || c == '[') {
				if (++depth > MAX_NESTING)
					return NULL;
			} else if (c == '}' || c == ']') {
				if (--depth == 0)
					return p + 1;
			}
			p++;
		}
		return NULL;
	}
	const char *s = p;
	while (p < end && scalar_char(*p))
		p++;
	return p == s ? NULL : p;
}

static int syntax_error(const struct isf *p, const char *at, const char *what)
{
	return err_set("%s: not valid ISF JSON at byte %zu: %s", p->path, (size_t)(at - p->text), what);
}

/* Parse an object's members at p ('{'), calling back per member.  *endp is
 * one past the closing brace. */
static int walk_object(struct isf *p, const char *at, const char *end, struct index *ix, int top,
		       const char **endp)
{
	if (at >= end || *at != '{')
		return syntax_error(p, at, "expected an object");
	at = skip_ws(at + 1, end);
	if (at < end && *at == '}') {
		*endp = at + 1;
		return 0;
	}
	for (;;) {
		if (at >= end || *at != '"')
			return syntax_error(p, at, "expected a member name");
		const char *kend = skip_string(at, end);
		if (!kend)
			return syntax_error(p, at, "unterminated string");
		const char *key = at + 1;
		size_t klen = (size_t)(kend - 1 - key);
		at = skip_ws(kend, end);
		if (at >= end || *at != ':')
			return syntax_error(p, at, "expected ':'");
		at = skip_ws(at + 1, end);
		const char *val = at, *vend;
		if (top && *val == '{' && klen > 0) {
			struct index *sub = NULL;
			if (klen == 10 && !memcmp(key, "user_types", 10))
				sub = &p->user, p->has_user = true;
			else if (klen == 7 && !memcmp(key, "symbols", 7))
				sub = &p->syms, p->has_syms = true;
			else if (klen == 10 && !memcmp(key, "base_types", 10))
				sub = &p->base, p->has_base = true;
			else if (klen == 5 && !memcmp(key, "enums", 5))
				sub = &p->enums;
			if (sub) {
				if (sub->n)	/* a duplicate section: the last one wins */
					index_free(sub);
				if (walk_object(p, val, end, sub, 0, &vend) < 0)
					return -1;
			} else if (!(vend = skip_value(val, end))) {
				return syntax_error(p, val, "malformed or too deeply nested value");
			}
		} else if (!(vend = skip_value(val, end))) {
			return syntax_error(p, val, "malformed or too deeply nested value");
		}
		if (ix)
			index_add(ix, key, klen, val, (size_t)(vend - val));
		else if (top && klen == 8 && !memcmp(key, "metadata", 8))
			p->meta = (struct entry){ key, klen, val, (size_t)(vend - val), NULL };
		at = skip_ws(vend, end);
		if (at < end && *at == ',') {
			at = skip_ws(at + 1, end);
			continue;
		}
		if (at < end && *at == '}') {
			*endp = at + 1;
			return 0;
		}
		return syntax_error(p, at, "expected ',' or '}'");
	}
}

/* ---- entries parsed by json-c -------------------------------------------- */

static json_object *entry_obj(struct isf *p, struct entry *e, const char *what)
{
	if (e->obj)
		return e->obj;
	if (e->vlen > INT_MAX) {
		err_set("%s: %s '%.*s' is too large", p->path, what, (int)(e->klen > 80 ? 80 : e->klen), e->key);
		return NULL;
	}
	json_tokener *tok = json_tokener_new_ex(JSONC_DEPTH);
	if (!tok) {
		err_set("%s: out of memory", p->path);
		return NULL;
	}
	json_object *o = json_tokener_parse_ex(tok, e->val, (int)e->vlen);
	enum json_tokener_error jerr = json_tokener_get_error(tok);
	json_tokener_free(tok);
	if (!o || jerr != json_tokener_success || !json_object_is_type(o, json_type_object)) {
		if (o)
			json_object_put(o);
		err_set("%s: %s '%.*s' is not a valid JSON object (%s)", p->path, what,
			(int)(e->klen > 80 ? 80 : e->klen), e->key,
			jerr != json_tokener_success ? json_tokener_error_desc(jerr) : "wrong JSON type");
		return NULL;
	}
	e->obj = o;
	return o;
}

static json_object *member(json_object *o, const char *name)
{
	json_object *v = NULL;
	return o && json_object_object_get_ex(o, name, &v) ? v : NULL;
}

/* A non-negative JSON integer, all 64 bits. */
static bool get_u64(json_object *v, uint64_t *out)
{
	if (!v || !json_object_is_type(v, json_type_int))
		return false;
	if (json_object_get_int64(v) < 0)
		return false;
	*out = json_object_get_uint64(v);
	return true;
}

static const char *get_str(json_object *v)
{
	return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

/* ---- decompression --------------------------------------------------------- */

static int grow(struct isf *p, size_t want)
{
	if (want > MAX_JSON_BYTES)
		return err_set("%s: decompresses to more than %zu MiB: not a profile", p->path, MAX_JSON_BYTES >> 20);
	if (p->dec.cap < want) {
		size_t cap = p->dec.cap ? p->dec.cap : (size_t)16 << 20;
		while (cap < want)
			cap *= 2;
		if (cap > MAX_JSON_BYTES)
			cap = MAX_JSON_BYTES;
		p->dec.p = xrealloc(p->dec.p, cap);
		p->dec.cap = cap;
	}
	return 0;
}

static int inflate_xz(struct isf *p, struct span in)
{
	lzma_stream z = LZMA_STREAM_INIT;
	uint32_t threads = lzma_cputhreads();
	lzma_mt mt = {
		.flags = LZMA_CONCATENATED,
		.threads = threads == 0 ? 1 : threads > 4 ? 4 : threads,
		.memlimit_threading = (uint64_t)512 << 20,
		.memlimit_stop = (uint64_t)2 << 30,
	};
	if (lzma_stream_decoder_mt(&z, &mt) != LZMA_OK)
		return err_set("%s: cannot start the xz decoder", p->path);
	z.next_in = in.p;
	z.avail_in = in.n;
	for (;;) {
		if (p->dec.len == p->dec.cap && grow(p, p->dec.cap + 1) < 0) {
			lzma_end(&z);
			return -1;
		}
		z.next_out = p->dec.p + p->dec.len;
		z.avail_out = p->dec.cap - p->dec.len;
		size_t before = z.avail_out;
		lzma_ret r = lzma_code(&z, LZMA_FINISH);
		p->dec.len += before - z.avail_out;
		if (r == LZMA_STREAM_END)
			break;
		if (r != LZMA_OK && !(r == LZMA_BUF_ERROR && z.avail_out == 0)) {
			lzma_end(&z);
			return err_set("%s: corrupt or truncated xz data (liblzma error %d)", p->path, (int)r);
		}
	}
	lzma_end(&z);
	return 0;
}

static int inflate_gz(struct isf *p, struct span in)
{
	z_stream z;
	memset(&z, 0, sizeof(z));
	if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK)
		return err_set("%s: cannot start the gzip decoder", p->path);
	const uint8_t *ip = in.p;
	size_t left = in.n;
	int r = Z_OK;
	while (r != Z_STREAM_END) {
		if (p->dec.len == p->dec.cap && grow(p, p->dec.cap + 1) < 0) {
			inflateEnd(&z);
			return -1;
		}
		uInt chunk = left > UINT_MAX ? UINT_MAX : (uInt)left;
		size_t out_room = p->dec.cap - p->dec.len;
		z.next_in = (Bytef *)ip;
		z.avail_in = chunk;
		z.next_out = p->dec.p + p->dec.len;
		z.avail_out = out_room > UINT_MAX ? UINT_MAX : (uInt)out_room;
		uInt ai = z.avail_in, ao = z.avail_out;
		r = inflate(&z, Z_NO_FLUSH);
		ip += ai - z.avail_in;
		left -= ai - z.avail_in;
		p->dec.len += ao - z.avail_out;
		if (r == Z_STREAM_END && left >= 2 && ip[0] == 0x1f && ip[1] == 0x8b) {
			inflateReset(&z);	/* concatenated members */
			r = Z_OK;
			continue;
		}
		if (r == Z_STREAM_END)
			break;
		if (r != Z_OK && r != Z_BUF_ERROR) {
			inflateEnd(&z);
			return err_set("%s: corrupt gzip data (%s)", p->path, z.msg ? z.msg : "inflate failed");
		}
		if (r == Z_BUF_ERROR && z.avail_out != 0 && left == 0) {
			inflateEnd(&z);
			return err_set("%s: truncated gzip data", p->path);
		}
	}
	inflateEnd(&z);
	return 0;
}

static int inflate_bz2(struct isf *p, struct span in)
{
	bz_stream z;
	memset(&z, 0, sizeof(z));
	if (BZ2_bzDecompressInit(&z, 0, 0) != BZ_OK)
		return err_set("%s: cannot start the bzip2 decoder", p->path);
	const uint8_t *ip = in.p;
	size_t left = in.n;
	for (;;) {
		if (p->dec.len == p->dec.cap && grow(p, p->dec.cap + 1) < 0) {
			BZ2_bzDecompressEnd(&z);
			return -1;
		}
		size_t out_room = p->dec.cap - p->dec.len;
		z.next_in = (char *)ip;
		z.avail_in = left > UINT_MAX ? UINT_MAX : (unsigned)left;
		z.next_out = (char *)p->dec.p + p->dec.len;
		z.avail_out = out_room > UINT_MAX ? UINT_MAX : (unsigned)out_room;
		unsigned ai = z.avail_in, ao = z.avail_out;
		int r = BZ2_bzDecompress(&z);
		ip += ai - z.avail_in;
		left -= ai - z.avail_in;
		p->dec.len += ao - z.avail_out;
		if (r == BZ_STREAM_END)
			break;
		if (r != BZ_OK || (ai == z.avail_in && ao == z.avail_out)) {
			BZ2_bzDecompressEnd(&z);
			return err_set("%s: corrupt or truncated bzip2 data", p->path);
		}
	}
	BZ2_bzDecompressEnd(&z);
	return 0;
}

/* ---- open / close ---------------------------------------------------------- */

static int load_text(struct isf *p)
{
	struct span in = { p->mf.data, p->mf.size };
	static const uint8_t xz[6] = { 0xfd, '7', 'z', 'X', 'Z', 0 };
	int r = 0;

	if (in.n >= 6 && !memcmp(in.p, xz, 6))
		r = inflate_xz(p, in);
	else if (in.n >= 2 && in.p[0] == 0x1f && in.p[1] == 0x8b)
		r = inflate_gz(p, in);
	else if (in.n >= 4 && !memcmp(in.p, "BZh", 3) && in.p[3] >= '1' && in.p[3] <= '9')
		r = inflate_bz2(p, in);
	else {
		p->text = (const char *)in.p;
		p->n = in.n;
		return 0;
	}
	if (r < 0)
		return -1;
	p->text = (const char *)p->dec.p;
	p->n = p->dec.len;
	return 0;
}

static void read_producer(struct isf *p)
{
	json_object *m = NULL;

	if (p->meta.vlen && !(m = entry_obj(p, &p->meta, "metadata")))
		err_clear();
	json_object *prod = member(m, "producer");
	const char *name = get_str(member(prod, "name")), *ver = get_str(member(prod, "version"));
	snprintf(p->producer, sizeof(p->producer), "%.64s%s%.64s", name ? name : "unknown producer",
		 ver ? " " : "", ver ? ver : "");
}

static int finish_open(struct isf *p)
{
	const char *end = p->text + p->n, *after;
	const char *at = skip_ws(p->text, end);

	if (p->n == 0)
		return err_set("%s: empty file", p->path);
	if (walk_object(p, at, end, NULL, 1, &after) < 0)
		return -1;
	if (skip_ws(after, end) != end)
		return syntax_error(p, skip_ws(after, end), "data after the top-level object");
	if (!p->has_syms || !p->has_user || !p->has_base)
		return err_set("%s: not an ISF profile (no %s object)", p->path,
			       !p->has_syms ? "\"symbols\"" : !p->has_user ? "\"user_types\"" : "\"base_types\"");
	index_build(&p->base);
	index_build(&p->user);
	index_build(&p->enums);
	index_build(&p->syms);
	read_producer(p);
	return 0;
}

int isf_open(const char *path, struct isf **out)
{
	struct isf *p = xcalloc(1, sizeof(*p));

	*out = NULL;
	snprintf(p->path, sizeof(p->path), "%s", path);
	if (map_file(path, &p->mf) < 0 || load_text(p) < 0 || finish_open(p) < 0) {
		isf_close(p);
		return -1;
	}
	*out = p;
	return 0;
}

int isf_open_mem(const void *json, size_t n, struct isf **out)
{
	struct isf *p = xcalloc(1, sizeof(*p));

	*out = NULL;
	snprintf(p->path, sizeof(p->path), "(profile in memory)");
	if (grow(p, n + 1) < 0) {
		isf_close(p);
		return -1;
	}
	memcpy(p->dec.p, json, n);
	p->dec.len = n;
	p->text = (const char *)p->dec.p;
	p->n = n;
	if (finish_open(p) < 0) {
		isf_close(p);
		return -1;
	}
	*out = p;
	return 0;
}

void isf_close(struct isf *p)
{
	if (!p)
		return;
	index_free(&p->base);
	index_free(&p->user);
	index_free(&p->enums);
	index_free(&p->syms);
	if (p->meta.obj)
		json_object_put(p->meta.obj);
	free(p->banner);
	buf_free(&p->dec);
	unmap_file(&p->mf);
	free(p);
}

size_t isf_nsymbols(const struct isf *p) { return p->syms.n; }
size_t isf_ntypes(const struct isf *p) { return p->user.n; }
const char *isf_producer(const struct isf *p) { return p->producer; }
size_t isf_bytes(const struct isf *p) { return p->n; }

/* ---- queries --------------------------------------------------------------- */

int isf_symbol(struct isf *p, const char *name, uint64_t *addr)
{
	struct entry *e = index_find(&p->syms, name);
	if (!e)
		return 0;
	json_object *o = entry_obj(p, e, "symbol");
	if (!o)
		return -1;
	if (!get_u64(member(o, "address"), addr))
		return err_set("%s: symbol %s has no unsigned integer \"address\"", p->path, name);
	return 1;
}

static int b64val(uint8_t c)
{
	if (c >= 'A' && c <= 'Z') return c - 'A';
	if (c >= 'a' && c <= 'z') return c - 'a' + 26;
	if (c >= '0' && c <= '9') return c - '0' + 52;
	if (c == '+') return 62;
	if (c == '/') return 63;
	return -1;
}

int isf_banner(struct isf *p, struct span *out)
{
	if (p->banner) {
		*out = (struct span){ p->banner, p->banner_n };
		return 0;
	}
	struct entry *e = index_find(&p->syms, "linux_banner");
	if (!e)
		return err_set("%s: no symbol linux_banner: Volatility3 cannot match this profile to any image", p->path);
	json_object *o = entry_obj(p, e, "symbol");
	if (!o)
		return -1;
	const char *b64 = get_str(member(o, "constant_data"));
	if (!b64)
		return err_set("%s: linux_banner has no \"constant_data\": Volatility3 cannot match this profile to any image",
			       p->path);
	size_t n = strlen(b64);
	if (n > MAX_BANNER * 4 / 3 + 4)
		return err_set("%s: linux_banner constant_data is implausibly long (%zu bytes)", p->path, n);
	uint8_t *dst = xmalloc(n / 4 * 3 + 3);
	size_t len = 0;
	uint32_t acc = 0;
	int bits = 0;
	size_t i;
	for (i = 0; i < n && b64[i] != '='; i++) {
		int v = b64val((uint8_t)b64[i]);
		if (v < 0) {
			free(dst);
			return err_set("%s: linux_banner constant_data is not base64 (byte %zu)", p->path, i);
		}
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			dst[len++] = (uint8_t)(acc >> bits);
		}
	}
	for (; i < n; i++)
		if (b64[i] != '=') {
			free(dst);
			return err_set("%s: linux_banner constant_data is not base64 (data after '=')", p->path);
		}
	if (!len) {
		free(dst);
		return err_set("%s: linux_banner constant_data is empty", p->path);
	}
	p->banner = dst;
	p->banner_n = len;
	*out = (struct span){ dst, len };
	return 0;
}

static enum isf_kind kind_of(const char *k)
{
	static const struct { const char *name; enum isf_kind kind; } kinds[] = {
		{ "base", ISF_KIND_BASE }, { "pointer", ISF_KIND_POINTER }, { "array", ISF_KIND_ARRAY },
		{ "struct", ISF_KIND_STRUCT }, { "union", ISF_KIND_UNION }, { "class", ISF_KIND_CLASS },
		{ "enum", ISF_KIND_ENUM }, { "bitfield", ISF_KIND_BITFIELD }, { "function", ISF_KIND_FUNCTION },
	};
	for (size_t i = 0; k && i < ARRAY_SIZE(kinds); i++)
		if (!strcmp(k, kinds[i].name))
			return kinds[i].kind;
	return ISF_KIND_UNKNOWN;
}

static int sized_entry(struct isf *p, struct index *ix, const char *what, const char *name, uint64_t *size)
{
	struct entry *e = index_find(ix, name);
	if (!e)
		return 0;
	json_object *o = entry_obj(p, e, what);
	if (!o)
		return -1;
	if (!get_u64(member(o, "size"), size))
		return err_set("%s: %s %s has no unsigned integer \"size\"", p->path, what, name);
	return 1;
}

int isf_user_type_size(struct isf *p, const char *name, uint64_t *size)
{
	return sized_entry(p, &p->user, "user type", name, size);
}

int isf_base_type_size(struct isf *p, const char *name, uint64_t *size)
{
	return sized_entry(p, &p->base, "base type", name, size);
}

/* Size of a type descriptor; 0 when unknown (missing types are not an error
 * here: callers check the sizes they rely on). */
static uint64_t type_size(struct isf *p, json_object *t, int depth)
{
	uint64_t size = 0;
	const char *name = get_str(member(t, "name"));

	if (depth > MAX_TYPE_DEPTH)
		return 0;
	switch (kind_of(get_str(member(t, "kind")))) {
	case ISF_KIND_BASE:
		if (!name || isf_base_type_size(p, name, &size) <= 0)
			size = 0;
		break;
	case ISF_KIND_POINTER:
		if (isf_base_type_size(p, "pointer", &size) <= 0)
			size = 8;
		break;
	case ISF_KIND_STRUCT:
	case ISF_KIND_UNION:
	case ISF_KIND_CLASS:
		if (!name || isf_user_type_size(p, name, &size) <= 0)
			size = 0;
		break;
	case ISF_KIND_ENUM:
		if (!name || sized_entry(p, &p->enums, "enum", name, &size) <= 0)
			size = 0;
		break;
	case ISF_KIND_ARRAY: {
		uint64_t count, elem = type_size(p, member(t, "subtype"), depth + 1);
		if (!get_u64(member(t, "count"), &count) || (elem && count > UINT64_MAX / elem))
			size = 0;
		else
			size = count * elem;
		break;
	}
	case ISF_KIND_BITFIELD:
		size = type_size(p, member(t, "type"), depth + 1);
		break;
	default:
		break;
	}
	err_clear();
	return size;
}

static void parse_type(struct isf *p, json_object *t, struct isf_type *out)
{
	memset(out, 0, sizeof(*out));
	out->kind = kind_of(get_str(member(t, "kind")));
	const char *name = get_str(member(t, "name"));
	if (name)
		snprintf(out->name, sizeof(out->name), "%s", name);
	out->size = type_size(p, t, 0);
	json_object *sub = member(t, out->kind == ISF_KIND_BITFIELD ? "type" : "subtype");
	if (out->kind == ISF_KIND_ARRAY && !get_u64(member(t, "count"), &out->count))
		out->count = 0;
	if (sub) {
		out->sub_kind = kind_of(get_str(member(sub, "kind")));
		const char *sn = get_str(member(sub, "name"));
		if (sn)
			snprintf(out->sub_name, sizeof(out->sub_name), "%s", sn);
		out->sub_size = type_size(p, sub, 1);
	}
}

/* 1 found, 0 not found, -1 error. */
static int find_member(struct isf *p, json_object *type, const char *tname, const char *name, uint64_t base,
		       int depth, struct isf_field *out)
{
	json_object *fields = member(type, "fields");
	if (!fields || !json_object_is_type(fields, json_type_object))
		return err_set("%s: user type %s has no \"fields\" object", p->path, tname);
	json_object *m = member(fields, name);
	if (m) {
		uint64_t off;
		if (!get_u64(member(m, "offset"), &off) || off > UINT64_MAX - base)
			return err_set("%s: %s.%s has no unsigned integer \"offset\"", p->path, tname, name);
		json_object *t = member(m, "type");
		if (!t || !json_object_is_type(t, json_type_object))
			return err_set("%s: %s.%s has no \"type\"", p->path, tname, name);
		out->offset = base + off;
		parse_type(p, t, &out->type);
		return 1;
	}
	if (depth >= MAX_ANON_DEPTH)
		return 0;
	json_object_object_foreach(fields, key, f) {
		(void)key;
		json_object *anon = member(f, "anonymous");
		if (!anon || !json_object_get_boolean(anon))
			continue;
		json_object *t = member(f, "type");
		const char *sub_name = get_str(member(t, "name"));
		enum isf_kind k = kind_of(get_str(member(t, "kind")));
		uint64_t off;
		if (!sub_name || (k != ISF_KIND_STRUCT && k != ISF_KIND_UNION) || !get_u64(member(f, "offset"), &off) ||
		    off > UINT64_MAX - base)
			continue;
		struct entry *e = index_find(&p->user, sub_name);
		json_object *sub;
		if (!e)
			continue;
		if (!(sub = entry_obj(p, e, "user type")))
			return -1;
		int r = find_member(p, sub, sub_name, name, base + off, depth + 1, out);
		if (r)
			return r;
	}
	return 0;
}

int isf_field(struct isf *p, const char *type, const char *name, struct isf_field *out)
{
	struct entry *e = index_find(&p->user, type);
	if (!e)
		return err_set("%s: no user type %s", p->path, type);
	json_object *o = entry_obj(p, e, "user type");
	if (!o)
		return -1;
	int r = find_member(p, o, type, name, 0, 0, out);
	if (r < 0)
		return -1;
	if (r == 0)
		return err_set("%s: %s has no member %s", p->path, type, name);
	return 0;
}

#include "isf.h"

#include "log.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

/* Symbols Volatility3 cannot stack a Linux image without. */
static const char *const required_symbols[] = { "linux_banner", "init_task", "init_files" };

static void write_metadata(const struct isf_input *in, struct jsonw *w)
{
	jsonw_start_object(w);
	jsonw_name(w, "linux");
	jsonw_start_object(w);
	jsonw_name(w, "symbols");
	jsonw_start_array(w);
	for (int i = 0; i < in->nsources; i++) {
		const struct isf_source *s = &in->sources[i];
		jsonw_start_object(w);
		jsonw_name(w, "kind");
		jsonw_string(w, s->kind);
		jsonw_name(w, "name");
		jsonw_string(w, s->name);
		jsonw_name(w, "hash_type");
		jsonw_string(w, "sha256");
		jsonw_name(w, "hash_value");
		jsonw_string(w, s->sha256);
		jsonw_end_object(w);
	}
	jsonw_end_array(w);
	jsonw_end_object(w);
	jsonw_name(w, "producer");
	jsonw_start_object(w);
	jsonw_name(w, "name");
	jsonw_string(w, "btf2isf");
	jsonw_name(w, "version");
	jsonw_string(w, BTF2ISF_VERSION);
	jsonw_end_object(w);
	jsonw_name(w, "format");
	jsonw_string(w, ISF_FORMAT);
	jsonw_end_object(w);
}

/* Symbol type descriptors from the symdb, rendered once per distinct type
 * expression (a few thousand serve ~25k symbols, and "void" ~60k): checking
 * and rendering an expression for every symbol took a third of the symbols
 * section's time.  symdb_lookup() returns one pointer per distinct
 * expression, which is the key. */
struct desc_cache {
	const char **key;
	uint32_t *off, *len;	/* into json; len 0: a type this BTF lacks */
	size_t cap, used;	/* cap: a power of two */
	struct buf json;
	bool pretty;
	const struct isf_types *types;
};

#define SYMBOL_TYPE_DEPTH 3	/* document → symbols → symbol → "type" */

static size_t desc_slot(const struct desc_cache *c, const char *expr)
{
	size_t h = (size_t)(((uintptr_t)expr >> 3) * 0x9e3779b97f4a7c15ull) & (c->cap - 1);
	while (c->key[h] && c->key[h] != expr)
		h = (h + 1) & (c->cap - 1);
	return h;
}

static void desc_grow(struct desc_cache *c)
{
	struct desc_cache old = *c;

	c->cap = c->cap ? c->cap * 2 : 1024;
	c->key = xcalloc(c->cap, sizeof(*c->key));
	c->off = xcalloc(c->cap, sizeof(*c->off));
	c->len = xcalloc(c->cap, sizeof(*c->len));
	for (size_t i = 0; i < old.cap; i++) {
		if (!old.key[i])
			continue;
		size_t h = desc_slot(c, old.key[i]);
		c->key[h] = old.key[i];
		c->off[h] = old.off[i];
		c->len[h] = old.len[i];
	}
	free(old.key);
	free(old.off);
	free(old.len);
}

/* The rendered descriptor of expr; n == 0 if this BTF lacks one of its types. */
static struct span cached_desc(struct desc_cache *c, const char *expr)
{
	if (2 * (c->used + 1) > c->cap)
		desc_grow(c);
	size_t h = desc_slot(c, expr);
	if (!c->key[h]) {
		c->key[h] = expr;
		c->used++;
		c->off[h] = (uint32_t)c->json.len;
		if (symdb_type_valid(expr, c->types)) {
			struct jsonw *w = jsonw_new_part(&c->json, c->pretty, SYMBOL_TYPE_DEPTH);
			symdb_write_type(expr, w);
			jsonw_free(w);
		}
		c->len[h] = (uint32_t)(c->json.len - c->off[h]);
	}
	return (struct span){ c->json.p + c->off[h], c->len[h] };
}

static void desc_cache_free(struct desc_cache *c)
{
	free(c->key);
	free(c->off);
	free(c->len);
	buf_free(&c->json);
}

/* The three big sections (user_types, enums, symbols: all but a few KB of a
 * profile) are rendered into memory in chunks, from a shared counter, by a
 * helper thread and by the main thread, which writes the chunks out in
 * document order as they are done (splice_section).  Rendered on one core,
 * the type sections alone took as long as the rest of a memory image's run. */
enum section { SECTION_USER_TYPES, SECTION_ENUMS, SECTION_SYMBOLS, SECTION_COUNT };

static const char *const section_names[SECTION_COUNT] = { "user_types", "enums", "symbols" };

/* Entries per chunk: about 0.3-1 MB of JSON each. */
static const size_t section_chunk[SECTION_COUNT] = { 512, 512, 8192 };
#define CHUNK_RESERVE (2u << 20)

struct chunk {
	enum section section;
	size_t from, to;	/* entries of the section */
	struct buf json;
	struct isf_report r;	/* symbols only */
	atomic_bool done;	/* json and r are complete */
};

struct render {
	const struct isf_input *in;
	bool pretty;
	uint64_t percpu_start;		/* __per_cpu_start, else 0 */
	uint32_t var_offset_max;	/* of BTF's variables */
	const struct symbol *banner;	/* linux_banner, which carries its bytes */
	struct chunk *chunks;
	size_t nchunks;
	size_t first[SECTION_COUNT + 1];	/* each section's first chunk */
	atomic_size_t next;
};

/* Type of one symbol: BTF's own VAR first (exact for this build), then the
 * symdb row for this kernel version if its type exists here, else void. */
static void write_symbol_type(const struct render *sr, struct jsonw *w, const struct symbol *sym,
			      const char *name, size_t name_len, struct desc_cache *cache, struct isf_report *r)
{
	const struct isf_input *in = sr->in;
	const char *expr;

	/* BTF's variables are per-CPU ones; a name can also belong to another,
	 * non-per-CPU symbol (the one kept of several): the offset tells. */
	if (sym->addr - sr->percpu_start <= sr->var_offset_max) {
		uint32_t offset = 0, var_type = isf_types_var_type(in->types, name, &offset);
		if (var_type && sym->addr == sr->percpu_start + offset) {
			isf_types_write_descriptor(in->types, w, var_type);
			r->typed_by_btf++;
			return;
		}
	}
	expr = symdb_lookup(in->symdb, name, name_len, &in->version);
	struct span desc = expr ? cached_desc(cache, expr) : (struct span){ 0 };
	if (desc.n) {
		jsonw_raw_value(w, desc.p, desc.n);
		r->typed_by_symdb++;
		return;
	}
	if (expr) {
		r->symdb_missing_type++;
		if (!r->missing_example[0])
			snprintf(r->missing_example, sizeof(r->missing_example), "%s (%s)", name, expr);
	}
	r->void_typed++;
	desc = cached_desc(cache, "void");
	jsonw_raw_value(w, desc.p, desc.n);
}

/* Symbols [from, to) as members of the symbols object. */
static void write_symbols(const struct render *sr, struct jsonw *w, size_t from, size_t to,
			  struct desc_cache *cache, struct isf_report *r)
{
	const struct isf_input *in = sr->in;
	const struct symbols *s = in->symbols;

	for (size_t i = from; i < to; i++) {
		if (i + NAME_PREFETCH < to)
			__builtin_prefetch(symbol_name(s, &s->v[i + NAME_PREFETCH]));
		const char *name = symbol_name(s, &s->v[i]);
		size_t name_len = strlen(name);
		jsonw_name_len(w, name, name_len);
		jsonw_start_object(w);
		jsonw_name(w, "type");
		write_symbol_type(sr, w, &s->v[i], name, name_len, cache, r);
		jsonw_name(w, "address");
		jsonw_uint(w, s->v[i].addr);
		if (&s->v[i] == sr->banner) {
			char *b64 = base64_encode(in->banner.p, in->banner.n);
			jsonw_name(w, "constant_data");
			jsonw_string(w, b64);
			free(b64);
		}
		jsonw_end_object(w);
	}
}

/* Renders the next chunk nobody has taken, with the calling thread's
 * cache; false when none is left. */
static bool render_next_chunk(struct render *rd, struct desc_cache *cache)
{
	size_t i = atomic_fetch_add(&rd->next, 1);

	if (i >= rd->nchunks)
		return false;
	struct chunk *c = &rd->chunks[i];
	/* Room for a whole chunk at once: growing it by doubling copied a
	 * tenth of the profile over again. */
	buf_reserve(&c->json, CHUNK_RESERVE);
	struct jsonw *w = jsonw_new_members(&c->json, rd->pretty, 1);
	if (c->section == SECTION_SYMBOLS)
		write_symbols(rd, w, c->from, c->to, cache, &c->r);
	else
		isf_types_write_members(rd->in->types, c->section == SECTION_ENUMS ? ISF_ENUMS : ISF_USER_TYPES,
					w, c->from, c->to);
	jsonw_free(w);
	atomic_store_explicit(&c->done, true, memory_order_release);
	return true;
}

static void desc_cache_init(struct desc_cache *c, const struct render *rd)
{
	*c = (struct desc_cache){ .pretty = rd->pretty, .types = rd->in->types };
}

static void render_chunks(void *arg)
{
	struct desc_cache cache;

	desc_cache_init(&cache, arg);
	while (render_next_chunk(arg, &cache))
		;
	desc_cache_free(&cache);
}

/* The chunks of all sections, in document order. */
static void plan_chunks(struct render *rd)
{
	size_t count[SECTION_COUNT] = {
		isf_types_count(rd->in->types, ISF_USER_TYPES),
		isf_types_count(rd->in->types, ISF_ENUMS),
		rd->in->symbols->n,
	};
	size_t total = 0;

	for (int s = 0; s < SECTION_COUNT; s++)
		total += (count[s] + section_chunk[s] - 1) / section_chunk[s];
	rd->chunks = xcalloc(total ? total : 1, sizeof(*rd->chunks));
	for (int s = 0; s < SECTION_COUNT; s++) {
		rd->first[s] = rd->nchunks;
		for (size_t from = 0; from < count[s]; from += section_chunk[s]) {
			struct chunk *c = &rd->chunks[rd->nchunks++];
			c->section = (enum section)s;
			c->from = from;
			c->to = count[s] - from < section_chunk[s] ? count[s] : from + section_chunk[s];
			atomic_init(&c->done, false);
		}
	}
	rd->first[SECTION_COUNT] = rd->nchunks;
	atomic_init(&rd->next, 0);
}

/* The chunks' counts, in order (the first missing type found is the example). */
static void add_report(struct isf_report *r, const struct isf_report *c)
{
	r->typed_by_btf += c->typed_by_btf;
	r->typed_by_symdb += c->typed_by_symdb;
	r->symdb_missing_type += c->symdb_missing_type;
	r->void_typed += c->void_typed;
	if (!r->missing_example[0])
		memcpy(r->missing_example, c->missing_example, sizeof(r->missing_example));
}

/* One section as a member of the document: its chunks go out in order as
 * they are done, and while the next one is not, the main thread renders
 * chunks too. */
static void splice_section(struct render *rd, enum section s, struct thread_job *helper,
			   struct desc_cache *cache, struct jsonw *w, struct isf_report *r)
{
	jsonw_name(w, section_names[s]);
	jsonw_start_object(w);
	for (size_t i = rd->first[s]; i < rd->first[s + 1];) {
		struct chunk *c = &rd->chunks[i];
		if (atomic_load_explicit(&c->done, memory_order_acquire)) {
			jsonw_raw_members(w, c->json.p, c->json.len);
			buf_free(&c->json);
			add_report(r, &c->r);
			i++;
		} else if (!render_next_chunk(rd, cache)) {
			thread_job_join(helper);	/* it is rendering the rest */
		}
	}
	jsonw_end_object(w);
}

int isf_write(const struct isf_input *in, struct jsonw *w, struct isf_report *r)
{
	memset(r, 0, sizeof(*r));
	for (size_t i = 0; i < ARRAY_SIZE(required_symbols); i++)
		if (!symbols_find(in->symbols, required_symbols[i]))
			return err_set("symbol %s is missing from the symbol source: Volatility3 cannot use a profile without it",
				       required_symbols[i]);
	if (!symbols_find(in->symbols, "init_top_pgt") && !symbols_find(in->symbols, "swapper_pg_dir"))
		return err_set("neither init_top_pgt nor swapper_pg_dir is in the symbol source: Volatility3 needs the page-table root");
	if (!isf_types_has(in->types, "struct", "task_struct"))
		return err_set("BTF has no struct task_struct: not a vmlinux BTF (a module's?)");

	const struct symbol *pcpu = symbols_find(in->symbols, "__per_cpu_start");
	struct render rd = {
		.in = in,
		.pretty = jsonw_pretty(w),
		.percpu_start = pcpu ? pcpu->addr : 0,
		.var_offset_max = isf_types_var_offset_max(in->types),
		.banner = symbols_find(in->symbols, "linux_banner"),
	};
	plan_chunks(&rd);
	struct thread_job helper;
	thread_job_start(&helper, render_chunks, &rd);

	jsonw_start_object(w);
	jsonw_name(w, "metadata");
	write_metadata(in, w);
	jsonw_name(w, "base_types");
	isf_types_write_base_types(in->types, w);
	struct desc_cache cache;
	desc_cache_init(&cache, &rd);
	for (int s = 0; s < SECTION_COUNT; s++)
		splice_section(&rd, (enum section)s, &helper, &cache, w, r);
	thread_job_join(&helper);
	desc_cache_free(&cache);
	free(rd.chunks);
	r->symbols = in->symbols->n;
	jsonw_end_object(w);
	return 0;
}

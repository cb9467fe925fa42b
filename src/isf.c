#include "isf.h"

#include "log.h"
#include "valtmpl.h"

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
		jsonw_string_field(w, "kind", s->kind);
		jsonw_string_field(w, "name", s->name);
		jsonw_string_field(w, "hash_type", "sha256");
		jsonw_string_field(w, "hash_value", s->sha256);
		jsonw_end_object(w);
	}
	jsonw_end_array(w);
	jsonw_end_object(w);
	jsonw_name(w, "producer");
	jsonw_start_object(w);
	jsonw_string_field(w, "name", "btf2isf");
	jsonw_string_field(w, "version", BTF2ISF_VERSION);
	jsonw_end_object(w);
	jsonw_string_field(w, "format", ISF_FORMAT);
	jsonw_end_object(w);
}

/* A symbol's value is {"type": T, "address": N}: one template per symdb
 * type expression, whose pointer is the key (symdb_lookup() returns one
 * per distinct expression). */
#define SYMBOL_DEPTH 2	/* document → symbols → the symbol's value */

/* The expression of symbols the symdb cannot type; its address is its key. */
static const char void_type[] = "void";

/* value_render_fn: expr's symbol value, if this BTF has its types. */
static bool render_symbol_value(struct jsonw *w, uint64_t key, void *types)
{
	const char *expr = (const char *)(uintptr_t)key;

	if (!symdb_type_valid(expr, types))
		return false;
	jsonw_start_object(w);
	jsonw_name(w, "type");
	symdb_write_type(expr, w);
	jsonw_uint_field(w, "address", 0);
	jsonw_end_object(w);
	return true;
}

/* What a rendering thread keeps from chunk to chunk. */
struct render_cache {
	struct value_templates *symbols;
	struct isf_write_cache *types;
};

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

/* BTF's type of a per-CPU variable, or 0.  BTF's variables are per-CPU
 * ones; a name can also belong to another, non-per-CPU symbol (the one kept
 * of several): the offset tells. */
static uint32_t btf_var_type(const struct render *sr, const struct symbol *sym, const char *name)
{
	uint32_t offset = 0, var_type = 0;

	if (sym->addr - sr->percpu_start <= sr->var_offset_max)
		var_type = isf_types_var_type(sr->in->types, name, &offset);
	return var_type && sym->addr == sr->percpu_start + offset ? var_type : 0;
}

/* The symdb's type of a symbol BTF does not type: the row for this kernel
 * version if its type exists here, else void.  Returns the expression and
 * its template. */
static const char *symdb_type(const struct render *sr, const char *name, uint64_t name_hash,
			      struct render_cache *cache, struct isf_report *r, struct value_template *t)
{
	const char *expr = symdb_lookup_hash(sr->in->symdb, name_hash, &sr->in->version);
	void *types = (void *)sr->in->types;

	*t = expr ? value_template(cache->symbols, (uintptr_t)expr, render_symbol_value, types)
		  : (struct value_template){ 0 };
	if (t->valid) {
		r->typed_by_symdb++;
		return expr;
	}
	if (expr) {
		r->symdb_missing_type++;
		if (!r->missing_example[0])
			snprintf(r->missing_example, sizeof(r->missing_example), "%s (%s)", name, expr);
	}
	r->void_typed++;
	*t = value_template(cache->symbols, (uintptr_t)void_type, render_symbol_value, types);
	return void_type;
}

/* Symbol i as a member of the symbols object: BTF's own VAR type first
 * (exact for this build), else the symdb's; from its template unless it is
 * the banner, which also carries its bytes. */
static void write_symbol(const struct render *sr, struct jsonw *w, size_t i, size_t name_len, uint64_t name_hash,
			 struct render_cache *cache, struct isf_report *r)
{
	const struct isf_input *in = sr->in;
	const struct symbol *sym = &in->symbols->v[i];
	const char *name = symbol_name(in->symbols, sym);
	uint32_t var_type = btf_var_type(sr, sym, name);

	struct value_template t;
	const char *expr = var_type ? NULL : symdb_type(sr, name, name_hash, cache, r, &t);

	jsonw_name_len(w, name, name_len);
	if (expr && sym != sr->banner) {
		value_template_put(w, &t, sym->addr);
		return;
	}
	jsonw_start_object(w);
	jsonw_name(w, "type");
	if (var_type) {
		isf_types_write_descriptor(in->types, w, var_type);
		r->typed_by_btf++;
	} else {
		symdb_write_type(expr, w);
	}
	jsonw_uint_field(w, "address", sym->addr);
	if (sym == sr->banner) {
		char *b64 = base64_encode(in->banner.p, in->banner.n);
		jsonw_string_field(w, "constant_data", b64);
		free(b64);
	}
	jsonw_end_object(w);
}

/* Symbols [from, to) as members of the symbols object.  The walk is cache-
 * miss bound: names are prefetched NAME_PREFETCH entries ahead and, half as
 * far ahead, hashed and their symdb slots prefetched. */
#define HASH_AHEAD (NAME_PREFETCH / 2)
static void write_symbols(const struct render *sr, struct jsonw *w, size_t from, size_t to,
			  struct render_cache *cache, struct isf_report *r)
{
	const struct isf_input *in = sr->in;
	const struct symbols *s = in->symbols;
	struct { size_t len; uint64_t hash; } ahead[HASH_AHEAD];

	for (size_t i = from; i < to + HASH_AHEAD; i++) {
		if (i >= from + HASH_AHEAD)
			write_symbol(sr, w, i - HASH_AHEAD, ahead[i % HASH_AHEAD].len, ahead[i % HASH_AHEAD].hash,
				     cache, r);
		if (i + NAME_PREFETCH < to)
			__builtin_prefetch(symbol_name(s, &s->v[i + NAME_PREFETCH]));
		if (i < to) {	/* in the slot just written from */
			const char *name = symbol_name(s, &s->v[i]);
			ahead[i % HASH_AHEAD].len = strlen(name);
			ahead[i % HASH_AHEAD].hash = symdb_hash(in->symdb, name, ahead[i % HASH_AHEAD].len);
			symdb_prefetch(in->symdb, ahead[i % HASH_AHEAD].hash);
		}
	}
}

/* Renders the next chunk nobody has taken, with the calling thread's
 * cache; false when none is left. */
static bool render_next_chunk(struct render *rd, struct render_cache *cache)
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
					w, c->from, c->to, cache->types);
	jsonw_free(w);
	atomic_store_explicit(&c->done, true, memory_order_release);
	return true;
}

static void render_cache_init(struct render_cache *c, const struct render *rd)
{
	c->symbols = value_templates_new(rd->pretty, SYMBOL_DEPTH);
	c->types = isf_write_cache_new(rd->pretty);
}

static void render_cache_free(struct render_cache *c)
{
	value_templates_free(c->symbols);
	isf_write_cache_free(c->types);
}

static void render_chunks(void *arg)
{
	struct render_cache cache;

	render_cache_init(&cache, arg);
	while (render_next_chunk(arg, &cache))
		;
	render_cache_free(&cache);
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
			   struct render_cache *cache, struct jsonw *w, struct isf_report *r)
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
	struct render_cache cache;
	render_cache_init(&cache, &rd);
	for (int s = 0; s < SECTION_COUNT; s++)
		splice_section(&rd, (enum section)s, &helper, &cache, w, r);
	thread_job_join(&helper);
	render_cache_free(&cache);
	free(rd.chunks);
	r->symbols = in->symbols->n;
	jsonw_end_object(w);
	return 0;
}

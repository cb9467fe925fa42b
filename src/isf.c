#include "isf.h"

#include "log.h"

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

/* Type of one symbol: BTF's own VAR first (exact for this build), then the
 * symdb row for this kernel version if its type exists here, else void. */
static void write_symbol_type(const struct isf_input *in, struct jsonw *w, const struct symbol *sym,
			      uint64_t percpu_start, struct isf_report *r)
{
	const char *name = symbol_name(in->symbols, sym);
	uint32_t offset = 0, var_type = isf_types_var_type(in->types, name, &offset);
	const char *expr;

	/* BTF's variables are per-CPU ones; a name can also belong to another,
	 * non-per-CPU symbol (the one kept of several): the offset tells. */
	if (var_type && sym->addr == percpu_start + offset) {
		isf_types_write_descriptor(in->types, w, var_type);
		r->typed_by_btf++;
		return;
	}
	expr = symdb_lookup(in->symdb, name, &in->version);
	if (expr && symdb_type_valid(expr, in->types)) {
		symdb_write_type(expr, w);
		r->typed_by_symdb++;
		return;
	}
	if (expr) {
		r->symdb_missing_type++;
		if (!r->missing_example[0])
			snprintf(r->missing_example, sizeof(r->missing_example), "%s (%s)", name, expr);
	}
	r->void_typed++;
	symdb_write_type("void", w);
}

static void write_symbols(const struct isf_input *in, struct jsonw *w, struct isf_report *r)
{
	const struct symbols *s = in->symbols;
	const struct symbol *pcpu = symbols_find(s, "__per_cpu_start");
	uint64_t percpu_start = pcpu ? pcpu->addr : 0;

	jsonw_start_object(w);
	for (size_t i = 0; i < s->n; i++) {
		const char *name = symbol_name(s, &s->v[i]);
		jsonw_name(w, name);
		jsonw_start_object(w);
		jsonw_name(w, "type");
		write_symbol_type(in, w, &s->v[i], percpu_start, r);
		jsonw_name(w, "address");
		jsonw_uint(w, s->v[i].addr);
		if (!strcmp(name, "linux_banner")) {
			char *b64 = base64_encode(in->banner.p, in->banner.n);
			jsonw_name(w, "constant_data");
			jsonw_string(w, b64);
			free(b64);
		}
		jsonw_end_object(w);
	}
	jsonw_end_object(w);
	r->symbols = s->n;
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

	jsonw_start_object(w);
	jsonw_name(w, "metadata");
	write_metadata(in, w);
	jsonw_name(w, "base_types");
	isf_types_write_base_types(in->types, w);
	jsonw_name(w, "user_types");
	isf_types_write_user_types(in->types, w);
	jsonw_name(w, "enums");
	isf_types_write_enums(in->types, w);
	jsonw_name(w, "symbols");
	write_symbols(in, w, r);
	jsonw_end_object(w);
	return 0;
}

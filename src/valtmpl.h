/* Value templates: JSON values that differ from one use to the next only in
 * one unsigned number, rendered once per key and kept cut around that number.
 *
 * A profile is mostly such values: a symbol is {"type": T, "address": N}
 * with a few thousand distinct T for ~200k symbols, a struct field is
 * {"type": T, "offset": N} with T one of the types fields use.  Placing one
 * costs two copies and a number instead of a writer call per token.
 *
 * One set per rendering thread (no locking); keys are the caller's. */
#ifndef B2I_VALTMPL_H
#define B2I_VALTMPL_H

#include "jsonw.h"

#include <stdbool.h>
#include <stdint.h>

struct value_template {
	const char *p;		/* the bytes before the number, then those after it */
	uint32_t before, after;
	bool valid;		/* false: the renderer declined (nothing to place) */
};

struct value_templates;

/* Values stand `depth` levels deep in a document written in that mode. */
struct value_templates *value_templates_new(bool pretty, unsigned depth);
void value_templates_free(struct value_templates *vt);

/* Writes a key's value, with the number written as jsonw_uint(w, 0) and no
 * digit 0 after it; false when the key has no value (it then stays
 * invalid). */
typedef bool value_render_fn(struct jsonw *w, uint64_t key, void *arg);

/* The key's template, rendered by render(arg) on first use. */
struct value_template value_template(struct value_templates *vt, uint64_t key, value_render_fn *render, void *arg);

/* Places the template's value with number v (a valid template). */
static inline void value_template_put(struct jsonw *w, const struct value_template *t, uint64_t v)
{
	jsonw_raw_value_around_uint(w, t->p, t->before, v, t->p + t->before, t->after);
}

#endif

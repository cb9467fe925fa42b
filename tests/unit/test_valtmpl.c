/* Value templates: placing a value from its template must give exactly the
 * bytes that writing it out gives, in both layouts and at any depth; each
 * key is rendered once; a declined key stays declined. */
#include "check.h"
#include "util.h"
#include "valtmpl.h"

#include <stdlib.h>

#define DEPTH 2	/* the values of the members of the document's one object */

/* A value that depends on the key, with the number n among other digits
 * (a 0 in the key's name, in a list) and a key-dependent tail after it. */
static void write_value(struct jsonw *w, uint64_t key, uint64_t n)
{
	char kind[32];

	snprintf(kind, sizeof(kind), "k%llu0", (unsigned long long)key);
	jsonw_start_object(w);
	jsonw_name(w, "kind");
	jsonw_string(w, kind);
	jsonw_name(w, "list");
	jsonw_start_array(w);
	jsonw_uint(w, 10);
	jsonw_uint(w, key);
	jsonw_end_array(w);
	jsonw_name(w, "n");
	jsonw_uint(w, n);
	if (key & 1) {
		jsonw_name(w, "flag");
		jsonw_bool(w, true);
	}
	jsonw_end_object(w);
}

static unsigned renders;

static bool render(struct jsonw *w, uint64_t key, void *arg)
{
	(void)arg;
	renders++;
	if (key == UINT64_MAX)
		return false;	/* the key a caller has no value for */
	write_value(w, key, 0);
	return true;
}

/* Members "m<i>" whose values use key i % nkeys and a number from the
 * sequence; by writing each value out, or from templates. */
static void members(struct buf *out, bool pretty, size_t count, uint64_t nkeys, bool templated)
{
	struct jsonw *w = jsonw_new_members(out, pretty, DEPTH - 1);
	struct value_templates *vt = value_templates_new(pretty, DEPTH);

	check_rng_state = 42;
	for (size_t i = 0; i < count; i++) {
		char name[32];
		uint64_t key = i % nkeys, n = check_random() >> (check_random() & 63);
		snprintf(name, sizeof(name), "m%zu", i);
		jsonw_name(w, name);
		if (!templated) {
			write_value(w, key, n);
			continue;
		}
		struct value_template t = value_template(vt, key, render, NULL);
		value_template_put(w, &t, n);
	}
	value_templates_free(vt);
	jsonw_free(w);
}

static void same_bytes(bool pretty, size_t count, uint64_t nkeys)
{
	struct buf direct = { 0 }, placed = { 0 };

	members(&direct, pretty, count, nkeys, false);
	renders = 0;
	members(&placed, pretty, count, nkeys, true);
	CHECK(direct.len && direct.len == placed.len && !memcmp(direct.p, placed.p, direct.len),
	      "%s, %zu values of %llu keys: placed from templates = written out (%zu bytes)",
	      pretty ? "pretty" : "compact", count, (unsigned long long)nkeys, direct.len);
	CHECK(renders == (count < nkeys ? count : nkeys), "each key rendered once: %u renders", renders);
	buf_free(&direct);
	buf_free(&placed);
}

static void declined(void)
{
	struct value_templates *vt = value_templates_new(false, DEPTH);

	renders = 0;
	struct value_template a = value_template(vt, UINT64_MAX, render, NULL);
	struct value_template b = value_template(vt, UINT64_MAX, render, NULL);
	unsigned asked = renders;
	struct value_template c = value_template(vt, 7, render, NULL);
	CHECK(!a.valid && !b.valid && asked == 1, "a declined key is invalid, asked once (%u renders)", asked);
	CHECK(c.valid && c.before > 0 && c.after > 0, "the next key is still rendered");
	value_templates_free(vt);
}

int main(void)
{
	for (int pretty = 0; pretty <= 1; pretty++) {
		same_bytes(pretty, 5000, 37);
		same_bytes(pretty, 6000, 3000);	/* the table grows several times */
	}
	declined();
	return check_finish();
}

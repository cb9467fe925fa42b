#include "valtmpl.h"

#include "util.h"

#include <stdlib.h>

struct slot {
	uint64_t key;
	uint32_t off, before, after;	/* into json; before 0: invalid */
	bool used;
};

/* Open addressing on the key; cap is a power of two, at most half full. */
struct value_templates {
	struct slot *slots;
	size_t cap, n;
	struct buf json;
	bool pretty;
	unsigned depth;
};

struct value_templates *value_templates_new(bool pretty, unsigned depth)
{
	struct value_templates *vt = xcalloc(1, sizeof(*vt));

	vt->pretty = pretty;
	vt->depth = depth;
	return vt;
}

void value_templates_free(struct value_templates *vt)
{
	if (!vt)
		return;
	free(vt->slots);
	buf_free(&vt->json);
	free(vt);
}

static struct slot *slot_of(const struct value_templates *vt, uint64_t key)
{
	size_t h = (size_t)((key ^ key >> 29) * 0x9e3779b97f4a7c15ull >> 17) & (vt->cap - 1);
	while (vt->slots[h].used && vt->slots[h].key != key)
		h = (h + 1) & (vt->cap - 1);
	return &vt->slots[h];
}

static void grow(struct value_templates *vt)
{
	struct slot *old = vt->slots;
	size_t old_cap = vt->cap;

	vt->cap = vt->cap ? vt->cap * 2 : 1024;
	vt->slots = xcalloc(vt->cap, sizeof(*vt->slots));
	for (size_t i = 0; i < old_cap; i++)
		if (old[i].used)
			*slot_of(vt, old[i].key) = old[i];
	free(old);
}

/* Renders the value at json's end and cuts out its number: the last 0. */
static void render_into(struct value_templates *vt, struct slot *sl, value_render_fn *render, void *arg)
{
	size_t start = vt->json.len;
	struct jsonw *w = jsonw_new_part(&vt->json, vt->pretty, vt->depth);
	bool ok = render(w, sl->key, arg);

	jsonw_free(w);
	size_t end = vt->json.len;
	while (ok && end > start && vt->json.p[end - 1] != '0')
		end--;
	if (!ok || end <= start + 1) {
		vt->json.len = start;	/* declined (or no number: a bug) */
		return;
	}
	size_t zero = end - 1;
	memmove(vt->json.p + zero, vt->json.p + zero + 1, vt->json.len - zero - 1);
	vt->json.len--;
	sl->off = (uint32_t)start;
	sl->before = (uint32_t)(zero - start);
	sl->after = (uint32_t)(vt->json.len - zero);
}

struct value_template value_template(struct value_templates *vt, uint64_t key, value_render_fn *render, void *arg)
{
	if (2 * (vt->n + 1) > vt->cap)
		grow(vt);
	struct slot *sl = slot_of(vt, key);
	if (!sl->used) {
		*sl = (struct slot){ .key = key, .used = true };
		vt->n++;
		render_into(vt, sl, render, arg);
	}
	if (!sl->before)
		return (struct value_template){ 0 };
	return (struct value_template){ (const char *)vt->json.p + sl->off, sl->before, sl->after, true };
}

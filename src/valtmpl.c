#include "valtmpl.h"

#include "util.h"

#include <stdlib.h>

/* Open addressing on the key; cap is a power of two, at most half full. */
struct value_templates {
	uint64_t *key;
	uint32_t *off, *before, *after;	/* into json; before 0: invalid */
	bool *used;
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
	free(vt->key);
	free(vt->off);
	free(vt->before);
	free(vt->after);
	free(vt->used);
	buf_free(&vt->json);
	free(vt);
}

static size_t slot_of(const struct value_templates *vt, uint64_t key)
{
	size_t h = (size_t)((key ^ key >> 29) * 0x9e3779b97f4a7c15ull >> 17) & (vt->cap - 1);
	while (vt->used[h] && vt->key[h] != key)
		h = (h + 1) & (vt->cap - 1);
	return h;
}

static void grow(struct value_templates *vt)
{
	struct value_templates old = *vt;

	vt->cap = vt->cap ? vt->cap * 2 : 1024;
	vt->key = xcalloc(vt->cap, sizeof(*vt->key));
	vt->off = xcalloc(vt->cap, sizeof(*vt->off));
	vt->before = xcalloc(vt->cap, sizeof(*vt->before));
	vt->after = xcalloc(vt->cap, sizeof(*vt->after));
	vt->used = xcalloc(vt->cap, sizeof(*vt->used));
	for (size_t i = 0; i < old.cap; i++) {
		if (!old.used[i])
			continue;
		size_t h = slot_of(vt, old.key[i]);
		vt->used[h] = true;
		vt->key[h] = old.key[i];
		vt->off[h] = old.off[i];
		vt->before[h] = old.before[i];
		vt->after[h] = old.after[i];
	}
	free(old.key);
	free(old.off);
	free(old.before);
	free(old.after);
	free(old.used);
}

/* Renders the value at json's end and cuts out its number: the last 0. */
static void render_into(struct value_templates *vt, size_t h, value_render_fn *render, void *arg)
{
	size_t start = vt->json.len;
	struct jsonw *w = jsonw_new_part(&vt->json, vt->pretty, vt->depth);
	bool ok = render(w, vt->key[h], arg);

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
	vt->off[h] = (uint32_t)start;
	vt->before[h] = (uint32_t)(zero - start);
	vt->after[h] = (uint32_t)(vt->json.len - zero);
}

struct value_template value_template(struct value_templates *vt, uint64_t key, value_render_fn *render, void *arg)
{
	if (2 * (vt->n + 1) > vt->cap)
		grow(vt);
	size_t h = slot_of(vt, key);
	if (!vt->used[h]) {
		vt->used[h] = true;
		vt->key[h] = key;
		vt->n++;
		render_into(vt, h, render, arg);
	}
	if (!vt->before[h])
		return (struct value_template){ 0 };
	return (struct value_template){ (const char *)vt->json.p + vt->off[h], vt->before[h], vt->after[h], true };
}

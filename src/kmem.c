#include "kmem.h"

#include "log.h"

#include <stdio.h>
#include <stdlib.h>

typedef unsigned long long ull;

int kmem_check_ptr(const struct pt_space *as, uint64_t v, const char *field, const char *owner)
{
	struct pt_walk w;
	const char *what = NULL;

	if (!v)
		return err_set("%s of %s is NULL", field, owner);
	if (!pt_canonical(v, as->levels))
		what = "the non-canonical address";
	else if (!pt_is_kernel(v))
		what = "the user-space address";
	else if (v & 7)
		what = "the misaligned address";
	else if (!pt_translate(as, v, &w))
		what = w.fault == PT_NOT_PRESENT ? "unmapped" : w.fault == PT_NONCANONICAL ? "the non-canonical address"
			: "an address whose page is not in the image:";
	if (!what)
		return 0;
	return err_set("%s of %s points to %s %#llx", field, owner, what, (ull)v);
}

int kmem_read(const struct pt_space *as, uint64_t va, void *buf, size_t len, const char *field,
	      const char *owner)
{
	struct pt_walk w;
	size_t done = 0;

	if (pt_read(as, va, buf, len, &w, &done))
		return 0;
	return err_set("cannot read %s of %s at %#llx: %s at %#llx", field, owner, (ull)va, pt_fault_name(w.fault),
		       (ull)(va + done));
}

int kmem_read_u64(const struct pt_space *as, uint64_t va, uint64_t *v, const char *field, const char *owner)
{
	uint8_t b[8];
	if (kmem_read(as, va, b, 8, field, owner) < 0)
		return -1;
	*v = rd_le64(b);
	return 0;
}

/* A set of addresses (cycle detection).  0 is never stored. */
struct vset {
	uint64_t *k;
	size_t cap, n;
};

static bool vset_add(struct vset *s, uint64_t v)
{
	if ((s->n + 1) * 2 > s->cap) {
		size_t ncap = s->cap ? s->cap * 2 : 1024;
		uint64_t *nk = xcalloc(ncap, sizeof(*nk));
		for (size_t i = 0; i < s->cap; i++) {
			if (!s->k[i])
				continue;
			size_t h = (size_t)((s->k[i] * 0x9e3779b97f4a7c15ULL) >> 20) & (ncap - 1);
			while (nk[h])
				h = (h + 1) & (ncap - 1);
			nk[h] = s->k[i];
		}
		free(s->k);
		s->k = nk;
		s->cap = ncap;
	}
	size_t h = (size_t)((v * 0x9e3779b97f4a7c15ULL) >> 20) & (s->cap - 1);
	while (s->k[h]) {
		if (s->k[h] == v)
			return false;
		h = (h + 1) & (s->cap - 1);
	}
	s->k[h] = v;
	s->n++;
	return true;
}

/* One step: from node (described by owner) to next, which is not the head. */
static int list_step(const struct kmem_list *l, struct vset *seen, size_t count, uint64_t node, uint64_t next,
		     const char *owner, const char *fnext, const char *fprev)
{
	char nextone[64];
	uint64_t back;

	if (count >= l->max)
		return err_set("%s: more than %zu %ss without returning to %s", l->field, l->max, l->noun,
			       l->head_name);
	if (kmem_check_ptr(l->as, next, fnext, owner) < 0)
		return -1;
	if (!vset_add(seen, next))
		return err_set("%s of %s points back to %#llx, a %s already visited: the list loops without returning to %s",
			       fnext, owner, (ull)next, l->noun, l->head_name);
	snprintf(nextone, sizeof(nextone), "the next %s", l->noun);
	if (kmem_read_u64(l->as, next + l->prev_off, &back, fprev, nextone) < 0)
		return -1;
	if (back != node)
		return err_set("%s of the %s after %s is %#llx, not %#llx: the list does not link back (wrong %s offset, or a list changing during acquisition)",
			       fprev, l->noun, owner, (ull)back, (ull)node, l->field);
	return 0;
}

int kmem_list_walk(const struct kmem_list *l, kmem_list_fn fn, void *arg)
{
	char fnext[96], fprev[96], owner[192];
	uint64_t node = l->head, next, last;
	struct vset seen = { 0 };
	size_t count = 0;
	int ret = -1;

	snprintf(fnext, sizeof(fnext), "%s.next", l->field);
	snprintf(fprev, sizeof(fprev), "%s.prev", l->field);
	snprintf(owner, sizeof(owner), "%s", l->head_name);
	if (kmem_read_u64(l->as, l->head + l->next_off, &next, fnext, owner) < 0 ||
	    kmem_read_u64(l->as, l->head + l->prev_off, &last, fprev, owner) < 0)
		return -1;
	if (next == l->head && l->if_empty)
		return err_set("%s of %s is an empty list (next points to itself): %s", l->field, owner, l->if_empty);
	vset_add(&seen, l->head);
	while (next != l->head) {
		if (list_step(l, &seen, count, node, next, owner, fnext, fprev) < 0 ||
		    fn(arg, next - l->entry_off, owner, sizeof(owner)) < 0)
			goto out;
		count++;
		node = next;
		if (kmem_read_u64(l->as, node + l->next_off, &next, fnext, owner) < 0)
			goto out;
	}
	if (last != node) {
		err_set("%s of %s is %#llx, but the list ends at %#llx (%s): the list does not link back", fprev,
			l->head_name, (ull)last, (ull)node, owner);
		goto out;
	}
	ret = 0;
out:
	free(seen.k);
	return ret;
}

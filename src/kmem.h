/* Kernel structures read from a memory image through its page tables, for
 * `btf2isf check`'s walk: pointers checked before use, reads and list walks
 * that fail with one message naming the field and its owner
 * ("task_struct.tasks.next of pid 1 (init) points to unmapped 0x…").
 *
 * Images are hostile: every function fails with err_set() and -1, never
 * trusts a pointer it has not checked, and a list walk is bounded and
 * cycle-checked. */
#ifndef B2I_KMEM_H
#define B2I_KMEM_H

#include "pagetable.h"

/* A kernel pointer read from `field` of `owner`: nonzero, canonical, kernel
 * half, 8-byte aligned, mapped. */
int kmem_check_ptr(const struct pt_space *as, uint64_t v, const char *field, const char *owner);

/* len bytes of `field` of `owner` at va. */
int kmem_read(const struct pt_space *as, uint64_t va, void *buf, size_t len, const char *field,
	      const char *owner);
int kmem_read_u64(const struct pt_space *as, uint64_t va, uint64_t *v, const char *field, const char *owner);

/* A circular struct list_head list: the head and the elements that embed a
 * list_head at entry_off.  The names only phrase messages. */
struct kmem_list {
	const struct pt_space *as;
	uint64_t head;			/* virtual address of the head list_head */
	uint64_t entry_off;		/* of the list_head in an element */
	uint64_t next_off, prev_off;	/* list_head.next, list_head.prev */
	size_t max;			/* more elements than this is an error */
	const char *field;		/* "task_struct.tasks" */
	const char *noun;		/* "task": one element */
	const char *head_name;		/* "init_task" */
	const char *if_empty;		/* NULL: an empty list is fine; else why not */
};

/* Called for each element (its address) in list order.  owner[n] holds the
 * previous element's description (head_name for the first); the callback
 * replaces it with this element's ("pid 1 (init)").  A negative return stops
 * the walk; the callback has recorded why. */
typedef int (*kmem_list_fn)(void *arg, uint64_t elem, char *owner, size_t n);

/* Follow next from the head until it returns there, checking each pointer
 * before use, that each element's prev points back, that no element comes
 * twice (a loop that misses the head), at most max elements, and that the
 * head's prev is the last element.  Returns 0, or -1: err_set() for the
 * list's own faults, the callback's record for its. */
int kmem_list_walk(const struct kmem_list *l, kmem_list_fn fn, void *arg);

#endif

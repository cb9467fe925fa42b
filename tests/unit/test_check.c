/* Unit test for src/pagetable.c (x86-64 translation over a synthetic sparse
 * image), src/kmem.c (the bounded, cycle-checked list walk of `check`) and
 * src/profile_read.c (ISF reader: u64 addresses, anonymous-member
 * flattening, malformed and hostile JSON).  Exit 0 pass, 1 fail. */
#include "check.h"
#include "kmem.h"
#include "log.h"
#include "pagetable.h"
#include "profile_read.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- a sparse physical address space ------------------------------------ */

#define LOW_SIZE (4u << 20)		/* [0, 4 MiB) */
#define GIG_PA 0x40000000ULL		/* one page at 1 GiB */
#define HIGH_PA 0x100000000ULL		/* one page at 4 GiB */

static uint8_t *low, *gig, *high;
static struct image_run runs[3];
static struct image img;

static void put(uint64_t pa, uint64_t v)
{
	if (pa + 8 <= LOW_SIZE)
		memcpy(low + pa, &v, 8);
	else if (pa >= GIG_PA && pa + 8 <= GIG_PA + 4096)
		memcpy(gig + (pa - GIG_PA), &v, 8);
	else if (pa >= HIGH_PA && pa + 8 <= HIGH_PA + 4096)
		memcpy(high + (pa - HIGH_PA), &v, 8);
	else
		abort();
}

#define P 0x1ULL
#define PS 0x80ULL
#define NX (1ULL << 63)

/* Tables:  PML5 0x8000 → PML4 0x1000
 *   PML4[511] → PDPT 0x2000; PDPT[510] → PD 0x3000; PD[8] = 2 MiB at 0x200000
 *     (0xffffffff81000000); PD[9] → PT 0xb000 (4 KiB pages, 0xffffffff81200000)
 *   PML4[273] → PDPT 0x4000 (0xffff888000000000)
 *     PDPT[0] → PD 0x5000; PD[0] → PT 0x6000: PT[1] = 0x7000, PT[3] = 0x9000,
 *       PT[4] = 0xa000 (not contiguous), PT[5] = HIGH_PA, PT[6] = 0x3ff000,
 *       PT[7] = 0x400000 (outside the image), PT[8] = 0x20000 (lists)
 *     PDPT[1] = 1 GiB page at GIG_PA (only its first 4 KiB exist)
 *   PML4[1] → PDPT 0x900000 (outside the image)
 *   PML4[2] = PS set (reserved at this level)
 *   PML4[0] → PDPT 0xc000 → PD 0xd000 → PT 0xe000: user page 0x400000 → 0x10000 */
static void build_image(void)
{
	low = calloc(1, LOW_SIZE);
	gig = calloc(1, 4096);
	high = calloc(1, 4096);
	if (!low || !gig || !high)
		abort();
	runs[0] = (struct image_run){ 0, { low, LOW_SIZE } };
	runs[1] = (struct image_run){ GIG_PA, { gig, 4096 } };
	runs[2] = (struct image_run){ HIGH_PA, { high, 4096 } };
	img = (struct image){ .format = IMAGE_RAW, .runs = runs, .nruns = 3, .present = LOW_SIZE + 8192 };

	put(0x8000 + 511 * 8, 0x1000 | P);
	put(0x1000 + 511 * 8, 0x2000 | P | NX | (0x7ffULL << 52));	/* high bits must be masked */
	put(0x2000 + 510 * 8, 0x3000 | P);
	put(0x3000 + 8 * 8, 0x200000 | P | PS | (1ULL << 12));		/* bit 12 = PAT on a large page */
	put(0x3000 + 9 * 8, 0xb000 | P);
	put(0xb000 + 0 * 8, 0x300000 | P);
	put(0x1000 + 273 * 8, 0x4000 | P);
	put(0x4000 + 0 * 8, 0x5000 | P);
	put(0x5000 + 0 * 8, 0x6000 | P);
	put(0x6000 + 1 * 8, 0x7000 | P);
	put(0x6000 + 3 * 8, 0x9000 | P);
	put(0x6000 + 4 * 8, 0xa000 | P);
	put(0x6000 + 5 * 8, HIGH_PA | P);
	put(0x6000 + 6 * 8, 0x3ff000 | P);
	put(0x6000 + 7 * 8, 0x400000 | P);	/* just past the end of the image */
	put(0x6000 + 8 * 8, 0x20000 | P);
	put(0x4000 + 1 * 8, GIG_PA | P | PS);
	put(0x1000 + 1 * 8, 0x900000 | P);
	put(0x1000 + 2 * 8, 0x200000 | P | PS);
	put(0x1000 + 0 * 8, 0xc000 | P);
	put(0xc000 + 0 * 8, 0xd000 | P);
	put(0xd000 + 2 * 8, 0xe000 | P);	/* 0x400000 >> 21 = 2 */
	put(0xe000 + 0 * 8, 0x10000 | P);
	memcpy(low + 0x200000 + 0x1234, "kernel-2M", 9);
	memcpy(low + 0x7000 + 0x10, "direct-4K", 9);
	memcpy(low + 0x9000 + 0xffe, "ab", 2);
	memcpy(low + 0xa000, "cd", 2);
	memcpy(gig + 0x123, "gig", 3);
	memcpy(high + 8, "high", 4);
	memcpy(low + 0x10000, "user", 4);
	memcpy(low + 0x300000, "text4k", 6);
}

static void test_translate(void)
{
	struct pt_space as4 = { &img, 0x1000, 4 }, as5 = { &img, 0x8000 | 0x18, 5 };
	struct pt_walk w;
	char b[16];
	size_t done;

	CHECK(pt_translate(&as4, 0xffffffff81001234ULL, &w) && w.pa == 0x201234 && w.page_size == 0x200000,
	      "2 MiB page: pa %#llx size %#llx", (unsigned long long)w.pa, (unsigned long long)w.page_size);
	CHECK(pt_read(&as4, 0xffffffff81001234ULL, b, 9, &w, NULL) && !memcmp(b, "kernel-2M", 9), "read in a 2 MiB page");
	CHECK(pt_translate(&as5, 0xffffffff81001234ULL, &w) && w.pa == 0x201234, "5-level root (low CR3 bits ignored)");
	CHECK(pt_translate(&as4, 0xffff888000001010ULL, &w) && w.pa == 0x7010 && w.page_size == 4096, "4 KiB page");
	CHECK(pt_read(&as4, 0xffff888000001010ULL, b, 9, NULL, NULL) && !memcmp(b, "direct-4K", 9), "read in a 4 KiB page");
	CHECK(pt_read(&as4, 0xffff888000003ffeULL, b, 4, &w, &done) && !memcmp(b, "abcd", 4) && done == 4,
	      "read across two non-contiguous 4 KiB pages");
	CHECK(!pt_read(&as4, 0xffff888000001ffeULL, b, 4, &w, &done) && done == 2 && w.fault == PT_NOT_PRESENT &&
		      w.level == 1,
	      "read into an unmapped page stops after %zu bytes at level %d (%s)", done, w.level, pt_fault_name(w.fault));
	CHECK(pt_translate(&as4, 0xffff888040000123ULL, &w) && w.pa == GIG_PA + 0x123 && w.page_size == 0x40000000ULL,
	      "1 GiB page");
	CHECK(!pt_translate(&as4, 0xffff888040002000ULL, &w) && w.fault == PT_PAGE_MISSING,
	      "1 GiB page, frame absent from the image: %s", pt_fault_name(w.fault));
	CHECK(pt_read(&as4, 0xffff888000005008ULL, b, 4, NULL, NULL) && !memcmp(b, "high", 4), "page above 4 GiB");
	CHECK(!pt_translate(&as4, 0x0000800000000000ULL, &w) && w.fault == PT_NONCANONICAL, "non-canonical (4-level)");
	CHECK(!pt_translate(&as5, 0x0000800000000000ULL, &w) && w.fault == PT_NOT_PRESENT,
	      "the same address is canonical with 5 levels: %s", pt_fault_name(w.fault));
	CHECK(!pt_translate(&as5, 0x0100000000000000ULL, &w) && w.fault == PT_NONCANONICAL, "non-canonical (5-level)");
	CHECK(!pt_translate(&as4, 0x0000008000000000ULL, &w) && w.fault == PT_TABLE_MISSING && w.level == 3,
	      "table outside the image: %s at level %d", pt_fault_name(w.fault), w.level);
	CHECK(!pt_translate(&as4, 0x0000010000000000ULL, &w) && w.fault == PT_RESERVED, "PS bit at PML4: %s",
	      pt_fault_name(w.fault));
	CHECK(pt_translate(&as4, 0x400004, &w) && w.pa == 0x10004, "user page");
	CHECK(pt_read(&as4, 0x400000, b, 4, NULL, NULL) && !memcmp(b, "user", 4), "read a user page");
	CHECK(!pt_translate(&as4, 0xffff888000002000ULL, &w) && w.fault == PT_NOT_PRESENT, "PTE not present");
	struct pt_space bad = { &img, 0x1000, 3 };
	CHECK(!pt_translate(&bad, 0, &w) && w.fault == PT_BAD_LEVELS, "3 levels refused");
	struct pt_space outside = { &img, 0x800000, 4 };
	CHECK(!pt_translate(&outside, 0xffffffff81000000ULL, &w) && w.fault == PT_TABLE_MISSING, "root outside the image");
	CHECK(!pt_read(&as4, 0xffff888000006ff8ULL, b, 16, &w, &done) && done == 8 && w.fault == PT_PAGE_MISSING,
	      "read running off the end of the image: %zu bytes, %s", done, pt_fault_name(w.fault));
	uint64_t v;
	CHECK(!pt_read_u64(&as4, 0xfffffffffffffffcULL, &v, &w), "read wrapping past 2^64 fails");
	CHECK(pt_canonical(0xffff800000000000ULL, 4) && !pt_canonical(0xfff0800000000000ULL, 4) &&
		      pt_canonical(0xff00000000000000ULL, 5) && pt_canonical(0x00007fffffffffffULL, 4),
	      "canonical forms");
	CHECK(pt_phys_read(&img, LOW_SIZE - 4, b, 4) && !pt_phys_read(&img, LOW_SIZE - 4, b, 8),
	      "physical reads stop at a hole");

	uint64_t va = 0, pa = 0;
	CHECK(pt_kernel_text(&img, 0x1000, 4, &va, &pa) && va == 0xffffffff81000000ULL && pa == 0x200000,
	      "kernel text: first present PMD (va %#llx, pa %#llx)", (unsigned long long)va, (unsigned long long)pa);
	CHECK(pt_kernel_text(&img, 0x8000, 5, &va, &pa) && va == 0xffffffff81000000ULL, "kernel text, 5 levels");
	CHECK(!pt_kernel_text(&img, 0x1000, 5, &va, &pa), "a 4-level root walked as 5-level fails");
	put(0x3000 + 8 * 8, 0);		/* now _text is mapped by 4 KiB pages */
	CHECK(pt_kernel_text(&img, 0x1000, 4, &va, &pa) && va == 0xffffffff81200000ULL && pa == 0x300000,
	      "kernel text in 4 KiB pages (va %#llx, pa %#llx)", (unsigned long long)va, (unsigned long long)pa);
	put(0x3000 + 8 * 8, 0x200000 | P | PS);

	/* Hostile: a table that points at itself at every level must end. */
	put(0x3ff000 + 511 * 8, 0x3ff000 | P);
	struct pt_space loop = { &img, 0x3ff000, 5 };
	CHECK(!pt_translate(&loop, 0xffffffffffff0000ULL, &w) && w.fault == PT_NOT_PRESENT,
	      "self-referencing tables end in %d steps (%s)", 5 - w.level + 1, pt_fault_name(w.fault));
}

/* ---- list walk ------------------------------------------------------------- */

/* In the page at LIST_VA: the head list_head at 0, element i at 0x100 * (i + 1)
 * with its list_head at ENTRY (next, then prev). */
#define LIST_VA 0xffff888000008000ULL
#define LIST_PA 0x20000ULL
#define ENTRY 0x10

static uint64_t elem_va(int i) { return LIST_VA + 0x100 * (uint64_t)(i + 1); }
static uint64_t node_va(int i) { return i < 0 ? LIST_VA : elem_va(i) + ENTRY; }
static void set_next(int i, uint64_t v) { put(LIST_PA + (node_va(i) - LIST_VA), v); }
static void set_prev(int i, uint64_t v) { put(LIST_PA + (node_va(i) - LIST_VA) + 8, v); }

/* A proper circular list of n elements (-1 is the head). */
static void make_list(int n)
{
	for (int i = -1; i < n; i++) {
		set_next(i, node_va(i + 1 < n ? i + 1 : -1));
		set_prev(i, node_va(i > -1 ? i - 1 : n - 1));
	}
}

struct visits {
	uint64_t elem[8];
	size_t n, stop_at;
};

static int visit(void *arg, uint64_t elem, char *owner, size_t n)
{
	struct visits *v = arg;
	if (v->n < ARRAY_SIZE(v->elem))
		v->elem[v->n] = elem;
	snprintf(owner, n, "element %zu", v->n++);
	return v->n == v->stop_at ? err_set("the visit stops") : 0;
}

static const struct pt_space list_as = { &img, 0x1000, 4 };

/* Walk the list with at most max elements; *v gets the visits. */
static int walk(size_t max, const char *if_empty, struct visits *v)
{
	const struct kmem_list l = {
		.as = &list_as, .head = LIST_VA, .entry_off = ENTRY, .next_off = 0, .prev_off = 8, .max = max,
		.field = "t.list", .noun = "element", .head_name = "the head", .if_empty = if_empty,
	};
	err_clear();
	return kmem_list_walk(&l, visit, v);
}

/* The walk fails with a message containing want after n visits. */
static void walk_fails(size_t max, size_t n, const char *want, const char *what)
{
	struct visits v = { 0 };
	int r = walk(max, NULL, &v);
	CHECK(r < 0 && v.n == n && strstr(err_get(), want), "%s: %s after %zu visits: %s", what,
	      r < 0 ? "fails" : "passes", v.n, err_get());
}

static void test_list_walk(void)
{
	struct visits v = { 0 };

	make_list(3);
	CHECK(walk(3, NULL, &v) == 0 && v.n == 3 && v.elem[0] == elem_va(0) && v.elem[2] == elem_va(2),
	      "three elements, in order, at their containing addresses (%s)", err_get());
	walk_fails(2, 2, "t.list: more than 2 elements without returning to the head", "a list longer than the bound");

	set_next(2, node_va(1));	/* head -> 0 -> 1 -> 2 -> 1: a loop that misses the head */
	walk_fails(100, 3, "t.list.next of element 2 points back to 0xffff888000008210, a element already visited: the list loops without returning to the head",
		   "a rho-shaped loop");
	set_next(2, node_va(2));
	walk_fails(100, 3, "t.list.next of element 2 points back to 0xffff888000008310", "an element pointing to itself");

	make_list(3);
	set_next(0, 0xffff888000002000ULL + ENTRY);	/* PT[2] is not present */
	walk_fails(100, 1, "t.list.next of element 0 points to unmapped 0xffff888000002010", "an unmapped next");
	set_next(0, node_va(1) + 4);
	walk_fails(100, 1, "t.list.next of element 0 points to the misaligned address 0xffff888000008214",
		   "a misaligned next");
	set_next(0, 0);
	walk_fails(100, 1, "t.list.next of element 0 is NULL", "a NULL next");
	set_next(0, 0x400000 + ENTRY);
	walk_fails(100, 1, "points to the user-space address 0x400010", "a user-space next");
	set_next(0, 0xdead000000000100ULL);
	walk_fails(100, 1, "points to the non-canonical address 0xdead000000000100", "a non-canonical next");

	make_list(3);
	set_prev(1, node_va(-1));
	walk_fails(100, 1, "t.list.prev of the element after element 0 is 0xffff888000008000, not 0xffff888000008110",
		   "a prev that does not point back");
	make_list(3);
	set_prev(-1, node_va(0));
	walk_fails(100, 3, "t.list.prev of the head is 0xffff888000008110, but the list ends at 0xffff888000008310 (element 2)",
		   "a head whose prev is not the last element");
	make_list(3);
	v = (struct visits){ .stop_at = 2 };
	CHECK(walk(100, NULL, &v) < 0 && v.n == 2 && !strcmp(err_get(), "the visit stops"),
	      "a failing visit stops the walk with its own message");

	make_list(0);
	v = (struct visits){ 0 };
	CHECK(walk(100, NULL, &v) == 0 && v.n == 0, "an empty list, allowed");
	CHECK(walk(100, "nothing to walk", &v) < 0 &&
		      !strcmp(err_get(), "t.list of the head is an empty list (next points to itself): nothing to walk"),
	      "an empty list, refused: %s", err_get());
	set_next(-1, 0xffff888000002000ULL);
	CHECK(walk(100, NULL, &v) < 0 && strstr(err_get(), "t.list.next of the head points to unmapped"),
	      "the head's next is checked too: %s", err_get());
}

/* ---- profile reader --------------------------------------------------------- */

static const char profile_json[] =
	"{\"metadata\": {\"producer\": {\"name\": \"unit\", \"version\": \"1.2\"}, \"format\": \"6.2.0\"},\n"
	" \"base_types\": {\n"
	"  \"int\": {\"size\": 4, \"signed\": true, \"kind\": \"int\", \"endian\": \"little\"},\n"
	"  \"char\": {\"size\": 1, \"signed\": true, \"kind\": \"char\", \"endian\": \"little\"},\n"
	"  \"pointer\": {\"size\": 8, \"signed\": false, \"kind\": \"int\", \"endian\": \"little\"}},\n"
	" \"user_types\": {\n"
	"  \"list_head\": {\"kind\": \"struct\", \"size\": 16, \"fields\": {\n"
	"    \"next\": {\"type\": {\"kind\": \"pointer\", \"subtype\": {\"kind\": \"struct\", \"name\": \"list_head\"}}, \"offset\": 0},\n"
	"    \"prev\": {\"type\": {\"kind\": \"pointer\", \"subtype\": {\"kind\": \"struct\", \"name\": \"list_head\"}}, \"offset\": 8}}},\n"
	"  \"task_struct\": {\"kind\": \"struct\", \"size\": 200, \"fields\": {\n"
	"    \"pid\": {\"type\": {\"kind\": \"base\", \"name\": \"int\"}, \"offset\": 4},\n"
	"    \"unnamed_field_0\": {\"type\": {\"kind\": \"union\", \"name\": \"u1\"}, \"offset\": 16, \"anonymous\": true},\n"
	"    \"comm\": {\"type\": {\"kind\": \"array\", \"count\": 16, \"subtype\": {\"kind\": \"base\", \"name\": \"char\"}}, \"offset\": 64},\n"
	"    \"lock\": {\"type\": {\"kind\": \"struct\", \"name\": \"spinlock_t\"}, \"offset\": 80},\n"
	"    \"grid\": {\"type\": {\"kind\": \"array\", \"count\": 3, \"subtype\": {\"kind\": \"array\", \"count\": 2, \"subtype\": {\"kind\": \"base\", \"name\": \"int\"}}}, \"offset\": 96},\n"
	"    \"weird \\\"key\\\\\": {\"type\": {\"kind\": \"base\", \"name\": \"int\"}, \"offset\": 120},\n"
	"    \"flag\": {\"type\": {\"kind\": \"bitfield\", \"bit_position\": 3, \"bit_length\": 1, \"type\": {\"kind\": \"base\", \"name\": \"int\"}}, \"offset\": 124}}},\n"
	"  \"u1\": {\"kind\": \"union\", \"size\": 32, \"fields\": {\n"
	"    \"tasks\": {\"type\": {\"kind\": \"struct\", \"name\": \"list_head\"}, \"offset\": 8},\n"
	"    \"unnamed_field_0\": {\"type\": {\"kind\": \"struct\", \"name\": \"s2\"}, \"offset\": 0, \"anonymous\": true}}},\n"
	"  \"s2\": {\"kind\": \"struct\", \"size\": 8, \"fields\": {\n"
	"    \"deep\": {\"type\": {\"kind\": \"base\", \"name\": \"int\"}, \"offset\": 4}}},\n"
	"  \"spinlock_t\": {\"kind\": \"struct\", \"size\": 4, \"fields\": {}},\n"
	"  \"loop\": {\"kind\": \"struct\", \"size\": 8, \"fields\": {\n"
	"    \"unnamed_field_0\": {\"type\": {\"kind\": \"struct\", \"name\": \"loop\"}, \"offset\": 0, \"anonymous\": true}}},\n"
	"  \"nofields\": {\"kind\": \"struct\", \"size\": 8}\n"
	" },\n"
	" \"enums\": {},\n"
	" \"symbols\": {\n"
	"  \"init_task\": {\"type\": {\"kind\": \"struct\", \"name\": \"task_struct\"}, \"address\": 18446744071606217280},\n"
	"  \"max\": {\"address\": 18446744073709551615},\n"
	"  \"linux_banner\": {\"address\": 18446744071589000000, \"constant_data\": \"TGludXggdmVyc2lvbiA2LjEuMCAoYikgKGMpICMxIFNNUAoA\"},\n"
	"  \"neg\": {\"address\": -5},\n"
	"  \"dbl\": {\"address\": 1.5e19},\n"
	"  \"str\": {\"address\": \"0xffff\"},\n"
	"  \"dup\": {\"address\": 1},\n"
	"  \"dup\": {\"address\": 2},\n"
	"  \"broken\": {\"address\": 1 2}\n"
	" }\n"
	"}\n";

static void test_profile(void)
{
	struct isf *p;
	uint64_t a;
	struct isf_field f;

	int r = isf_open_mem(profile_json, strlen(profile_json), &p);
	CHECK(r == 0, "synthetic profile opens (%s)", r ? err_get() : "ok");
	if (r)
		return;
	CHECK_STR(isf_producer(p), "unit 1.2", "producer");
	CHECK(isf_ntypes(p) == 7 && isf_nsymbols(p) == 9, "index: %zu types, %zu symbols", isf_ntypes(p),
	      isf_nsymbols(p));
	CHECK(isf_symbol(p, "init_task", &a) == 1 && a == 0xffffffff82a1aa40ULL, "u64 address exact: %#llx",
	      (unsigned long long)a);
	CHECK(isf_symbol(p, "max", &a) == 1 && a == UINT64_MAX, "2^64-1 exact");
	CHECK(isf_symbol(p, "absent", &a) == 0, "absent symbol");
	CHECK(isf_symbol(p, "neg", &a) < 0, "negative address refused: %s", err_get());
	CHECK(isf_symbol(p, "dbl", &a) < 0, "floating-point address refused");
	CHECK(isf_symbol(p, "str", &a) < 0, "string address refused");
	CHECK(isf_symbol(p, "dup", &a) == 1 && a == 2, "duplicate name: the last wins (%llu)", (unsigned long long)a);
	CHECK(isf_symbol(p, "broken", &a) < 0 && strstr(err_get(), "broken"), "malformed entry: %s", err_get());
	struct span b;
	CHECK(isf_banner(p, &b) == 0 && b.n == 36 && !memcmp(b.p, "Linux version 6.1.0 (b) (c) #1 SMP\n", 36),
	      "banner decoded (%zu bytes)", b.n);

	CHECK(isf_field(p, "task_struct", "pid", &f) == 0 && f.offset == 4 && f.type.kind == ISF_KIND_BASE &&
		      f.type.size == 4,
	      "direct member");
	CHECK(isf_field(p, "task_struct", "tasks", &f) == 0 && f.offset == 24 && f.type.kind == ISF_KIND_STRUCT &&
		      !strcmp(f.type.name, "list_head") && f.type.size == 16,
	      "member of an anonymous union: offset %llu", (unsigned long long)f.offset);
	CHECK(isf_field(p, "task_struct", "deep", &f) == 0 && f.offset == 20, "two anonymous levels: offset %llu",
	      (unsigned long long)f.offset);
	CHECK(isf_field(p, "task_struct", "comm", &f) == 0 && f.offset == 64 && f.type.kind == ISF_KIND_ARRAY &&
		      f.type.count == 16 && f.type.size == 16 && f.type.sub_kind == ISF_KIND_BASE && f.type.sub_size == 1,
	      "char array");
	CHECK(isf_field(p, "task_struct", "lock", &f) == 0 && f.type.size == 4 && !strcmp(f.type.name, "spinlock_t"),
	      "typedef-named struct reference resolves");
	CHECK(isf_field(p, "task_struct", "grid", &f) == 0 && f.type.size == 24 && f.type.sub_size == 8,
	      "array of arrays: %llu bytes", (unsigned long long)f.type.size);
	CHECK(isf_field(p, "task_struct", "flag", &f) == 0 && f.type.kind == ISF_KIND_BITFIELD && f.type.size == 4,
	      "bitfield");
	CHECK(isf_field(p, "task_struct", "weird \"key\\", &f) == 0 && f.offset == 120,
	      "member names with JSON escapes are decoded");
	CHECK(isf_field(p, "list_head", "prev", &f) == 0 && f.offset == 8 && f.type.kind == ISF_KIND_POINTER &&
		      f.type.size == 8 && !strcmp(f.type.sub_name, "list_head"),
	      "pointer member");
	CHECK(isf_field(p, "task_struct", "nope", &f) < 0 && strstr(err_get(), "task_struct has no member nope"),
	      "missing member: %s", err_get());
	CHECK(isf_field(p, "no_such_type", "x", &f) < 0 && strstr(err_get(), "no user type no_such_type"),
	      "missing type: %s", err_get());
	CHECK(isf_field(p, "loop", "x", &f) < 0, "self-containing anonymous member terminates");
	CHECK(isf_field(p, "nofields", "x", &f) < 0 && strstr(err_get(), "fields"), "type without fields: %s",
	      err_get());
	uint64_t sz;
	CHECK(isf_user_type_size(p, "task_struct", &sz) == 1 && sz == 200, "user type size");
	CHECK(isf_base_type_size(p, "pointer", &sz) == 1 && sz == 8, "base type size");
	isf_close(p);
}

static void expect_bad(const char *json, const char *what, const char *want)
{
	struct isf *p = NULL;
	int r = isf_open_mem(json, strlen(json), &p);
	CHECK(r < 0 && !p && (!want || strstr(err_get(), want)), "%s refused: %s", what, r < 0 ? err_get() : "accepted");
	isf_close(p);
}

static void test_profile_hostile(void)
{
	expect_bad("", "empty input", "empty");
	expect_bad("[]", "top-level array", "expected an object");
	expect_bad("{\"symbols\": {}, \"user_types\": {}}", "no base_types", "base_types");
	expect_bad("{\"symbols\": {}, \"base_types\": {}}", "no user_types", "user_types");
	expect_bad("{\"user_types\": {}, \"base_types\": {}}", "no symbols", "symbols");
	expect_bad("{\"symbols\": {\"a\": {\"address\": 1}", "truncated", "not valid ISF JSON");
	expect_bad("{\"symbols\": {\"a\": \"unterminated", "unterminated string", "not valid ISF JSON");
	expect_bad("{\"symbols\": {}, \"user_types\": {}, \"base_types\": {}} trailing", "trailing data", "after");
	expect_bad("{\"symbols\" {}}", "missing colon", "':'");
	expect_bad("{\"symbols\": {} \"x\": 1}", "missing comma", "','");

	/* 100000 nested arrays: no recursion, refused by the depth limit. */
	size_t n = 100000;
	char *deep = malloc(2 * n + 64);
	strcpy(deep, "{\"x\": ");
	size_t o = strlen(deep);
	memset(deep + o, '[', n);
	memset(deep + o + n, ']', n);
	strcpy(deep + o + 2 * n, ", \"symbols\": {}, \"user_types\": {}, \"base_types\": {}}");
	expect_bad(deep, "100000-deep nesting", "deeply nested");
	free(deep);

	/* Strings full of escaped quotes and backslashes are skipped correctly. */
	static const char esc[] =
		"{\"junk\": \"a\\\"b\\\\\\\"c\\\\\", \"symbols\": {\"s\\\\\": {\"address\": 7}, \"t\": {\"address\": 9}},"
		" \"user_types\": {}, \"base_types\": {}}";
	struct isf *p;
	uint64_t a = 0;
	int r = isf_open_mem(esc, strlen(esc), &p);
	CHECK(r == 0 && isf_symbol(p, "t", &a) == 1 && a == 9, "escapes skipped (%s)", r ? err_get() : "ok");
	if (!r)
		isf_close(p);

	static const char nobanner[] =
		"{\"symbols\": {\"linux_banner\": {\"address\": 1}}, \"user_types\": {}, \"base_types\": {}}";
	struct span b;
	r = isf_open_mem(nobanner, strlen(nobanner), &p);
	CHECK(r == 0 && isf_banner(p, &b) < 0 && strstr(err_get(), "constant_data"), "banner without constant_data: %s",
	      err_get());
	if (!r)
		isf_close(p);
	static const char badb64[] = "{\"symbols\": {\"linux_banner\": {\"address\": 1, \"constant_data\": \"ab$c\"}},"
				     " \"user_types\": {}, \"base_types\": {}}";
	r = isf_open_mem(badb64, strlen(badb64), &p);
	CHECK(r == 0 && isf_banner(p, &b) < 0 && strstr(err_get(), "base64"), "bad base64: %s", err_get());
	if (!r)
		isf_close(p);

	/* Every proper prefix of the synthetic profile (bar the final newline)
	 * is refused, never a crash. */
	size_t ok = 0, len = strlen(profile_json);
	for (size_t i = 0; i + 1 < len; i++) {
		if (isf_open_mem(profile_json, i, &p) == 0) {
			ok++;
			isf_close(p);
		}
	}
	CHECK(ok == 0, "all %zu truncations refused (%zu accepted)", len, ok);
	/* Random single-byte corruptions: exercise the lookups on what opens. */
	char *m = malloc(len + 1);
	unsigned seed = 12345;
	for (int i = 0; i < 3000; i++) {
		memcpy(m, profile_json, len + 1);
		seed = seed * 1103515245u + 12345u;
		m[(seed >> 8) % len] = (char)(seed >> 16);
		if (isf_open_mem(m, len, &p) == 0) {
			struct isf_field f;
			isf_symbol(p, "init_task", &a);
			isf_banner(p, &b);
			isf_field(p, "task_struct", "tasks", &f);
			isf_field(p, "task_struct", "comm", &f);
			isf_close(p);
		}
	}
	free(m);
	CHECK(1, "3000 corrupted profiles handled");
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	build_image();
	test_translate();
	test_list_walk();
	test_profile();
	test_profile_hostile();
	free(low);
	free(gig);
	free(high);
	return check_finish();
}

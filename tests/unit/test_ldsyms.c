/* ldsyms_derive(): each rule where it applies and only there, on tables shaped
 * like 6.1 (zero-based per-CPU symbols, ORC) and 7.2 (per-CPU symbols at kernel
 * addresses, labelled Xen notes); the values are those of Debian's System.map. */
#include "check.h"
#include "ldsyms.h"

struct sym {
	const char *name;
	uint64_t addr;
};

static void table(struct symbols *s, const struct sym *v, size_t n)
{
	memset(s, 0, sizeof(*s));
	for (size_t i = 0; i < n; i++)
		symbols_add(s, v[i].name, strlen(v[i].name), v[i].addr, 'T', v[i].addr < KERNEL_VA_MIN);
	symbols_finish(s);
}

static const struct symbol_def *get(const struct symbol_def *d, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(d[i].name, name))
			return &d[i];
	return NULL;
}

static void expect(const struct symbol_def *d, size_t n, const char *name, uint64_t want, const char *what)
{
	const struct symbol_def *x = get(d, n, name);
	CHECK(x && x->addr == want && x->absolute && x->type == 'A', "%s: %s = %#llx (want %#llx)", what, name,
	      x ? (unsigned long long)x->addr : 0ULL, (unsigned long long)want);
}

int main(void)
{
	static const struct sym k61[] = {
		{ "_text", 0xffffffff81000000 }, { "_stext", 0xffffffff81000000 },
		{ "startup_64", 0xffffffff81000000 }, { "_etext", 0xffffffff81e01d32 },
		{ "orc_lookup", 0xffffffff8300ada0 }, { "__per_cpu_load", 0xffffffff83044000 },
		{ "fixed_percpu_data", 0 }, { "irq_stack_backing_store", 0x2000 }, { "gdt_page", 0xb000 },
		{ "startup_xen", 0xffffffff830791c0 }, { "pvh_start_xen", 0xffffffff81000850 },
	};
	static const struct sym k72[] = {
		{ "_text", 0xffffffff81000000 }, { "_stext", 0xffffffff81000000 },
		{ "startup_64", 0xffffffff839cee70 }, { "_etext", 0xffffffff822ca8e0 },
		{ "orc_lookup", 0xffffffff8396d9f0 }, { "gdt_page", 0xffffffff83e16000 },
		{ "irq_stack_backing_store", 0xffffffff83e0d000 },
		{ "xen_elfnote_entry", 0xffffffff82c2f56c }, { "xen_elfnote_phys32_entry", 0xffffffff82c2f4e0 },
		{ "startup_xen", 0xffffffff839cf130 }, { "pvh_start_xen", 0xffffffff839ce030 },
	};
	struct symbol_def d[LDSYMS_MAX];
	struct symbols s;
	size_t n;

	table(&s, k61, ARRAY_SIZE(k61));
	n = ldsyms_derive(&s, &(struct kver){ 6, 1, 0 }, d);
	CHECK(n == 5, "6.1: %zu derived, want 5 (no Xen note labels)", n);
	expect(d, n, "phys_startup_64", 0x1000000, "6.1");
	expect(d, n, "text_size", 0xe01d32, "6.1");
	expect(d, n, "init_per_cpu__fixed_percpu_data", 0xffffffff83044000, "6.1");
	expect(d, n, "init_per_cpu__irq_stack_backing_store", 0xffffffff83046000, "6.1");
	expect(d, n, "init_per_cpu__gdt_page", 0xffffffff8304f000, "6.1");
	n = ldsyms_derive(&s, &(struct kver){ 5, 15, 0 }, d);
	CHECK(n == 4 && !get(d, n, "text_size"), "5.15: no text_size (ORC's rule came in 5.16): %zu", n);
	symbols_free(&s);

	table(&s, k72, ARRAY_SIZE(k72));
	n = ldsyms_derive(&s, &(struct kver){ 7, 2, 0 }, d);
	CHECK(n == 4, "7.2: %zu derived, want 4 (no INIT_PER_CPU)", n);
	expect(d, n, "phys_startup_64", 0x39cee70, "7.2");
	expect(d, n, "text_size", 0x12ca8e0, "7.2");
	expect(d, n, "xen_elfnote_entry_value", 0xffffffff065fe69c, "7.2");
	expect(d, n, "xen_elfnote_phys32_entry_value", 0xffffffff865fd510, "7.2");
	symbols_free(&s);

	/* Not x86-64 (no startup_64): nothing. */
	static const struct sym arm[] = { { "_text", 0xffff800080000000 }, { "_stext", 0xffff800080010000 } };
	table(&s, arm, ARRAY_SIZE(arm));
	CHECK(ldsyms_derive(&s, &(struct kver){ 6, 1, 0 }, d) == 0, "no startup_64: nothing derived");
	symbols_free(&s);
	return check_finish();
}

#include "ldsyms.h"

/* LOAD_OFFSET of arch/x86/kernel/vmlinux.lds.S on x86-64: __START_KERNEL_map. */
#define LOAD_OFFSET 0xffffffff80000000ULL

/* A kernel-image address, not a per-CPU offset or a constant. */
static const struct symbol *find_va(const struct symbols *s, const char *name)
{
	const struct symbol *sym = symbols_find(s, name);
	return sym && sym->addr >= LOAD_OFFSET ? sym : NULL;
}

static bool at_least(const struct kver *v, unsigned major, unsigned minor)
{
	return v->major != major ? v->major > major : v->minor >= minor;
}

size_t ldsyms_derive(const struct symbols *s, const struct kver *v, struct symbol_def out[LDSYMS_MAX])
{
	const struct symbol *a, *b;
	size_t n = 0;
#define ADD(name, value) (out[n++] = (struct symbol_def){ name, value, 'A', true })

	/* Every rule below is x86-64's: startup_64 is its entry point. */
	if (!(a = find_va(s, "startup_64")))
		return 0;
	/* vmlinux.lds.S: phys_startup_64 = ABSOLUTE(startup_64 - LOAD_OFFSET). */
	ADD("phys_startup_64", a->addr - LOAD_OFFSET);

	/* include/asm-generic/vmlinux.lds.h, ORC_UNWIND_TABLE (the ORC
	 * unwinder, whose orc_lookup it places), since 5.16:
	 * text_size = _etext - _stext. */
	if (at_least(v, 5, 16) && find_va(s, "orc_lookup") && (a = find_va(s, "_etext")) &&
	    (b = find_va(s, "_stext")) && a->addr >= b->addr)
		ADD("text_size", a->addr - b->addr);

	/* vmlinux.lds.S while per-CPU symbols were zero-based offsets:
	 * INIT_PER_CPU(x): init_per_cpu__x = ABSOLUTE(x) + __per_cpu_load,
	 * for these three.  Where per-CPU symbols have kernel addresses
	 * (7.x) the rule is gone. */
	static const struct { const char *var, *sym; } init_per_cpu[] = {
		{ "gdt_page", "init_per_cpu__gdt_page" },
		{ "fixed_percpu_data", "init_per_cpu__fixed_percpu_data" },
		{ "irq_stack_backing_store", "init_per_cpu__irq_stack_backing_store" },
	};
	if ((b = find_va(s, "__per_cpu_load")))
		for (size_t i = 0; i < ARRAY_SIZE(init_per_cpu); i++)
			if ((a = symbols_find(s, init_per_cpu[i].var)) && a->addr < KERNEL_VA_MIN)
				ADD(init_per_cpu[i].sym, a->addr + b->addr);

	/* vmlinux.lds.S, in kernels whose arch/x86/xen/xen-head.S labels the
	 * ELF notes' fields (older ones have neither label nor rule): a note
	 * holds _value - field, a constant the linker never relocates.
	 *   xen_elfnote_entry_value = ABSOLUTE(xen_elfnote_entry) + ABSOLUTE(startup_xen)
	 *   xen_elfnote_phys32_entry_value = ABSOLUTE(xen_elfnote_phys32_entry) +
	 *				       ABSOLUTE(pvh_start_xen - LOAD_OFFSET) */
	if ((a = find_va(s, "xen_elfnote_entry")) && (b = find_va(s, "startup_xen")))
		ADD("xen_elfnote_entry_value", a->addr + b->addr);
	if ((a = find_va(s, "xen_elfnote_phys32_entry")) && (b = find_va(s, "pvh_start_xen")))
		ADD("xen_elfnote_phys32_entry_value", a->addr + (b->addr - LOAD_OFFSET));
#undef ADD
	return n;
}

/* The vmlinux ELF reader (vmlinux.c): section and program headers, lookups
 * by name and address, .symtab, and the prefix a decompression may stop at. */
#include "fuzz.h"
#include "vmlinux.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct span file = { data, size };
	struct vmlinux v;

	fuzz_quiet();
	(void)vmlinux_needed_prefix(file);
	if (vmlinux_open(file, &v) < 0)
		return 0;
	static const char *names[] = { ".BTF", ".rodata", ".text", ".symtab", ".init.data", "" };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const struct vmlinux_section *s = vmlinux_section(&v, names[i]);
		struct span at;
		if (s)
			(void)vmlinux_bytes_at(&v, s->va, &at);
	}
	for (size_t i = 0; i < v.nsec; i++) {
		struct span at;
		(void)vmlinux_bytes_at(&v, v.sec[i].va + v.sec[i].bytes.n / 2, &at);
	}
	struct symbols syms = { 0 };
	if (vmlinux_read_symtab(&v, &syms) == 0) {
		symbols_finish(&syms);
		(void)symbols_find(&syms, "linux_banner");
	}
	symbols_free(&syms);
	vmlinux_close(&v);
	return 0;
}

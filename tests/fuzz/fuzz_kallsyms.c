/* kallsyms tables (kallsyms.c): the input is a region of kernel bytes (a
 * slice of .rodata); every table in it is located and decoded. */
#include "fuzz.h"
#include "kallsyms.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kallsyms_table *t = NULL;
	struct span r = { data, size };

	fuzz_quiet();
	/* A vmlinux's link address, as profile.c passes for a file. */
	int n = kallsyms_carve_all(r, 0xffffffff81000000ULL, &t);
	for (int i = 0; i < n; i++) {
		size_t len = 0;
		for (size_t k = 0; k < t[i].n; k++) {
			const struct ksym *s = ksym_by_name(&t[i], k);
			if (s->name >= t[i].names_size)
				abort();	/* names must stay inside their pool */
			len += strlen(ksym_name(&t[i], s));
		}
		(void)len;
		(void)kallsyms_layout_name(t[i].layout);
	}
	kallsyms_free_all(t, n);
	/* The single-table entry point, which also compares copies. */
	struct kallsyms_table one;
	memset(&one, 0, sizeof(one));
	if (n > 0 && kallsyms_carve(r, 0, &one) == 0)
		kallsyms_free(&one);
	return 0;
}

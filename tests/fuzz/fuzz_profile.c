/* The ISF reader of `btf2isf check` (profile_read.c): plain, xz, gzip or
 * bzip2 JSON, recognised by content, then the questions check asks. */
#include "fuzz.h"
#include "profile_read.h"

static const char *const symbols[] = {
	"init_task", "init_top_pgt", "init_level4_pgt", "init_files", "modules", "init_uts_ns",
	"linux_banner", "",
};
static const char *const fields[][2] = {
	{ "task_struct", "tasks" }, { "task_struct", "pid" }, { "task_struct", "comm" },
	{ "task_struct", "state" }, { "task_struct", "__state" }, { "task_struct", "mm" },
	{ "list_head", "next" }, { "module", "name" }, { "mm_struct", "pgd" },
	{ "uts_namespace", "name" }, { "new_utsname", "release" }, { "files_struct", "fdt" },
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[64];
	struct isf *p;
	int fd;

	fuzz_quiet();
	if ((fd = fuzz_memfd(data, size, path)) < 0)
		return 0;
	if (isf_open(path, &p) == 0) {
		uint64_t v;
		struct span banner;
		struct isf_field f;
		(void)isf_nsymbols(p);
		(void)isf_ntypes(p);
		(void)isf_producer(p);
		(void)isf_bytes(p);
		for (size_t i = 0; i < sizeof(symbols) / sizeof(symbols[0]); i++)
			(void)isf_symbol(p, symbols[i], &v);
		(void)isf_banner(p, &banner);
		(void)isf_banner(p, &banner);	/* the second call is served from the cache */
		for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
			(void)isf_field(p, fields[i][0], fields[i][1], &f);
			(void)isf_user_type_size(p, fields[i][0], &v);
		}
		(void)isf_base_type_size(p, "pointer", &v);
		(void)isf_base_type_size(p, "unsigned long", &v);
		isf_close(p);
	}
	close(fd);
	return 0;
}

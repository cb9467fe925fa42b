/* A vmlinux ELF held in memory (mapped file or decompressed buffer):
 * section lookup by name and by virtual address, and its .symtab. */
#ifndef B2I_VMLINUX_H
#define B2I_VMLINUX_H

#include "symbols.h"
#include "util.h"

struct vmlinux_section {
	const char *name;
	uint64_t va;
	struct span bytes;	/* empty for SHT_NOBITS */
	uint64_t flags;
};

struct vmlinux {
	struct span file;		/* borrowed */
	struct vmlinux_section *sec;	/* owned */
	size_t nsec;
	struct span symtab, strtab;	/* .symtab and its string table, if present */
	bool is_64;
};

/* Parse section headers; -1 with err_set() if `file` is not a usable ELF. */
int vmlinux_open(struct span file, struct vmlinux *v);
void vmlinux_close(struct vmlinux *v);

const struct vmlinux_section *vmlinux_section(const struct vmlinux *v, const char *name);
/* Bytes from virtual address va to the end of the section holding it. */
bool vmlinux_bytes_at(const struct vmlinux *v, uint64_t va, struct span *out);
/* Add the named defined symbols of .symtab; -1 (no err) if there is none. */
int vmlinux_read_symtab(const struct vmlinux *v, struct symbols *s);

#endif

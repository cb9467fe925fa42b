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

/* A loadable segment: how the file maps to virtual addresses when the
 * section headers are absent (a vmlinux decompressed only as far as needed). */
struct vmlinux_segment {
	uint64_t va;
	struct span bytes;
	bool writable;
};

struct vmlinux {
	struct span file;		/* borrowed */
	struct vmlinux_section *sec;	/* owned; none for a truncated file */
	size_t nsec;
	struct vmlinux_segment *seg;	/* owned */
	size_t nseg;
	struct span symtab, strtab;	/* .symtab and its string table, if present */
	bool is_64;
};

/* Parse section and program headers; -1 with err_set() if `file` is not a
 * usable ELF.  A file cut after its read-only segments (see
 * vmlinux_needed_prefix) opens with segments only. */
int vmlinux_open(struct span file, struct vmlinux *v);

/* How many leading bytes of a vmlinux hold everything a profile needs (the
 * segments that are not writable: text, rodata with kallsyms, .BTF and the
 * banner); SIZE_MAX while `so_far` is too short to tell. */
size_t vmlinux_needed_prefix(struct span so_far);
void vmlinux_close(struct vmlinux *v);

const struct vmlinux_section *vmlinux_section(const struct vmlinux *v, const char *name);
/* Bytes from virtual address va to the end of the section holding it. */
bool vmlinux_bytes_at(const struct vmlinux *v, uint64_t va, struct span *out);
/* Add the named defined symbols of .symtab; -1 (no err) if there is none. */
int vmlinux_read_symtab(const struct vmlinux *v, struct symbols *s);

#endif

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
	uint64_t off, size;	/* as the header says */
	bool past_end;		/* the header points past the end of the file */
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
	bool ro_cut;			/* a read-only PT_LOAD is not wholly in the file */
	uint64_t ro_cut_off, ro_cut_size;
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
/* A section's bytes: 1 with *out, 0 when absent or empty, -1 (err_set)
 * when its header points past the end of the file (truncated or corrupt). */
int vmlinux_section_bytes(const struct vmlinux *v, const char *name, struct span *out);
/* Bytes from virtual address va to the end of the section holding it. */
bool vmlinux_bytes_at(const struct vmlinux *v, uint64_t va, struct span *out);
/* Add the named defined symbols of .symtab; -1 (no err) if there is none. */
int vmlinux_read_symtab(const struct vmlinux *v, struct symbols *s);

#endif

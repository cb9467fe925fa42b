#include "vmlinux.h"

#include "log.h"

#include <elf.h>
#include <stdio.h>
#include <stdlib.h>

/* Plain bounds-checked reading of the ELF64 headers: the input may be a
 * carved or truncated file, so every table is checked against the file size. */
static const char *section_name(struct span shstr, uint32_t off)
{
	if (off >= shstr.n)
		return "";
	const char *s = (const char *)shstr.p + off;
	return memchr(s, 0, shstr.n - off) ? s : "";
}

/* The diagnosis for a header that points past the end: the file was cut
 * (or is corrupt), which is not the same as the section being absent. */
static int past_end(const char *what, uint64_t off, uint64_t size, size_t file_size)
{
	return err_set("ELF: %s at offset %#llx size %#llx extends past the end of the %zu-byte file: truncated or corrupt",
		       what, (unsigned long long)off, (unsigned long long)size, file_size);
}

static struct span file_range(struct span f, uint64_t off, uint64_t size)
{
	if (!span_has(f, off, size))
		return (struct span){ NULL, 0 };
	return (struct span){ f.p + off, (size_t)size };
}

/* PT_LOAD segments whose file bytes are present (wholly or in part). */
static int read_segments(struct vmlinux *v, const Elf64_Ehdr *eh)
{
	if (eh->e_phentsize != sizeof(Elf64_Phdr))
		return err_set("ELF: program header entries of %u bytes, not %zu", eh->e_phentsize,
			       sizeof(Elf64_Phdr));
	if (!span_has(v->file, eh->e_phoff, (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr)))
		return past_end("program header table", eh->e_phoff,
				(uint64_t)eh->e_phnum * sizeof(Elf64_Phdr), v->file.n);
	v->seg = xcalloc(eh->e_phnum ? eh->e_phnum : 1, sizeof(*v->seg));
	for (unsigned i = 0; i < eh->e_phnum; i++) {
		Elf64_Phdr ph;
		memcpy(&ph, v->file.p + eh->e_phoff + (size_t)i * sizeof(ph), sizeof(ph));
		if (ph.p_type == PT_LOAD && !(ph.p_flags & PF_W) && !span_has(v->file, ph.p_offset, ph.p_filesz) &&
		    !v->ro_cut) {
			v->ro_cut = true;	/* an error only without section headers */
			v->ro_cut_off = ph.p_offset;
			v->ro_cut_size = ph.p_filesz;
		}
		if (ph.p_type != PT_LOAD || !ph.p_filesz || ph.p_offset >= v->file.n)
			continue;
		uint64_t len = ph.p_filesz < v->file.n - ph.p_offset ? ph.p_filesz : v->file.n - ph.p_offset;
		v->seg[v->nseg++] = (struct vmlinux_segment){
			ph.p_vaddr, { v->file.p + ph.p_offset, (size_t)len }, (ph.p_flags & PF_W) != 0 };
	}
	return 0;
}

size_t vmlinux_needed_prefix(struct span so_far)
{
	Elf64_Ehdr eh;
	uint64_t end = 0;

	if (so_far.n < sizeof(eh))
		return SIZE_MAX;
	memcpy(&eh, so_far.p, sizeof(eh));
	if (eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum == 0)
		return 0;	/* not ours to judge: let the caller fail on it */
	if (!span_has(so_far, eh.e_phoff, (uint64_t)eh.e_phnum * sizeof(Elf64_Phdr)))
		return SIZE_MAX;
	for (unsigned i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;
		memcpy(&ph, so_far.p + eh.e_phoff + (size_t)i * sizeof(ph), sizeof(ph));
		if (ph.p_type == PT_LOAD && !(ph.p_flags & PF_W) && ph.p_offset + ph.p_filesz > end)
			end = ph.p_offset + ph.p_filesz;
	}
	return end && end < SIZE_MAX ? (size_t)end : SIZE_MAX;
}

static int parse_headers(struct span file, struct vmlinux *v)
{
	Elf64_Ehdr eh;

	if (file.n < sizeof(eh) || memcmp(file.p, ELFMAG, SELFMAG))
		return err_set("not an ELF file");
	memcpy(&eh, file.p, sizeof(eh));
	if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB)
		return err_set("ELF: only little-endian 64-bit kernels are supported (class %u, data %u)",
			       eh.e_ident[EI_CLASS], eh.e_ident[EI_DATA]);
	v->is_64 = true;
	if (read_segments(v, &eh) < 0)
		return -1;
	if (eh.e_shentsize != sizeof(Elf64_Shdr) || eh.e_shnum == 0 ||
	    !span_has(file, eh.e_shoff, (uint64_t)eh.e_shnum * sizeof(Elf64_Shdr))) {
		/* A vmlinuz decompressed only as far as needed ends after its
		 * read-only segments: they must all be there. */
		if (v->ro_cut)
			return past_end("read-only segment", v->ro_cut_off, v->ro_cut_size, file.n);
		if (v->nseg)
			return 0;
		if (eh.e_shentsize != sizeof(Elf64_Shdr) || eh.e_shnum == 0)
			return err_set("ELF: no section headers and no loadable segments");
		return past_end("section header table", eh.e_shoff, (uint64_t)eh.e_shnum * sizeof(Elf64_Shdr),
				file.n);
	}

	const uint8_t *sh = file.p + eh.e_shoff;
	Elf64_Shdr strsh;
	if (eh.e_shstrndx >= eh.e_shnum)
		return err_set("ELF: section name table index %u out of range", eh.e_shstrndx);
	memcpy(&strsh, sh + (size_t)eh.e_shstrndx * sizeof(Elf64_Shdr), sizeof(strsh));
	struct span shstr = file_range(file, strsh.sh_offset, strsh.sh_size);
	if (!shstr.p)	/* every name would be "": no .BTF, no .rodata */
		return past_end("section name table", strsh.sh_offset, strsh.sh_size, file.n);

	v->sec = xcalloc(eh.e_shnum, sizeof(*v->sec));
	for (unsigned i = 0; i < eh.e_shnum; i++) {
		Elf64_Shdr s;
		memcpy(&s, sh + (size_t)i * sizeof(Elf64_Shdr), sizeof(s));
		struct vmlinux_section *out = &v->sec[v->nsec++];
		out->name = section_name(shstr, s.sh_name);
		out->va = s.sh_addr;
		out->flags = s.sh_flags;
		out->off = s.sh_offset;
		out->size = s.sh_size;
		if (s.sh_type != SHT_NOBITS) {
			out->bytes = file_range(file, s.sh_offset, s.sh_size);
			out->past_end = s.sh_size && !out->bytes.p;
		}
		if (s.sh_type == SHT_SYMTAB && s.sh_link < eh.e_shnum) {
			Elf64_Shdr ls;
			memcpy(&ls, sh + (size_t)s.sh_link * sizeof(Elf64_Shdr), sizeof(ls));
			/* Else the symbols would silently come from elsewhere. */
			if (out->past_end)
				return past_end("section .symtab", s.sh_offset, s.sh_size, file.n);
			v->symtab = out->bytes;
			v->strtab = file_range(file, ls.sh_offset, ls.sh_size);
			if (ls.sh_size && !v->strtab.p)
				return past_end("the string table of .symtab", ls.sh_offset, ls.sh_size, file.n);
		}
	}
	return 0;
}

int vmlinux_open(struct span file, struct vmlinux *v)
{
	memset(v, 0, sizeof(*v));
	v->file = file;
	if (parse_headers(file, v) == 0)
		return 0;
	vmlinux_close(v);	/* the segments read so far (found leaking by fuzz_vmlinux) */
	return -1;
}

void vmlinux_close(struct vmlinux *v)
{
	free(v->sec);
	free(v->seg);
	memset(v, 0, sizeof(*v));
}

const struct vmlinux_section *vmlinux_section(const struct vmlinux *v, const char *name)
{
	for (size_t i = 0; i < v->nsec; i++)
		if (!strcmp(v->sec[i].name, name))
			return &v->sec[i];
	return NULL;
}

int vmlinux_section_bytes(const struct vmlinux *v, const char *name, struct span *out)
{
	const struct vmlinux_section *s = vmlinux_section(v, name);
	char what[64];

	*out = (struct span){ NULL, 0 };
	if (!s)
		return 0;
	snprintf(what, sizeof(what), "section %s", name);
	if (s->past_end)
		return past_end(what, s->off, s->size, v->file.n);
	*out = s->bytes;
	return s->bytes.n ? 1 : 0;
}

static bool bytes_in(uint64_t base, struct span bytes, uint64_t va, struct span *out)
{
	if (!bytes.n || va < base || va - base >= bytes.n)
		return false;
	out->p = bytes.p + (va - base);
	out->n = bytes.n - (size_t)(va - base);
	return true;
}

bool vmlinux_bytes_at(const struct vmlinux *v, uint64_t va, struct span *out)
{
	for (size_t i = 0; i < v->nsec; i++)
		if ((v->sec[i].flags & SHF_ALLOC) && bytes_in(v->sec[i].va, v->sec[i].bytes, va, out))
			return true;
	for (size_t i = 0; !v->nsec && i < v->nseg; i++)
		if (bytes_in(v->seg[i].va, v->seg[i].bytes, va, out))
			return true;
	return false;
}

/* nm's letter for a symbol, from binding and the flags of its section. */
static char nm_type(const struct vmlinux *v, const Elf64_Sym *sym)
{
	char c = '?';
	unsigned bind = ELF64_ST_BIND(sym->st_info);

	if (sym->st_shndx == SHN_ABS) {
		c = 'a';
	} else if (sym->st_shndx < v->nsec) {
		const struct vmlinux_section *s = &v->sec[sym->st_shndx];
		if (s->flags & SHF_EXECINSTR)
			c = 't';
		else if (!(s->flags & SHF_WRITE))
			c = 'r';
		else if (!s->bytes.n)
			c = 'b';
		else
			c = 'd';
	}
	if (bind == STB_WEAK)
		return ELF64_ST_TYPE(sym->st_info) == STT_OBJECT ? 'V' : 'W';
	return bind == STB_GLOBAL ? (char)(c - 'a' + 'A') : c;
}

int vmlinux_read_symtab(const struct vmlinux *v, struct symbols *s)
{
	size_t n = v->symtab.n / sizeof(Elf64_Sym);

	if (!n || !v->strtab.n)
		return -1;
	for (size_t i = 1; i < n; i++) {
		Elf64_Sym sym;
		memcpy(&sym, v->symtab.p + i * sizeof(sym), sizeof(sym));
		unsigned type = ELF64_ST_TYPE(sym.st_info);
		if (sym.st_shndx == SHN_UNDEF || type == STT_SECTION || type == STT_FILE ||
		    sym.st_name >= v->strtab.n)
			continue;
		const char *name = (const char *)v->strtab.p + sym.st_name;
		size_t len = strnlen(name, v->strtab.n - sym.st_name);
		if (len == v->strtab.n - sym.st_name)
			continue;	/* unterminated name */
		symbols_add(s, name, len, sym.st_value, nm_type(v, &sym),
			    sym.st_value < KERNEL_VA_MIN);
	}
	return 0;
}

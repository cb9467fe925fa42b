#include "image.h"

#include "log.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <snappy-c.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define LIME_MAGIC 0x4C694D45u
#define AVML_MAGIC 0x4C4D5641u
#define MAX_RUNS 65536

const char *image_format_name(enum image_format f)
{
	switch (f) {
	case IMAGE_RAW: return "raw";
	case IMAGE_LIME: return "LiME";
	case IMAGE_ELF: return "ELF core";
	case IMAGE_AVML: return "AVML";
	}
	return "?";
}

static bool is_elf_core(struct span s)
{
	Elf64_Ehdr eh;
	if (s.n < sizeof(eh) || memcmp(s.p, ELFMAG, SELFMAG))
		return false;
	memcpy(&eh, s.p, sizeof(eh));
	return eh.e_type == ET_CORE;
}

bool image_has_header(struct span head)
{
	if (head.n >= 8 && rd_le32(head.p) == LIME_MAGIC && rd_le32(head.p + 4) == 1)
		return true;
	if (head.n >= 8 && rd_le32(head.p) == AVML_MAGIC && rd_le32(head.p + 4) == 2)
		return true;
	return is_elf_core(head);
}

static int add_run(struct image *img, size_t *cap, uint64_t pa, struct span bytes)
{
	if (!bytes.n)
		return 0;
	if (img->nruns == MAX_RUNS)
		return err_set("more than %d memory ranges", MAX_RUNS);
	if (pa + bytes.n < pa)
		return err_set("range at %#llx wraps around the address space", (unsigned long long)pa);
	if (img->nruns == *cap) {
		*cap = *cap ? *cap * 2 : 64;
		img->runs = xreallocarray(img->runs, *cap, sizeof(*img->runs));
	}
	img->runs[img->nruns++] = (struct image_run){ pa, bytes };
	img->present += bytes.n;
	return 0;
}

/* ---- raw: file offset = physical address; skip sparse holes ---- */

static int open_raw(struct image *img, int fd)
{
	size_t cap = 0;
	off_t pos = 0, size = (off_t)img->file.n;

	while (pos < size) {
		off_t data = lseek(fd, pos, SEEK_DATA);
		if (data < 0) {
			if (errno == ENXIO)	/* only a hole remains */
				break;
			/* No SEEK_DATA support: the whole file is data. */
			return add_run(img, &cap, 0, img->file);
		}
		off_t hole = lseek(fd, data, SEEK_HOLE);
		if (hole < 0 || hole > size)
			hole = size;
		struct span s = { img->file.p + data, (size_t)(hole - data) };
		if (add_run(img, &cap, (uint64_t)data, s) < 0)
			return -1;
		pos = hole;
	}
	return 0;
}

/* ---- LiME and AVML: a 32-byte header per range {magic, version, start,
 * end (inclusive), reserved}, then the range's data ---- */

struct range_header {
	uint64_t start, len;
};

static int read_range_header(struct span f, uint64_t off, const char *format, uint32_t magic,
			     uint32_t version, struct range_header *r)
{
	if (!span_has(f, off, 32))
		return err_set("%s: truncated range header at file offset %#llx", format, (unsigned long long)off);
	const uint8_t *h = f.p + off;
	uint64_t s = rd_le64(h + 8), e = rd_le64(h + 16);
	if (rd_le32(h) != magic || rd_le32(h + 4) != version)
		return err_set("%s: bad range header at file offset %#llx", format, (unsigned long long)off);
	if (e < s || e - s == UINT64_MAX)
		return err_set("%s: range %#llx-%#llx at file offset %#llx is inverted", format,
			       (unsigned long long)s, (unsigned long long)e, (unsigned long long)off);
	r->start = s;
	r->len = e - s + 1;
	return 0;
}

static int open_lime(struct image *img)
{
	struct span f = img->file;
	size_t cap = 0;
	uint64_t off = 0;
	struct range_header r;

	while (off < f.n) {
		if (read_range_header(f, off, "LiME", LIME_MAGIC, 1, &r) < 0)
			return -1;
		uint64_t s = r.start, e = r.start + r.len - 1, len = r.len;
		if (!span_has(f, off + 32, len))
			return err_set("LiME: range %#llx-%#llx runs past the end of the file (truncated image)",
				       (unsigned long long)s, (unsigned long long)e);
		if (add_run(img, &cap, s, (struct span){ f.p + off + 32, (size_t)len }) < 0)
			return -1;
		off += 32 + len;
	}
	return 0;
}

/* ---- ELF core: PT_LOAD by p_paddr; VMCOREINFO note ---- */

static void elf_find_vmcoreinfo(struct image *img, struct span notes)
{
	uint64_t off = 0;

	while (span_has(notes, off, 12)) {
		uint32_t namesz = rd_le32(notes.p + off), descsz = rd_le32(notes.p + off + 4);
		uint64_t name_off = off + 12, desc_off = name_off + ((namesz + 3ULL) & ~3ULL);
		if (!span_has(notes, name_off, namesz) || !span_has(notes, desc_off, descsz))
			return;
		if (namesz == 11 && !memcmp(notes.p + name_off, "VMCOREINFO", 11)) {
			img->vmcoreinfo = (struct span){ notes.p + desc_off, descsz };
			return;
		}
		off = desc_off + ((descsz + 3ULL) & ~3ULL);
	}
}

static int open_elf(struct image *img)
{
	struct span f = img->file;
	Elf64_Ehdr eh;
	size_t cap = 0;

	memcpy(&eh, f.p, sizeof(eh));
	if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB)
		return err_set("ELF core: only little-endian ELF64 is supported");
	if (eh.e_phentsize != sizeof(Elf64_Phdr) ||
	    !span_has(f, eh.e_phoff, (uint64_t)eh.e_phnum * sizeof(Elf64_Phdr)))
		return err_set("ELF core: program headers (%u at %#llx) lie outside the file", eh.e_phnum,
			       (unsigned long long)eh.e_phoff);
	for (unsigned i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;
		memcpy(&ph, f.p + eh.e_phoff + (size_t)i * sizeof(ph), sizeof(ph));
		if (ph.p_type == PT_NOTE && span_has(f, ph.p_offset, ph.p_filesz))
			elf_find_vmcoreinfo(img, (struct span){ f.p + ph.p_offset, (size_t)ph.p_filesz });
		if (ph.p_type != PT_LOAD || !ph.p_filesz)
			continue;
		if (!span_has(f, ph.p_offset, ph.p_filesz))
			return err_set("ELF core: segment %u (%#llx bytes at file offset %#llx) runs past the end of the file (truncated image)",
				       i, (unsigned long long)ph.p_filesz, (unsigned long long)ph.p_offset);
		if (add_run(img, &cap, ph.p_paddr, (struct span){ f.p + ph.p_offset, (size_t)ph.p_filesz }) < 0)
			return -1;
	}
	return 0;
}

/* ---- AVML v2: per range {magic, version, start, end (inclusive), pad} +
 * snappy framing stream + u64 trailer (the stream's compressed size) ---- */

static int avml_frames(struct span in, uint8_t *out, uint64_t want, uint64_t *consumed)
{
	uint64_t off = 0, got = 0;

	while (got < want) {
		if (!span_has(in, off, 4))
			return err_set("AVML: snappy stream ends after %llu of %llu bytes",
				       (unsigned long long)got, (unsigned long long)want);
		uint32_t hdr = rd_le32(in.p + off);
		uint8_t type = hdr & 0xff;
		uint32_t len = hdr >> 8;
		if (!span_has(in, off + 4, len))
			return err_set("AVML: snappy frame at %#llx runs past the data", (unsigned long long)off);
		const uint8_t *body = in.p + off + 4;
		if (type == 0x00 || type == 0x01) {
			if (len < 4)
				return err_set("AVML: snappy frame too short");
			size_t n = (size_t)(want - got);
			if (type == 0x00) {
				if (snappy_uncompressed_length((const char *)body + 4, len - 4, &n) != SNAPPY_OK ||
				    n > want - got ||
				    snappy_uncompress((const char *)body + 4, len - 4, (char *)out + got, &n) != SNAPPY_OK)
					return err_set("AVML: corrupt snappy frame at stream offset %#llx",
						       (unsigned long long)off);
			} else {
				if (len - 4 > want - got)
					return err_set("AVML: frame larger than its range");
				n = len - 4;
				memcpy(out + got, body + 4, n);
			}
			got += n;
		} else if (type >= 0x02 && type <= 0x7f) {
			return err_set("AVML: unskippable snappy chunk type %#x", type);
		}
		off += 4 + len;
	}
	*consumed = off;
	return 0;
}

static int open_avml(struct image *img)
{
	struct span f = img->file;
	uint64_t off = 0;
	size_t cap = 0;

	while (off < f.n) {
		struct range_header r;
		uint64_t used = 0;
		if (read_range_header(f, off, "AVML", AVML_MAGIC, 2, &r) < 0)
			return -1;
		if (r.len > (uint64_t)64 << 30)
			return err_set("AVML: implausible range of %llu bytes at file offset %#llx",
				       (unsigned long long)r.len, (unsigned long long)off);
		uint64_t s = r.start;
		size_t len = (size_t)r.len;
		struct span stream = { f.p + off + 32, f.n - (size_t)off - 32 };
		/* AVML cuts RAM into blocks: a block that continues the previous
		 * one joins its buffer, so a kernel spanning blocks stays one run. */
		struct image_run *prev = img->nruns ? &img->runs[img->nruns - 1] : NULL;
		bool joins = prev && prev->pa + prev->bytes.n == s;
		size_t keep = joins ? prev->bytes.n : 0;
		uint8_t *buf = joins ? img->owned[img->nowned - 1] : NULL;
		buf = xrealloc(buf, keep + len);
		if (avml_frames(stream, buf + keep, len, &used) < 0) {
			if (!joins)
				free(buf);
			else
				img->owned[img->nowned - 1] = buf;
			return -1;
		}
		if (joins) {
			img->owned[img->nowned - 1] = buf;
			prev->bytes = (struct span){ buf, keep + len };
			img->present += len;
		} else {
			img->owned = xreallocarray(img->owned, img->nowned + 1, sizeof(*img->owned));
			img->owned[img->nowned++] = buf;
			if (add_run(img, &cap, s, (struct span){ buf, len }) < 0)
				return -1;
		}
		off += 32 + used + 8;
	}
	return 0;
}

/* ---- common ---- */

static int run_cmp(const void *a, const void *b)
{
	const struct image_run *x = a, *y = b;
	return x->pa < y->pa ? -1 : x->pa > y->pa;
}

int image_open(const char *path, struct image *img)
{
	struct stat st;
	int fd, ret;

	memset(img, 0, sizeof(*img));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_set("%s: cannot open: %s", path, strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size <= 0) {
		close(fd);
		return err_set("%s: not a regular non-empty file", path);
	}
	void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (p == MAP_FAILED) {
		close(fd);
		return err_set("%s: cannot map: %s", path, strerror(errno));
	}
	img->file = (struct span){ p, (size_t)st.st_size };
	img->fd = fd;
	img->fd_open = true;
	if (img->file.n >= 8 && rd_le32(p) == LIME_MAGIC) {
		img->format = IMAGE_LIME;
		ret = open_lime(img);
	} else if (img->file.n >= 8 && rd_le32(p) == AVML_MAGIC) {
		img->format = IMAGE_AVML;
		ret = open_avml(img);
	} else if (is_elf_core(img->file)) {
		img->format = IMAGE_ELF;
		ret = open_elf(img);
	} else {
		img->format = IMAGE_RAW;
		ret = open_raw(img, fd);
	}
	if (ret == 0 && img->nruns > 1) {
		qsort(img->runs, img->nruns, sizeof(*img->runs), run_cmp);
		for (size_t i = 1; i < img->nruns; i++)
			if (img->runs[i].pa < img->runs[i - 1].pa + img->runs[i - 1].bytes.n)
				ret = err_set("%s: memory ranges overlap at physical %#llx",
					      image_format_name(img->format), (unsigned long long)img->runs[i].pa);
	}
	if (ret < 0) {
		err_prefix("%s: ", path);
		image_close(img);
		return -1;
	}
	return 0;
}

void image_close(struct image *img)
{
	for (size_t i = 0; i < img->nowned; i++)
		free(img->owned[i]);
	free(img->owned);
	free(img->runs);
	if (img->file.p)
		munmap((void *)img->file.p, img->file.n);
	if (img->fd_open)
		close(img->fd);
	memset(img, 0, sizeof(*img));
}

static const struct image_run *run_of(const struct image *img, uint64_t pa)
{
	size_t lo = 0, hi = img->nruns;

	while (lo < hi) {	/* last run with run.pa <= pa */
		size_t mid = lo + (hi - lo) / 2;
		if (img->runs[mid].pa <= pa)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo || pa - img->runs[lo - 1].pa >= img->runs[lo - 1].bytes.n)
		return NULL;
	return &img->runs[lo - 1];
}

bool image_window(const struct image *img, uint64_t pa, uint64_t before, uint64_t after,
		  uint64_t *start_pa, struct span *out)
{
	const struct image_run *r = run_of(img, pa);
	if (!r)
		return false;
	uint64_t off = pa - r->pa;
	uint64_t lo = off > before ? off - before : 0;
	uint64_t hi = r->bytes.n - off > after ? off + after : r->bytes.n;
	*start_pa = r->pa + lo;
	*out = (struct span){ r->bytes.p + lo, (size_t)(hi - lo) };
	return true;
}

bool image_at(const struct image *img, uint64_t pa, struct span *out)
{
	const struct image_run *r = run_of(img, pa);
	if (!r)
		return false;
	out->p = r->bytes.p + (pa - r->pa);
	out->n = r->bytes.n - (size_t)(pa - r->pa);
	return true;
}

#include "image.h"

#include "log.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <snappy-c.h>
#include <stdatomic.h>
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

/* A snappy frame: its output offset follows from the lengths of the frames
 * before it, which their headers give, so all frames are listed first and
 * then decoded on every core. */
struct avml_frame {
	const uint8_t *data;	/* compressed (type 0) or stored (type 1) bytes */
	uint32_t len;
	bool compressed;
	size_t range;		/* which range it fills */
	size_t at, n;		/* output offset in the range, and length */
	uint64_t stream_off;	/* for the message if it does not decode */
};

struct avml_range {
	uint64_t start;
	size_t len;
	uint8_t *out;		/* once allocated */
};

struct avml_plan {
	struct avml_frame *v;
	size_t n, cap;
	struct avml_range *ranges;
	size_t nranges;
	/* decoding */
	atomic_size_t next;
	atomic_size_t first_bad;	/* the lowest frame that failed, or n */
};

/* Lists the frames of range `range`, whose stream is `in`. */
static int avml_list_frames(struct span in, size_t range, uint64_t want, uint64_t *consumed,
			    struct avml_plan *pl)
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
			size_t n = len - 4;
			if (type == 0x00 &&
			    snappy_uncompressed_length((const char *)body + 4, len - 4, &n) != SNAPPY_OK)
				return err_set("AVML: corrupt snappy frame at stream offset %#llx",
					       (unsigned long long)off);
			/* A frame holds at most 64 KiB (snappy framing format), and
			 * snappy expands at most 64 bytes per 3 read: a few bytes
			 * claiming GiBs must not size the range's buffer. */
			if (n > 65536 || (type == 0x00 && n > (size_t)(len - 4) * 32))
				return err_set("AVML: snappy frame at stream offset %#llx claims %zu bytes",
					       (unsigned long long)off, n);
			if (n > want - got)
				return err_set("AVML: frame larger than its range");
			if (pl->n == pl->cap) {
				pl->cap = pl->cap ? pl->cap * 2 : 1024;
				pl->v = xreallocarray(pl->v, pl->cap, sizeof(*pl->v));
			}
			pl->v[pl->n++] = (struct avml_frame){ body + 4, len - 4, type == 0x00, range,
							      (size_t)got, n, off };
			got += n;
		} else if (type >= 0x02 && type <= 0x7f) {
			return err_set("AVML: unskippable snappy chunk type %#x", type);
		}
		off += 4 + len;
	}
	*consumed = off;
	return 0;
}

static int avml_list(struct span f, struct avml_plan *pl)
{
	for (uint64_t off = 0; off < f.n;) {
		struct range_header r;
		uint64_t used = 0;
		if (read_range_header(f, off, "AVML", AVML_MAGIC, 2, &r) < 0)
			return -1;
		if (r.len > (uint64_t)64 << 30)
			return err_set("AVML: implausible range of %llu bytes at file offset %#llx",
				       (unsigned long long)r.len, (unsigned long long)off);
		pl->ranges = xreallocarray(pl->ranges, pl->nranges + 1, sizeof(*pl->ranges));
		pl->ranges[pl->nranges] = (struct avml_range){ r.start, (size_t)r.len, NULL };
		struct span stream = { f.p + off + 32, f.n - (size_t)off - 32 };
		if (avml_list_frames(stream, pl->nranges++, r.len, &used, pl) < 0)
			return -1;
		off += 32 + used + 8;
	}
	return 0;
}

/* Decoded ranges are hundreds of MiB of fresh memory: in 2 MiB pages they
 * cost a fault per 2 MiB, not one per 4 KiB (advice only; errors ignored). */
static void advise_huge_pages(uint8_t *p, size_t n)
{
	const uintptr_t huge = 2u << 20;
	uintptr_t lo = ((uintptr_t)p + huge - 1) & ~(huge - 1), hi = ((uintptr_t)p + n) & ~(huge - 1);
	if (hi > lo)
		madvise((void *)lo, hi - lo, MADV_HUGEPAGE);
}

/* One buffer and run per group of ranges that continue each other (AVML
 * cuts RAM into blocks; a kernel spanning blocks must stay one run). */
static int avml_allocate(struct image *img, struct avml_plan *pl)
{
	size_t cap = 0;

	for (size_t i = 0, j; i < pl->nranges; i = j) {
		size_t total = pl->ranges[i].len;
		for (j = i + 1; j < pl->nranges && pl->ranges[j].start == pl->ranges[j - 1].start + pl->ranges[j - 1].len; j++)
			total += pl->ranges[j].len;
		uint8_t *buf = xmalloc(total ? total : 1);
		advise_huge_pages(buf, total);
		img->owned = xreallocarray(img->owned, img->nowned + 1, sizeof(*img->owned));
		img->owned[img->nowned++] = buf;
		for (size_t k = i, at = 0; k < j; at += pl->ranges[k++].len)
			pl->ranges[k].out = buf + at;
		if (add_run(img, &cap, pl->ranges[i].start, (struct span){ buf, total }) < 0)
			return -1;
	}
	return 0;
}

static void avml_decode(void *arg)
{
	struct avml_plan *pl = arg;
	size_t i;

	while ((i = atomic_fetch_add(&pl->next, 1)) < pl->n) {
		const struct avml_frame *f = &pl->v[i];
		uint8_t *out = pl->ranges[f->range].out + f->at;
		size_t n = f->n;
		if (!f->compressed) {
			memcpy(out, f->data, n);
			continue;
		}
		if (snappy_uncompress((const char *)f->data, f->len, (char *)out, &n) == SNAPPY_OK && n == f->n)
			continue;
		size_t bad = atomic_load(&pl->first_bad);
		while (i < bad && !atomic_compare_exchange_weak(&pl->first_bad, &bad, i))
			;
	}
}

/* Ranges and frames first (headers only), then the frames on every core:
 * decoding a 512 MiB image on one core took as long as the rest of a run. */
static int open_avml(struct image *img)
{
	struct avml_plan pl = { 0 };
	int ret = -1;

	if (avml_list(img->file, &pl) == 0 && avml_allocate(img, &pl) == 0) {
		struct thread_job helper;
		atomic_init(&pl.next, 0);
		atomic_init(&pl.first_bad, pl.n);
		thread_job_start(&helper, avml_decode, &pl);
		avml_decode(&pl);
		thread_job_join(&helper);
		size_t bad = atomic_load(&pl.first_bad);
		ret = bad < pl.n ? err_set("AVML: corrupt snappy frame at stream offset %#llx",
					   (unsigned long long)pl.v[bad].stream_off)
				 : 0;
	}
	free(pl.v);
	free(pl.ranges);
	return ret;
}

/* ---- common ---- */

static int run_cmp(const void *a, const void *b)
{
	const struct image_run *x = a, *y = b;
	return x->pa < y->pa ? -1 : x->pa > y->pa;
}

int image_open(const char *path, struct image *img)
{
	memset(img, 0, sizeof(*img));
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_set("%s: cannot open: %s", path, strerror(errno));
	return image_open_fd(fd, path, img);
}

int image_open_fd(int fd, const char *path, struct image *img)
{
	struct stat st;
	int ret;

	memset(img, 0, sizeof(*img));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size <= 0) {
		bool stream = fstat(fd, &st) == 0 && !S_ISREG(st.st_mode);
		close(fd);
		if (stream)	/* the image is mapped, and read at random */
			return err_set("%s: %s, not a regular file: a memory image needs random access: give it as a file",
				       path, file_kind_name(st.st_mode));
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

const uint8_t *image_read(const struct image *img, struct span bytes, uint8_t *buf)
{
	bool in_file = img->fd_open && bytes.p >= img->file.p &&
		       span_has(img->file, (uint64_t)(bytes.p - img->file.p), bytes.n);

	if (in_file && pread(img->fd, buf, bytes.n, (off_t)(bytes.p - img->file.p)) == (ssize_t)bytes.n)
		return buf;
	return bytes.p;
}

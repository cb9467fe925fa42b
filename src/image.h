/* Memory images as a physical address space with holes.
 *
 * Formats are sniffed by magic: LiME (ranges with gaps), ELF64 core (QEMU
 * dump-guest-memory, kdump /proc/vmcore: PT_LOAD by p_paddr, VMCOREINFO from
 * PT_NOTE), AVML v2 (snappy-compressed LiME-like blocks), and raw (file offset
 * = physical address; sparse holes are skipped).  The file is mapped, never
 * read whole; only AVML, being compressed, is decompressed into memory. */
#ifndef B2I_IMAGE_H
#define B2I_IMAGE_H

#include "util.h"

enum image_format { IMAGE_RAW, IMAGE_LIME, IMAGE_ELF, IMAGE_AVML };

/* Physically contiguous bytes present in the image. */
struct image_run {
	uint64_t pa;
	struct span bytes;
};

struct image {
	enum image_format format;
	struct image_run *runs;		/* sorted by pa, non-overlapping */
	size_t nruns;
	uint64_t present;		/* total bytes in runs */
	struct span file;		/* the mapped file */
	int fd;				/* the file, open as long as the image */
	bool fd_open;			/* (a zeroed struct holds no fd) */
	struct span vmcoreinfo;		/* ELF core: VMCOREINFO note text, if any */
	uint8_t **owned;		/* AVML: decompressed ranges */
	size_t nowned;
};

const char *image_format_name(enum image_format f);

/* True when the first bytes are a memory-image container header (LiME, AVML,
 * ELF core).  Raw images have no header: the caller decides. */
bool image_has_header(struct span head);

/* Open `path` as a memory image.  -1 with err_set() on malformed containers
 * (headers pointing outside the file, overlapping ranges, bad compression). */
int image_open(const char *path, struct image *img);
/* The same on an open fd, which the image adopts (closed on failure too). */
int image_open_fd(int fd, const char *path, struct image *img);
void image_close(struct image *img);

/* The bytes at physical address pa, up to the end of its run. */
bool image_at(const struct image *img, uint64_t pa, struct span *out);

/* The part of pa's run within [pa - before, pa + after): its bytes and the
 * physical address of its first byte.  False if pa is not in the image. */
bool image_window(const struct image *img, uint64_t pa, uint64_t before, uint64_t after,
		  uint64_t *start_pa, struct span *out);

/* bytes (part of a run) as a caller can read them: copied into buf with
 * pread when they come from the file, since through the mapping every page
 * would fault in (about 1 us each here), cost as much again to unmap, and
 * count in the peak RSS; else (decoded AVML data, a failed read) where they
 * lie.  buf holds bytes.n bytes. */
const uint8_t *image_read(const struct image *img, struct span bytes, uint8_t *buf);

#endif

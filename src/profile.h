/* From the user's inputs to everything an ISF needs: BTF, symbols at
 * link-time addresses, the exact banner, and provenance for the report. */
#ifndef B2I_PROFILE_H
#define B2I_PROFILE_H

#include "carve.h"
#include "image.h"
#include "isf.h"
#include "package.h"
#include "util.h"
#include "vmlinux.h"

#include <limits.h>
#include <stdbool.h>

struct profile_opts {
	const char *input;	/* kernel file or memory image; "-": stdin */
	const char *btf_path;	/* --btf */
	const char *map_path;	/* --map */
	const char *banner_arg;	/* --banner TEXT|@FILE */
	bool live;		/* --live */
	const char *symdb_path;	/* --symdb */
	const char *kernel;	/* --kernel: pick a kernel in an image by release/banner text */
	struct span bytes;	/* input's contents already in memory (borrowed, e.g. a
				 * package member; input names it): not read from a file */
};

struct profile {
	/* what the ISF is made of */
	struct btf *btf;
	struct isf_types *types;	/* both made by a thread job: see finish_types() */
	struct symbols symbols;
	struct buf banner;		/* exact bytes, "\n\0" included */
	struct buf banner_opt;		/* --banner, as read before the work */
	char release[128];
	struct isf_input isf;		/* ready for isf_write() */
	/* kallsyms is the symbol source: profile_build() adds what System.map
	 * has besides, kallsyms' own tables (found by the input's path, at
	 * link-time addresses) and the linker script's absolute symbols. */
	bool symbols_by_kallsyms;
	struct symbol_def kallsyms_tables[KALLSYMS_TABLE_SYMBOLS];
	size_t nkallsyms_tables;

	/* how it was obtained, for --verbose */
	char input_kind[64];		/* "vmlinuz (zstd) → vmlinux", ... */
	char symbol_source[96];		/* ".symtab", "kallsyms (6.4+ layout, ...)" */
	char banner_source[320];
	bool slide_known;
	uint64_t slide;
	char slide_method[384];
	char *image_report;		/* memory images: kernels found, choice, rejects (owned) */
	char other_banners[512];	/* memory images: banner strings not used */
	size_t btf_size;

	/* owned storage behind the spans above */
	struct mapped_file files[3];
	int nfiles;
	int input_fd;			/* INPUT, kept open for a memory image */
	bool input_fd_open;
	bool input_is_stdin;		/* INPUT "-" */
	struct buf decompressed;
	struct package_blob member;	/* the kernel of a package given as input */
	char member_name[PATH_MAX + 64];
	struct vmlinux vml;
	struct symdb *own_symdb;
	struct image img;
	struct carve_result carve;
	struct hash_job hashing[4];	/* one per isf.sources entry */
	struct thread_job types_job;	/* BTF → btf, types */
	struct span btf_bytes;
	char btf_what[PATH_MAX + 64];	/* names the BTF in messages */
	int btf_errno;
	bool btf_found;
};

/* An option that does not apply to the input, found once the input's kind is
 * known (--kernel with a vmlinuz, --banner with a memory image): exit 2. */
#define PROFILE_MISUSE (-2)

/* 0, -1 (err_set: the input is bad) or PROFILE_MISUSE (err_set).  The
 * result must be freed with profile_free() whatever the outcome; a zeroed
 * struct may be freed too. */
int profile_build(const struct profile_opts *o, struct profile *p);
void profile_free(struct profile *p);

#endif

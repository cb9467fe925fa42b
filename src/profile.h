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
	const char *input;	/* kernel file (vmlinux, vmlinuz, raw BTF) */
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
	char release[128];
	struct isf_input isf;		/* ready for isf_write() */

	/* how it was obtained, for --verbose */
	char input_kind[64];		/* "vmlinuz (zstd) → vmlinux", ... */
	char symbol_source[96];		/* ".symtab", "kallsyms (6.4+ layout, ...)" */
	char banner_source[96];
	bool slide_known;
	uint64_t slide;
	char slide_method[384];
	char image_report[1600];	/* memory images: kernels found, choice, rejects */
	char other_banners[512];	/* memory images: banner strings not used */
	size_t btf_size;

	/* owned storage behind the spans above */
	struct mapped_file files[3];
	int nfiles;
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

int profile_build(const struct profile_opts *o, struct profile *p);
void profile_free(struct profile *p);

#endif

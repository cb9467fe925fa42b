/* Unit test for src/kimage.c.
 *
 * Fixtures are generated at run time in a mkdtemp directory with the CLI
 * compressors (a missing tool skips its codec with a printed reason): a
 * synthetic ELF is compressed with every codec and tried as a bare stream, in a
 * synthetic bzImage, and embedded at an odd offset without a header (fallback
 * scan).  Then hostile inputs: bad header fields, truncation, corruption,
 * non-ELF content, decompression bombs.  With $REF, the real Debian kernels.
 *
 * Protocol: one line per check; exit 0 = all pass, 1 = any fail, 77 = skip. */
#include "kimage.h"
#include "check.h"
#include "log.h"
#include "util.h"

#include <elf.h>
#include <ftw.h>
#include <glob.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif
#ifndef UNDER_ASAN
#define UNDER_ASAN 0
#endif

#define MiB ((size_t)1 << 20)
#define FIXTURE_SIZE (8 * MiB + 300 * 1024)	/* > one 8 MiB lz4 legacy block */

static char tmpdir[256];


/* ---- helpers: shell, files, fixtures ------------------------------------ */

B2I_PRINTF(1, 2)
static int sh(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	int r = system(cmd);
	return r != -1 && WIFEXITED(r) ? WEXITSTATUS(r) : -1;
}

static bool have_tool(const char *tool) { return sh("command -v %s >/dev/null 2>&1", tool) == 0; }

static const char *tmp(const char *name)
{
	static char paths[4][512];
	static unsigned next;
	char *p = paths[next++ % ARRAY_SIZE(paths)];

	snprintf(p, sizeof(paths[0]), "%s/%s", tmpdir, name);
	return p;
}

static void save(const char *path, const void *p, size_t n)
{
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(p, 1, n, f) != n || fclose(f) != 0) {
		fprintf(stderr, "cannot write %s\n", path);
		exit(1);
	}
}

static bool load(const char *path, struct buf *b)
{
	struct mapped_file mf;

	b->len = 0;
	if (map_file(path, &mf) < 0)
		return false;
	buf_append(b, mf.data, mf.size);
	unmap_file(&mf);
	return true;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

/* Without a shell: cleanup must work even when PATH has no rm. */
static void remove_tree(const char *path) { nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS); }

static void put_le16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }
static void put_le32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void append_le32(struct buf *b, uint32_t v) { buf_append(b, &v, 4); }

static void append_fill(struct buf *b, uint8_t byte, size_t n)
{
	buf_reserve(b, n);
	memset(b->p + b->len, byte, n);
	b->len += n;
}

static struct span span_of(const struct buf *b) { return (struct span){ b->p, b->len }; }

/* An ELF header followed by compressible, deterministic filler (words from a
 * small vocabulary mixed with counters), so every codec really compresses. */
static void make_elf_fixture(struct buf *b, size_t size)
{
	static const char *const words[] = { "task_struct", "mm_struct", "init", "cpu", "page",
					     "inode", "dentry", "0x0", "list_head", "spinlock",
					     "__x64_sys_", "kmalloc", "rcu", "irq", "net", "vfs" };
	Elf64_Ehdr eh = { .e_type = ET_EXEC, .e_machine = EM_X86_64, .e_version = EV_CURRENT,
			  .e_ehsize = sizeof(Elf64_Ehdr) };
	uint32_t x = 12345;

	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS64;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_ident[EI_VERSION] = EV_CURRENT;
	b->len = 0;
	buf_append(b, &eh, sizeof(eh));
	while (b->len < size) {
		x = x * 1103515245u + 12345u;
		const char *w = words[(x >> 16) % ARRAY_SIZE(words)];
		buf_append(b, w, strlen(w));
		if ((x >> 8) % 4 == 0)
			append_le32(b, (uint32_t)b->len);
	}
	b->len = size;
}

/* A minimal x86 bzImage: setup sectors with the boot-protocol header, some
 * "code", the payload (stream + le32 size, as the kernel build writes it) and
 * trailing bytes. */
#define FAKE_CODE_LEN 0x2cc

static size_t payload_file_offset(uint8_t setup_sects)
{
	return ((size_t)(setup_sects ? setup_sects : 4) + 1) * 512 + FAKE_CODE_LEN;
}

static void make_bzimage(struct buf *img, struct span stream, uint8_t setup_sects, uint32_t size)
{
	size_t pm = payload_file_offset(setup_sects) - FAKE_CODE_LEN;

	img->len = 0;
	append_fill(img, 0, pm);
	img->p[0x1f1] = setup_sects;
	img->p[0x1fe] = 0x55;
	img->p[0x1ff] = 0xaa;
	memcpy(img->p + 0x202, "HdrS", 4);
	put_le16(img->p + 0x206, 0x020f);
	put_le32(img->p + 0x248, FAKE_CODE_LEN);
	put_le32(img->p + 0x24c, (uint32_t)stream.n + 4);
	append_fill(img, 0x90, FAKE_CODE_LEN);
	buf_append(img, stream.p, stream.n);
	append_le32(img, size);
	append_fill(img, 0xcc, 4096);
}

/* The stream with junk around it and no header: only the scan can find it. */
static void make_embedded(struct buf *img, struct span stream)
{
	img->len = 0;
	append_fill(img, 0xcc, 3001);
	buf_append(img, stream.p, stream.n);
	append_fill(img, 0xee, 4096);
}

/* ---- expectations -------------------------------------------------------- */

static void expect_ok(const char *what, struct span in, const struct buf *want, const char *codec)
{
	struct buf out = { 0 };
	const char *got = NULL;

	err_clear();
	int r = kimage_extract_vmlinux(in, &out, &got);
	bool same = r == 0 && out.len == want->len && !memcmp(out.p, want->p, want->len);
	bool named = r == 0 && got && !strcmp(got, codec);
	if (r < 0)
		check_that(false, "%s: %s", what, err_get());
	else
		check_that(same && named, "%s: %s, %zu bytes%s", what, got ? got : "(no codec)", out.len,
		      same ? "" : " (content differs)");
	buf_free(&out);
}

/* Must fail with a "vmlinuz: ..." message containing `needle` (if given). */
static void expect_fail(const char *what, struct span in, const char *needle)
{
	struct buf out = { 0 };
	const char *got = NULL;

	err_clear();
	int r = kimage_extract_vmlinux(in, &out, &got);
	const char *msg = err_get();
	bool ok = r == -1 && out.len == 0 && !strncmp(msg, "vmlinuz: ", 9) &&
		  (!needle || strstr(msg, needle));
	check_that(ok, "%s refused: %s", what, r == 0 ? "(it succeeded)" : msg);
	buf_free(&out);
}

static long peak_rss_mib(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss / 1024;
}

/* ---- codecs: bare, in a bzImage, embedded, truncated --------------------- */

struct codec_case {
	const char *label;
	const char *codec;	/* expected name from kimage_extract_vmlinux */
	const char *tool;
	const char *cmd;	/* printf format: input path, output path */
};

static const struct codec_case cases[] = {
	{ "gzip -9", "gzip", "gzip", "gzip -n -9 -c '%s' > '%s'" },
	{ "xz kernel-style (x86 BCJ, crc32)", "xz", "xz",
	  "xz -c --check=crc32 --x86 --lzma2=preset=1 '%s' > '%s'" },
	{ "xz multi-block (-T2, 1 MiB blocks)", "xz", "xz", "xz -c -1 -T2 --block-size=1MiB '%s' > '%s'" },
	{ "lzma legacy (.lzma)", "lzma", "xz", "xz -c -1 --format=lzma '%s' > '%s'" },
	{ "zstd, size in frame", "zstd", "zstd", "zstd -q -c -3 '%s' > '%s'" },
	{ "zstd, size unknown (pipe)", "zstd", "zstd", "zstd -q -c -3 < '%s' > '%s'" },
	{ "lz4 legacy (-l)", "lz4", "lz4", "lz4 -q -l -c -9 '%s' > '%s'" },
	{ "bzip2 -9", "bzip2", "bzip2", "bzip2 -c -9 '%s' > '%s'" },
	{ "lzop -9 (adler32)", "lzo", "lzop", "lzop -c -9 '%s' > '%s'" },
	{ "lzop -1 --crc32", "lzo", "lzop", "lzop -c -1 --crc32 '%s' > '%s'" },
};

static bool compress_with(const struct codec_case *c, const char *in, const char *out, struct buf *stream)
{
	if (!have_tool(c->tool)) {
		printf("skip %s: '%s' is not installed\n", c->label, c->tool);
		return false;
	}
	if (sh(c->cmd, in, out) != 0 || !load(out, stream)) {
		check_that(false, "%s: compressing the fixture failed", c->label);
		return false;
	}
	return true;
}

static unsigned test_codec_case(const struct codec_case *c, unsigned idx, const struct buf *elf)
{
	struct buf stream = { 0 }, img = { 0 };
	char what[160];

	if (!compress_with(c, tmp("elf"), tmp("stream"), &stream))
		return 0;
	snprintf(what, sizeof(what), "%s bare stream", c->label);
	check_that(kimage_is_compressed_kernel(span_of(&stream)), "%s recognised by magic", what);
	expect_ok(what, span_of(&stream), elf, c->codec);

	/* setup_sects 0 means 4: cover both spellings */
	make_bzimage(&img, span_of(&stream), idx % 2 ? 0 : 27, (uint32_t)elf->len);
	snprintf(what, sizeof(what), "%s in bzImage (setup_sects %u)", c->label, idx % 2 ? 0 : 27);
	check_that(kimage_is_compressed_kernel(span_of(&img)), "%s recognised", what);
	expect_ok(what, span_of(&img), elf, c->codec);

	/* the appended size word is a hint only: a wrong one must not matter */
	make_bzimage(&img, span_of(&stream), 1, (uint32_t)elf->len / 3);
	snprintf(what, sizeof(what), "%s in bzImage, size word too small", c->label);
	expect_ok(what, span_of(&img), elf, c->codec);
	make_bzimage(&img, span_of(&stream), 1, (uint32_t)elf->len * 2);
	snprintf(what, sizeof(what), "%s in bzImage, size word too large", c->label);
	expect_ok(what, span_of(&img), elf, c->codec);

	make_embedded(&img, span_of(&stream));
	snprintf(what, sizeof(what), "%s embedded at 0xbb9, no header (scan)", c->label);
	expect_ok(what, span_of(&img), elf, c->codec);

	snprintf(what, sizeof(what), "%s truncated to 60%%", c->label);
	expect_fail(what, (struct span){ stream.p, stream.len * 6 / 10 }, NULL);

	buf_free(&stream);
	buf_free(&img);
	return 1;
}

/* An lz4 legacy stream whose last block is a full 8 MiB, followed by the
 * kernel's size word: the end must be found without a short block. */
static void test_lz4_full_last_block(void)
{
	struct buf elf = { 0 }, stream = { 0 }, img = { 0 };
	const struct codec_case c = { "lz4 legacy, exactly 8 MiB", "lz4", "lz4", "lz4 -q -l -c '%s' > '%s'" };

	make_elf_fixture(&elf, 8 * MiB);
	save(tmp("elf8"), elf.p, elf.len);
	if (compress_with(&c, tmp("elf8"), tmp("elf8.lz4"), &stream)) {
		expect_ok("lz4 legacy, exactly 8 MiB, bare", span_of(&stream), &elf, "lz4");
		make_bzimage(&img, span_of(&stream), 30, (uint32_t)elf.len);
		expect_ok("lz4 legacy, exactly 8 MiB, in bzImage", span_of(&img), &elf, "lz4");
	}
	buf_free(&elf);
	buf_free(&stream);
	buf_free(&img);
}

/* Concatenated members (cat a.gz b.gz, pbzip2, pzstd, cat a.lz4 b.lz4)
 * decode as one; the second member is a short tail so this stays cheap. */
static void test_concatenated_members(void)
{
	static const struct codec_case members[] = {
		{ "gzip", "gzip", "gzip", "gzip -c -1 '%s' >> '%s'" },
		{ "xz", "xz", "xz", "xz -c -0 '%s' >> '%s'" },
		{ "zstd", "zstd", "zstd", "zstd -q -c -1 '%s' >> '%s'" },
		{ "bzip2", "bzip2", "bzip2", "bzip2 -c -1 '%s' >> '%s'" },
		{ "lz4 legacy", "lz4", "lz4", "lz4 -q -l -c '%s' >> '%s'" },
	};
	struct buf elf = { 0 }, stream = { 0 }, want = { 0 };
	char what[96];

	make_elf_fixture(&elf, 100 * 1024);
	save(tmp("small"), elf.p, elf.len);
	save(tmp("tail"), "tail member\n", 12);
	buf_append(&want, elf.p, elf.len);
	buf_append(&want, "tail member\n", 12);
	for (size_t i = 0; i < ARRAY_SIZE(members); i++) {
		const struct codec_case *c = &members[i];
		if (!have_tool(c->tool)) {
			printf("skip %s members: '%s' is not installed\n", c->label, c->tool);
			continue;
		}
		remove(tmp("members"));
		if (sh(c->cmd, tmp("small"), tmp("members")) != 0 ||
		    sh(c->cmd, tmp("tail"), tmp("members")) != 0 || !load(tmp("members"), &stream)) {
			check_that(false, "%s members: fixture failed", c->label);
			continue;
		}
		snprintf(what, sizeof(what), "%s, two concatenated members", c->label);
		expect_ok(what, span_of(&stream), &want, c->codec);
	}
	buf_free(&elf);
	buf_free(&stream);
	buf_free(&want);
}

/* ---- hostile headers and content ---------------------------------------- */

static void test_bad_headers(const struct buf *elf)
{
	struct buf stream = { 0 }, img = { 0 };
	const struct codec_case c = { "xz", "xz", "xz", "xz -c -0 '%s' > '%s'" };

	if (!compress_with(&c, tmp("elf"), tmp("hdr.xz"), &stream))
		return;
	make_bzimage(&img, span_of(&stream), 1, (uint32_t)elf->len);

	put_le32(img.p + 0x248, 0xfffffff0u);	/* payload_offset past EOF, no scan rescue */
	img.len = payload_file_offset(1) + stream.len / 2;
	expect_fail("payload_offset outside the file", span_of(&img), "payload_offset 0xfffffff0");

	make_bzimage(&img, span_of(&stream), 1, (uint32_t)elf->len);
	put_le32(img.p + 0x24c, 0xffffffffu);	/* payload_length past EOF */
	img.len = payload_file_offset(1) + stream.len / 2;
	expect_fail("payload_length past EOF, stream truncated", span_of(&img), "does not fit");

	make_bzimage(&img, span_of(&stream), 1, (uint32_t)elf->len);
	put_le32(img.p + 0x24c, 0);
	expect_ok("payload_length 0, stream found by scan", span_of(&img), elf, "xz");

	make_bzimage(&img, span_of(&stream), 1, (uint32_t)elf->len);
	put_le32(img.p + 0x248, 16);		/* points at the fake code */
	expect_ok("payload_offset at wrong bytes, stream found by scan", span_of(&img), elf, "xz");

	make_bzimage(&img, span_of(&stream), 255, (uint32_t)elf->len);
	img.len = 1024 + 64;			/* setup_sects 255 past EOF */
	expect_fail("setup_sects beyond a short file", span_of(&img), "setup_sects 255");

	make_bzimage(&img, span_of(&stream), 1, (uint32_t)elf->len);
	put_le16(img.p + 0x206, 0x0206);	/* before payload fields existed */
	expect_ok("boot protocol 2.06, stream found by scan", span_of(&img), elf, "xz");

	make_bzimage(&img, span_of(&stream), 1, 0xfffffff0u);	/* hostile size hint */
	expect_ok("bogus appended size word is only a hint", span_of(&img), elf, "xz");

	img.len = 0x240;			/* header cut off */
	expect_fail("setup header cut off", span_of(&img), "cut off");

	/* flip bytes in the middle: the xz CRC / LZMA decoder must notice */
	make_bzimage(&img, span_of(&stream), 1, (uint32_t)elf->len);
	for (size_t i = 0; i < 64; i++)
		img.p[payload_file_offset(1) + stream.len / 2 + i] ^= 0x5a;
	expect_fail("corrupted xz payload", span_of(&img), "xz stream");

	buf_free(&stream);
	buf_free(&img);
}

static void test_garbage(const struct buf *elf)
{
	struct buf b = { 0 }, stream = { 0 };
	uint32_t x = 42;

	expect_fail("empty input", (struct span){ (const uint8_t *)"", 0 }, "empty");
	for (size_t i = 0; i < 256 * 1024; i++) {
		x = x * 1664525u + 1013904223u;
		uint8_t byte = (uint8_t)(x >> 24);
		buf_append(&b, &byte, 1);
	}
	check_that(!kimage_is_compressed_kernel(span_of(&b)), "random bytes not recognised");
	expect_fail("random bytes", span_of(&b), NULL);
	check_that(!kimage_is_compressed_kernel(span_of(elf)), "plain ELF not recognised");
	expect_fail("uncompressed ELF", span_of(elf), "no ");

	if (have_tool("gzip") && sh("echo 'not an ELF, just text' | gzip -c > '%s'", tmp("text.gz")) == 0 &&
	    load(tmp("text.gz"), &stream))
		expect_fail("gzip stream of non-ELF content", span_of(&stream), "ELF header");
	if (have_tool("lzop") && sh("lzop -c '%s' > '%s'", tmp("elf"), tmp("hdr.lzo")) == 0 &&
	    load(tmp("hdr.lzo"), &stream)) {
		stream.p[20] ^= 1;		/* inside the header: checksum must catch it */
		expect_fail("lzop header with bad checksum", span_of(&stream), "checksum");
	}
	buf_free(&b);
	buf_free(&stream);
}

/* 2 GiB of zeros compresses to ~70 KiB.  Plain zeros fail the ELF check at
 * once; with an ELF magic in front only the 1 GiB cap stops it. */
static void test_bombs(void)
{
	struct buf b = { 0 };

	if (!have_tool("zstd")) {
		printf("skip decompression bombs: 'zstd' is not installed\n");
		return;
	}
	if (sh("head -c 2147483648 /dev/zero | zstd -q -1 -c > '%s'", tmp("bomb0.zst")) != 0 ||
	    sh("{ printf '\\177ELF'; head -c 2147483648 /dev/zero; } | zstd -q -1 -c > '%s'",
	       tmp("bomb1.zst")) != 0 ||
	    sh("printf '\\177ELF' > '%s' && truncate -s 1100M '%s' && zstd -q -1 -c '%s' > '%s' && rm '%s'",
	       tmp("big"), tmp("big"), tmp("big"), tmp("bomb2.zst"), tmp("big")) != 0) {
		check_that(false, "bombs: fixture generation failed");
		return;
	}
	long before = peak_rss_mib();
	load(tmp("bomb0.zst"), &b);
	expect_fail("2 GiB of zeros (zstd, 72 KiB)", span_of(&b), "ELF header");
	check_that(peak_rss_mib() - before < 64, "... refused early: peak RSS grew by %ld MiB",
	      peak_rss_mib() - before);

	load(tmp("bomb2.zst"), &b);
	expect_fail("ELF + 1.1 GiB, size declared in the frame", span_of(&b), "1 GiB cap");
	check_that(peak_rss_mib() - before < 64, "... refused before decoding: peak RSS grew by %ld MiB",
	      peak_rss_mib() - before);

	load(tmp("bomb1.zst"), &b);
	expect_fail("ELF + 2 GiB of zeros, streamed", span_of(&b), "1 GiB cap");
	long peak = peak_rss_mib();
	if (UNDER_ASAN)
		printf("note: peak RSS %ld MiB (not checked under ASan)\n", peak);
	else
		check_that(peak < 1024 + 200, "... memory bounded by the cap: peak RSS %ld MiB", peak);
	buf_free(&b);
}

/* ---- real kernels --------------------------------------------------------- */

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The kernel build appends the decompressed size to the payload (mkpiggy
 * reads it back); the decompressed vmlinux.bin + relocs must match it. */
static uint32_t payload_size_word(const struct mapped_file *mf)
{
	const uint8_t *p = mf->data;
	size_t pm = ((size_t)(p[0x1f1] ? p[0x1f1] : 4) + 1) * 512;
	uint64_t end = (uint64_t)pm + rd_le32(p + 0x248) + rd_le32(p + 0x24c);
	return end <= mf->size && end >= 4 ? rd_le32(p + end - 4) : 0;
}

static void check_real_elf(const char *name, const struct buf *out, uint32_t size_word)
{
	const Elf64_Ehdr *eh = (const void *)out->p;
	bool elf64 = out->len >= sizeof(*eh) && eh->e_ident[EI_CLASS] == ELFCLASS64 &&
		     eh->e_machine == EM_X86_64;
	check_that(elf64, "%s: x86-64 ELF64 header", name);
	check_that(elf64 && eh->e_shoff + (uint64_t)eh->e_shnum * eh->e_shentsize <= out->len,
	      "%s: section headers inside the output", name);
	check_that(out->len == size_word, "%s: %zu bytes = the kernel's appended size word %u", name,
	      out->len, size_word);
}

static unsigned test_real_kernels(void)
{
	const char *ref = getenv("REF");
	char pattern[1024];
	glob_t g;
	unsigned tested = 0;

	if (!ref || !*ref) {
		printf("skip real kernels: $REF is not set\n");
		return 0;
	}
	snprintf(pattern, sizeof(pattern), "%s/*/vmlinuz", ref);
	if (glob(pattern, 0, NULL, &g) != 0) {
		printf("skip real kernels: no %s\n", pattern);
		return 0;
	}
	for (size_t i = 0; i < g.gl_pathc; i++) {
		const char *path = g.gl_pathv[i];
		struct mapped_file mf;
		struct buf out = { 0 };
		const char *codec = NULL;

		if (map_file(path, &mf) < 0) {
			check_that(false, "%s", err_get());
			continue;
		}
		struct span in = { mf.data, mf.size };
		check_that(kimage_is_compressed_kernel(in), "%s recognised", path);
		double t0 = now();
		clock_t c0 = clock();
		int r = kimage_extract_vmlinux(in, &out, &codec);
		double wall = now() - t0, cpu = (double)(clock() - c0) / CLOCKS_PER_SEC;
		if (r < 0) {
			check_that(false, "%s: %s", path, err_get());
		} else {
			check_that(true, "%s: %s, %.1f MiB in %.3f s (%.3f s CPU)", path, codec,
			      (double)out.len / (double)MiB, wall, cpu);
			check_real_elf(path, &out, mf.size > 0x250 ? payload_size_word(&mf) : 0);
			tested++;
		}
		buf_free(&out);
		unmap_file(&mf);
	}
	globfree(&g);
	return tested;
}

int main(void)
{
	const char *base = getenv("TMPDIR");
	struct buf elf = { 0 };
	unsigned tested = 0;

	snprintf(tmpdir, sizeof(tmpdir), "%s/test_kimage.XXXXXX", base && *base ? base : "/tmp");
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	make_elf_fixture(&elf, FIXTURE_SIZE);
	save(tmp("elf"), elf.p, elf.len);

	test_bombs();	/* first, so their RSS is measured on a quiet heap */
	for (unsigned i = 0; i < ARRAY_SIZE(cases); i++)
		tested += test_codec_case(&cases[i], i, &elf);
	test_lz4_full_last_block();
	test_concatenated_members();
	test_bad_headers(&elf);
	test_garbage(&elf);
	tested += test_real_kernels();

	buf_free(&elf);
	remove_tree(tmpdir);
	printf("%d passed, %d failed\n", (check_count - check_failures), check_failures);
	if (check_failures)
		return 1;
	if (!tested) {
		printf("no compressor CLI installed and $REF unset: nothing to decompress\n");
		return 77;
	}
	return 0;
}

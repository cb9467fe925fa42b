/* Memory-image containers and small parsers on hostile input: LiME, ELF core,
 * AVML and raw files built here (including sparse ones), truncated and
 * corrupted variants, VMCOREINFO text and banners. */
#include "banner.h"
#include "check.h"
#include "image.h"
#include "log.h"
#include "vmcoreinfo.h"

#include <elf.h>
#include <fcntl.h>
#include <snappy-c.h>
#include <stdlib.h>
#include <unistd.h>

static char dir[] = "/tmp/b2i-image-XXXXXX";

static const char *write_file(const char *name, const void *data, size_t n)
{
	static char path[256];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || (n && write(fd, data, n) != (ssize_t)n) || close(fd) < 0) {
		perror(path);
		exit(1);
	}
	return path;
}

static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }
static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }

/* A LiME file of two ranges with a gap: [0x1000, 0x2fff] and [0x10000, 0x10fff]. */
static size_t make_lime(uint8_t *out)
{
	size_t off = 0;
	const uint64_t ranges[2][2] = { { 0x1000, 0x2fff }, { 0x10000, 0x10fff } };
	for (int r = 0; r < 2; r++) {
		put32(out + off, 0x4C694D45);
		put32(out + off + 4, 1);
		put64(out + off + 8, ranges[r][0]);
		put64(out + off + 16, ranges[r][1]);
		put64(out + off + 24, 0);
		off += 32;
		size_t len = ranges[r][1] - ranges[r][0] + 1;
		for (size_t i = 0; i < len; i++)
			out[off + i] = (uint8_t)(r * 100 + i);
		off += len;
	}
	return off;
}

static void test_lime(void)
{
	uint8_t buf[32 * 2 + 0x2000 + 0x1000];
	size_t n = make_lime(buf);
	struct image img;
	struct span s;

	CHECK(image_open(write_file("a.lime", buf, n), &img) == 0, "LiME opens");
	CHECK(img.format == IMAGE_LIME && img.nruns == 2 && img.present == 0x3000, "two ranges, 12 KiB present");
	CHECK(image_at(&img, 0x1001, &s) && s.p[0] == 1 && s.n == 0x1fff, "byte at PA 0x1001");
	CHECK(image_at(&img, 0x10000, &s) && s.p[0] == 100, "second range");
	CHECK(!image_at(&img, 0x3000, &s) && !image_at(&img, 0x0, &s) && !image_at(&img, 0x11000, &s), "holes are holes");
	uint64_t lo;
	CHECK(image_window(&img, 0x2000, 0x800, 0x100, &lo, &s) && lo == 0x1800 && s.n == 0x900, "window clipped to its range");
	image_close(&img);

	CHECK(image_open(write_file("t.lime", buf, n - 10), &img) < 0 && strstr(err_get(), "truncated"),
	      "truncated LiME refused: %s", err_get());
	uint8_t bad[sizeof(buf)];
	memcpy(bad, buf, n);
	put64(bad + 16, 0x0fff);	/* end before start */
	CHECK(image_open(write_file("i.lime", bad, n), &img) < 0 && strstr(err_get(), "inverted"),
	      "inverted range refused: %s", err_get());
	memcpy(bad, buf, n);
	put64(bad + 32 + 0x2000 + 8, 0x2000);	/* second range overlaps the first */
	put64(bad + 32 + 0x2000 + 16, 0x2fff);
	CHECK(image_open(write_file("o.lime", bad, n), &img) < 0 && strstr(err_get(), "overlap"),
	      "overlapping ranges refused: %s", err_get());
	memcpy(bad, buf, n);
	put64(bad + 16, UINT64_MAX);	/* a range as large as the address space */
	CHECK(image_open(write_file("h.lime", bad, n), &img) < 0, "huge range refused: %s", err_get());
}

static void test_elf_core(void)
{
	uint8_t buf[4096 + 256];
	Elf64_Ehdr eh = { 0 };
	Elf64_Phdr ph[2] = { 0 };
	static const char note_text[] = "OSRELEASE=6.1.0-test\nKERNELOFFSET=2e800000\nNUMBER(phys_base)=-595591168\nSYMBOL(_stext)=ffffffffaf800000\n";
	uint8_t note[12 + 12 + sizeof(note_text) + 3];

	memset(buf, 0, sizeof(buf));
	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS64;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_type = ET_CORE;
	eh.e_phoff = sizeof(eh);
	eh.e_phentsize = sizeof(Elf64_Phdr);
	eh.e_phnum = 2;
	memset(note, 0, sizeof(note));
	put32(note, 11);
	put32(note + 4, sizeof(note_text) - 1);
	memcpy(note + 12, "VMCOREINFO", 11);
	memcpy(note + 24, note_text, sizeof(note_text) - 1);
	ph[0].p_type = PT_NOTE;
	ph[0].p_offset = 512;
	ph[0].p_filesz = sizeof(note);
	ph[1].p_type = PT_LOAD;
	ph[1].p_offset = 1024;
	ph[1].p_paddr = 0x100000;
	ph[1].p_filesz = ph[1].p_memsz = 2048;
	memcpy(buf, &eh, sizeof(eh));
	memcpy(buf + sizeof(eh), ph, sizeof(ph));
	memcpy(buf + 512, note, sizeof(note));
	memset(buf + 1024, 0xab, 2048);

	struct image img;
	struct span s;
	CHECK(image_open(write_file("c.elf", buf, 3072), &img) == 0, "ELF core opens");
	CHECK(img.format == IMAGE_ELF && img.nruns == 1 && image_at(&img, 0x100010, &s) && s.p[0] == 0xab,
	      "PT_LOAD placed by p_paddr");
	struct vmcoreinfo v[2];
	CHECK(vmcoreinfo_collect(&img, NULL, 0, v, 2) == 1, "VMCOREINFO note read");
	CHECK(!strcmp(v[0].osrelease, "6.1.0-test"), "OSRELEASE: %s", v[0].osrelease);
	CHECK(v[0].has_kerneloffset && v[0].kerneloffset == 0x2e800000, "KERNELOFFSET is hex");
	CHECK(v[0].has_phys_base && v[0].phys_base == -595591168, "phys_base is signed decimal");
	CHECK(v[0].has_stext && v[0].stext == 0xffffffffaf800000ULL, "SYMBOL(_stext)");
	image_close(&img);

	CHECK(image_open(write_file("t.elf", buf, 2000), &img) < 0 && strstr(err_get(), "truncated"),
	      "segment past the end refused: %s", err_get());
	ph[1].p_filesz = UINT64_MAX - 100;	/* offset + size overflows */
	memcpy(buf + sizeof(eh), ph, sizeof(ph));
	CHECK(image_open(write_file("o.elf", buf, 3072), &img) < 0, "overflowing segment refused: %s", err_get());
	eh.e_phnum = 60000;	/* table runs off the file */
	memcpy(buf, &eh, sizeof(eh));
	CHECK(image_open(write_file("p.elf", buf, 3072), &img) < 0, "program headers past the end refused: %s", err_get());
}

static void test_avml(void)
{
	/* One range [0x2000, 0x2fff] in snappy framing, then a second one that
	 * continues it (the reader must join them into one run). */
	uint8_t data[0x1000], comp[0x2000], file[0x5000];
	size_t off = 0;

	for (int i = 0; i < 0x1000; i++)
		data[i] = (uint8_t)(i * 7);
	for (int r = 0; r < 2; r++) {
		size_t clen = snappy_max_compressed_length(sizeof(data));
		snappy_compress((const char *)data, sizeof(data), (char *)comp, &clen);
		put32(file + off, 0x4C4D5641);
		put32(file + off + 4, 2);
		put64(file + off + 8, 0x2000 + r * 0x1000);
		put64(file + off + 16, 0x2fff + r * 0x1000);
		put64(file + off + 24, 0);
		off += 32;
		size_t stream = off;
		static const uint8_t ident[] = { 0xff, 6, 0, 0, 's', 'N', 'a', 'P', 'p', 'Y' };
		memcpy(file + off, ident, sizeof(ident));
		off += sizeof(ident);
		put32(file + off, (uint32_t)((clen + 4) << 8));	/* type 0: compressed */
		put32(file + off + 4, 0);	/* CRC (not checked by the reader) */
		memcpy(file + off + 8, comp, clen);
		off += 8 + clen;
		put64(file + off, off - stream);
		off += 8;
	}
	struct image img;
	struct span s;
	CHECK(image_open(write_file("a.avml", file, off), &img) == 0, "AVML opens: %s", img.nruns ? "" : err_get());
	CHECK(img.nruns == 1 && img.present == 0x2000, "adjacent AVML blocks joined into one run");
	CHECK(image_at(&img, 0x2000 + 0x1005, &s) && s.p[0] == (uint8_t)(5 * 7), "decompressed byte in the second block");
	image_close(&img);
	file[32 + 10 + 8 + 3] ^= 0xff;	/* corrupt the first compressed frame */
	CHECK(image_open(write_file("c.avml", file, off), &img) < 0, "corrupt snappy refused: %s", err_get());
	CHECK(image_open(write_file("t.avml", file, 40), &img) < 0, "truncated AVML refused: %s", err_get());
}

static void test_raw_sparse(void)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/sparse.raw", dir);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	CHECK(fd >= 0 && ftruncate(fd, (off_t)1 << 34) == 0 && pwrite(fd, "kernel", 6, (off_t)3 << 30) == 6,
	      "16 GiB sparse file made");
	close(fd);
	struct image img;
	struct span s;
	CHECK(image_open(path, &img) == 0, "sparse raw opens");
	CHECK(img.present < (64u << 20), "holes are skipped: %llu bytes present", (unsigned long long)img.present);
	CHECK(image_at(&img, (uint64_t)3 << 30, &s) && !memcmp(s.p, "kernel", 6), "data at its offset = PA");
	image_close(&img);
}

static void test_banner_and_vmcoreinfo(void)
{
	static const char good[] = "Linux version 6.1.0-56-amd64 (x@y) (gcc) #1 SMP\n";
	uint8_t b[sizeof(good) + 4] = { 0 };
	memcpy(b, good, sizeof(good));
	CHECK(banner_len((struct span){ b, sizeof(b) }) == sizeof(good), "banner length includes \\n\\0");
	char rel[64];
	banner_release(b, sizeof(good), rel, sizeof(rel));
	CHECK(!strcmp(rel, "6.1.0-56-amd64"), "release from banner: %s", rel);
	CHECK(banner_len((struct span){ b, sizeof(good) - 2 }) == 0, "banner cut before its NUL rejected");
	b[20] = 0x01;
	CHECK(banner_len((struct span){ b, sizeof(b) }) == 0, "control byte rejected");
	static const char nonl[] = "Linux version 6.1 no newline";
	CHECK(banner_len((struct span){ (const uint8_t *)nonl, sizeof(nonl) }) == 0, "banner without newline rejected");

	struct vmcoreinfo v = { 0 };
	static const char junk[] = "OSRELEASE=\n";
	CHECK(!vmcoreinfo_parse((struct span){ (const uint8_t *)junk, sizeof(junk) - 1 }, &v), "empty OSRELEASE rejected");
	char longline[5000];
	memset(longline, 'A', sizeof(longline));
	memcpy(longline, "OSRELEASE=x\nKERNELOFFSET=", 25);
	memset(&v, 0, sizeof(v));
	CHECK(vmcoreinfo_parse((struct span){ (const uint8_t *)longline, sizeof(longline) }, &v) && !v.has_kerneloffset,
	      "overlong line ignored, no overflow");
}

int main(void)
{
	if (!mkdtemp(dir))
		return 1;
	test_lime();
	test_elf_core();
	test_avml();
	test_raw_sparse();
	test_banner_and_vmcoreinfo();
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		return 1;
	return check_finish();
}

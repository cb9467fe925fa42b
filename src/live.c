#include "live.h"

#include "banner.h"
#include "log.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <zlib.h>

#define START_KERNEL_MAP 0xffffffff80000000ULL
#define DEFAULT_PHYSICAL_START 0x1000000ULL
#define DEFAULT_PHYSICAL_ALIGN 0x200000ULL

/* Scan kernel config text for CONFIG_PHYSICAL_START/ALIGN. */
static void config_values(const char *text, uint64_t *start, uint64_t *align, bool *found)
{
	const char *p;

	if ((p = strstr(text, "\nCONFIG_PHYSICAL_START=")) != NULL) {
		*start = strtoull(p + strlen("\nCONFIG_PHYSICAL_START="), NULL, 0);
		*found = true;
	}
	if ((p = strstr(text, "\nCONFIG_PHYSICAL_ALIGN=")) != NULL)
		*align = strtoull(p + strlen("\nCONFIG_PHYSICAL_ALIGN="), NULL, 0);
}

static char *read_gzip_text(const char *path)
{
	gzFile gz = gzopen(path, "rb");
	struct buf b = { 0 };

	if (!gz)
		return NULL;
	for (;;) {
		buf_reserve(&b, 1 << 16);
		int r = gzread(gz, b.p + b.len, 1 << 16);
		if (r <= 0)
			break;
		b.len += (size_t)r;
	}
	gzclose(gz);
	buf_append(&b, "", 1);
	return (char *)b.p;
}

uint64_t live_link_text(const char *release, char *how, size_t how_len)
{
	uint64_t start = DEFAULT_PHYSICAL_START, align = DEFAULT_PHYSICAL_ALIGN;
	bool found = false;
	char path[256];
	struct mapped_file mf;

	snprintf(path, sizeof(path), "/boot/config-%s", release);
	if (map_file(path, &mf) == 0) {
		char *text = xstrndup((const char *)mf.data, mf.size);
		config_values(text, &start, &align, &found);
		free(text);
		unmap_file(&mf);
	}
	if (!found) {
		char *text = read_gzip_text("/proc/config.gz");
		if (text) {
			config_values(text, &start, &align, &found);
			snprintf(path, sizeof(path), "/proc/config.gz");
			free(text);
		}
	}
	err_clear();
	if (!align || (align & (align - 1)))
		align = DEFAULT_PHYSICAL_ALIGN;
	uint64_t link = START_KERNEL_MAP + ((start + align - 1) & ~(align - 1));
	if (found)
		snprintf(how, how_len, "CONFIG_PHYSICAL_START=%#llx, ALIGN=%#llx from %s",
			 (unsigned long long)start, (unsigned long long)align, path);
	else
		snprintf(how, how_len, "no kernel config found: x86-64 default link base");
	return link;
}

/* Reads up to len bytes at va (fewer at the end of its mapping) into out;
 * the count, or -1 with err_set. */
static ssize_t kcore_read(uint64_t va, size_t len, struct buf *out)
{
	int fd = open("/proc/kcore", O_RDONLY | O_CLOEXEC);
	Elf64_Ehdr eh;
	ssize_t ret = -1;

	if (fd < 0)
		return err_set("/proc/kcore: %s", strerror(errno));
	if (pread(fd, &eh, sizeof(eh), 0) != sizeof(eh) || memcmp(eh.e_ident, ELFMAG, SELFMAG) ||
	    eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum > 4096) {
		ret = err_set("/proc/kcore: not an ELF64 core");
		goto out;
	}
	for (unsigned i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;
		if (pread(fd, &ph, sizeof(ph), (off_t)(eh.e_phoff + i * sizeof(ph))) != sizeof(ph))
			break;
		if (ph.p_type != PT_LOAD || va < ph.p_vaddr || va - ph.p_vaddr >= ph.p_memsz)
			continue;
		if (len > ph.p_memsz - (va - ph.p_vaddr))
			len = (size_t)(ph.p_memsz - (va - ph.p_vaddr));
		buf_reserve(out, len);
		size_t got = 0;
		while (got < len) {
			ssize_t n = pread(fd, out->p + out->len + got, len - got,
					  (off_t)(ph.p_offset + (va - ph.p_vaddr) + got));
			if (n <= 0)
				break;
			got += (size_t)n;
		}
		if (!got) {
			ret = err_set("/proc/kcore: cannot read %#llx", (unsigned long long)va);
			goto out;
		}
		out->len += got;
		ret = (ssize_t)got;
		goto out;
	}
	ret = err_set("/proc/kcore: address %#llx is not mapped", (unsigned long long)va);
out:
	close(fd);
	return ret;
}

int live_read(uint64_t va, size_t len, struct buf *out)
{
	size_t before = out->len;
	ssize_t n = kcore_read(va, len, out);

	if (n < 0)
		return -1;
	if ((size_t)n < len) {
		out->len = before;
		return err_set("/proc/kcore: %#llx..%#llx is not mapped in one piece", (unsigned long long)va,
			       (unsigned long long)(va + len));
	}
	return 0;
}

int live_read_banner(uint64_t va, struct buf *out)
{
	struct buf b = { 0 };
	size_t len;

	if (kcore_read(va, BANNER_MAX, &b) < 0)
		return -1;
	if (!(len = banner_len((struct span){ b.p, b.len }))) {
		buf_free(&b);
		return err_set("/proc/kcore: no banner at %#llx", (unsigned long long)va);
	}
	buf_append(out, b.p, len);
	buf_free(&b);
	return 0;
}

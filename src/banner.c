#include "banner.h"

#include "log.h"

size_t banner_len(struct span s)
{
	size_t plen = strlen(BANNER_PREFIX);

	if (s.n < plen + 3 || memcmp(s.p, BANNER_PREFIX, plen) || s.p[plen] < '0' || s.p[plen] > '9')
		return 0;
	for (size_t i = plen; i < s.n && i < BANNER_MAX; i++) {
		uint8_t c = s.p[i];
		if (c == 0)
			return (s.p[i - 1] == '\n') ? i + 1 : 0;
		if ((c < 0x20 || c > 0x7e) && c != '\n')
			return 0;
		if (c == '\n' && i + 1 < s.n && s.p[i + 1] != 0)
			return 0;
	}
	return 0;
}

void banner_release(const uint8_t *banner, size_t len, char *out, size_t n)
{
	size_t plen = strlen(BANNER_PREFIX), i = 0;

	if (len > plen && !memcmp(banner, BANNER_PREFIX, plen))
		for (; plen + i < len && i + 1 < n; i++) {
			uint8_t c = banner[plen + i];
			if (c <= ' ' || c > 0x7e)
				break;
			out[i] = (char)c;
		}
	if (n)
		out[i] = 0;
}

int banner_from_arg(const char *arg, struct buf *out)
{
	struct mapped_file mf = { 0 };
	const char *text = arg;
	size_t len = strlen(arg);

	if (arg[0] == '@') {
		if (map_file_max(arg + 1, CAP_BANNER, "a banner", NULL, &mf) < 0)
			return err_prefix("--banner: ");
		text = (const char *)mf.data;
		len = mf.size;
	}
	while (len && text[len - 1] == 0)	/* a file may already hold the NUL */
		len--;
	buf_append(out, text, len);
	if (!len || text[len - 1] != '\n')
		buf_append(out, "\n", 1);
	buf_append(out, "", 1);
	unmap_file(&mf);
	if (!banner_len((struct span){ out->p, out->len }))
		return err_set("--banner: not a kernel banner (want 'Linux version X.Y... (...) ... ', one line)");
	return 0;
}

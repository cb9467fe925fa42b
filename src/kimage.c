/* Compressed kernel containers → the vmlinux ELF inside (see kimage.h).
 *
 * Layout of this file:
 *   - one adapter per codec: open/step/close around a Debian library;
 *   - one generic streaming loop (decode_stream/pump) that owns output growth,
 *     the 1 GiB cap, the early "\x7fELF" check and truncation detection;
 *   - two ways to find a stream: the x86 boot-protocol setup header, and a
 *     scan for magics (like scripts/extract-vmlinux) as the fallback. */
#include "kimage.h"

#include "log.h"

#define ZLIB_CONST
#include <bzlib.h>
#include <elf.h>
#include <limits.h>
#include <lz4.h>
#include <lzma.h>
#include <lzo/lzo1x.h>
#include <stdarg.h>
#include <stdio.h>
#include <zlib.h>
#include <zstd.h>

#define OUT_CAP ((size_t)1 << 30)	/* refuse to produce more than 1 GiB */
#define FIRST_WINDOW ((size_t)64 << 10)	/* small first window: non-ELF data fails fast */
#define XZ_MEMLIMIT ((uint64_t)2 << 30)	/* xz dictionaries go up to 1.5 GiB */
#define ZSTD_WINDOWLOG_LIMIT 30		/* a window beyond the output cap is pointless */
#define MAX_SCAN_TRIES 256		/* the fallback scan on a hostile file is bounded */
#define SCAN_OUTPUT_BUDGET ((size_t)2 << 30)	/* by tries and by bytes decoded in vain */
/* Kernels compress 3-6x: a declared size above 64x the compressed bytes is
 * not believed (a few bytes must not preallocate 1 GiB); decoding streams. */
#define HINT_RATIO 64

/* x86 boot protocol, Documentation/arch/x86/boot.rst */
#define BOOT_SETUP_SECTS 0x1f1
#define BOOT_HEADER_MAGIC 0x202
#define BOOT_VERSION 0x206
#define BOOT_PAYLOAD_OFFSET 0x248	/* relative to the protected-mode code */
#define BOOT_PAYLOAD_LENGTH 0x24c
#define BOOT_PAYLOAD_VERSION 0x0208	/* payload fields exist since protocol 2.08 */

/* ---- the stream every adapter works on ---------------------------------- */

enum step { STEP_MORE, STEP_END, STEP_FAIL };

struct stream {
	const uint8_t *start;	/* first byte of the stream, for offsets in messages */
	const uint8_t *in;	/* unread input (all of it is available at once) */
	size_t in_left;
	uint8_t *out;		/* free output window */
	size_t out_left;
	size_t need_out;	/* step() wants a window at least this large */
	size_t size_hint;	/* output size the container claims (0: none); may lie */
	bool peek;		/* any content, only its first bytes (kimage_peek) */
	char why[192];		/* reason when open()/step() return STEP_FAIL */
	union {
		z_stream z;
		lzma_stream lz;
		bz_stream bz;
		struct { ZSTD_DCtx *dctx; bool streaming; } zs;
		struct { size_t last_block_out; bool after_magic; } lz4;
		struct { uint32_t flags; bool header_done; } lzo;
	} u;
};

/* A codec: how to recognise a stream and a small adapter to decode it.  step()
 * consumes from in/in_left, produces into out/out_left, and may ask for a
 * bigger window through need_out (block formats decode whole blocks). */
struct codec {
	const char *name;
	uint8_t magic[9];
	uint8_t magic_len;
	bool multi_member;	/* the same magic right after the end continues the data */
	bool (*plausible)(const uint8_t *p, size_t n);	/* deeper header check, or NULL */
	enum step (*open)(struct stream *s);
	enum step (*step)(struct stream *s);
	void (*close)(struct stream *s);
};

B2I_PRINTF(2, 3)
static enum step stream_fail(struct stream *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->why, sizeof(s->why), fmt, ap);
	va_end(ap);
	return STEP_FAIL;
}

static void stream_advance(struct stream *s, size_t used_in, size_t made_out)
{
	s->in += used_in;
	s->in_left -= used_in;
	s->out += made_out;
	s->out_left -= made_out;
}

static size_t stream_pos(const struct stream *s) { return (size_t)(s->in - s->start); }

/* zlib and bzip2 count in unsigned int; larger spans are fed in pieces. */
static unsigned clamp_uint(size_t n) { return n > UINT_MAX ? UINT_MAX : (unsigned)n; }

/* ---- gzip (zlib) -------------------------------------------------------- */

static enum step gzip_open(struct stream *s)
{
	int r = inflateInit2(&s->u.z, 16 + MAX_WBITS);	/* 16+: gzip wrapper only */
	return r == Z_OK ? STEP_MORE : stream_fail(s, "inflateInit2 failed (%d)", r);
}

static enum step gzip_step(struct stream *s)
{
	z_stream *z = &s->u.z;
	unsigned in_avail = clamp_uint(s->in_left), out_avail = clamp_uint(s->out_left);

	z->next_in = s->in;
	z->avail_in = in_avail;
	z->next_out = s->out;
	z->avail_out = out_avail;
	int r = inflate(z, Z_NO_FLUSH);
	stream_advance(s, in_avail - z->avail_in, out_avail - z->avail_out);
	if (r == Z_STREAM_END)
		return STEP_END;
	if (r == Z_OK || r == Z_BUF_ERROR)	/* no progress is judged by the loop */
		return STEP_MORE;
	return stream_fail(s, "%s", z->msg ? z->msg : "inflate failed");
}

static void gzip_close(struct stream *s) { inflateEnd(&s->u.z); }

/* ---- xz and legacy lzma (liblzma) --------------------------------------- */

static const char *lzma_ret_text(lzma_ret r)
{
	switch (r) {
	case LZMA_MEM_ERROR: return "out of memory";
	case LZMA_MEMLIMIT_ERROR: return "needs more memory than the 2 GiB limit";
	case LZMA_FORMAT_ERROR: return "bad header";
	case LZMA_OPTIONS_ERROR: return "unsupported options";
	case LZMA_DATA_ERROR: return "corrupt data";
	case LZMA_BUF_ERROR: return "input ends before the end of the stream (truncated)";
	case LZMA_PROG_ERROR: return "decoder misuse";
	default: return "decoder error";
	}
}

static uint32_t xz_threads(void)
{
	uint32_t n = lzma_cputhreads();
	return n == 0 ? 1 : n > 8 ? 8 : n;
}

/* The multithreaded decoder parallelises multi-block files (xz -T) and decodes
 * single-block ones (the kernel's) directly, as fast as the plain decoder. */
static enum step xz_open(struct stream *s)
{
	uint64_t ram = lzma_physmem();
	lzma_mt mt = {
		.threads = xz_threads(),
		.memlimit_threading = ram ? ram / 4 : XZ_MEMLIMIT / 8,
		.memlimit_stop = XZ_MEMLIMIT,
	};
	lzma_ret r = lzma_stream_decoder_mt(&s->u.lz, &mt);
	return r == LZMA_OK ? STEP_MORE : stream_fail(s, "%s", lzma_ret_text(r));
}

static enum step lzma_alone_open(struct stream *s)
{
	lzma_ret r = lzma_alone_decoder(&s->u.lz, XZ_MEMLIMIT);
	return r == LZMA_OK ? STEP_MORE : stream_fail(s, "%s", lzma_ret_text(r));
}

static enum step lzma_step(struct stream *s)
{
	lzma_stream *z = &s->u.lz;

	z->next_in = s->in;
	z->avail_in = s->in_left;
	z->next_out = s->out;
	z->avail_out = s->out_left;
	/* All input is present from the start, so FINISH is right on every call. */
	lzma_ret r = lzma_code(z, LZMA_FINISH);
	stream_advance(s, s->in_left - z->avail_in, s->out_left - z->avail_out);
	if (r == LZMA_STREAM_END)
		return STEP_END;
	if (r == LZMA_OK || r == LZMA_BUF_ERROR)
		return STEP_MORE;
	return stream_fail(s, "%s", lzma_ret_text(r));
}

static void lzma_close(struct stream *s) { lzma_end(&s->u.lz); }

/* liblzma's own "picky" .lzma check: dictionary 2^n or 2^n+2^(n-1), size
 * unknown or < 256 GiB.  "5d 00 00" alone is too common in x86 code. */
static bool lzma_alone_plausible(const uint8_t *p, size_t n)
{
	if (n < 13)
		return false;
	uint32_t dict = rd_le32(p + 1), d = dict - 1;
	uint64_t size = rd_le64(p + 5);
	d |= d >> 2;
	d |= d >> 3;
	d |= d >> 4;
	d |= d >> 8;
	d |= d >> 16;
	return dict >= 4096 && d + 1 == dict && (size == UINT64_MAX || size < (UINT64_C(1) << 38));
}

/* ---- zstd --------------------------------------------------------------- */

static enum step zstd_open(struct stream *s)
{
	s->u.zs.dctx = ZSTD_createDCtx();
	if (!s->u.zs.dctx)
		return stream_fail(s, "cannot allocate a zstd context");
	size_t r = ZSTD_DCtx_setParameter(s->u.zs.dctx, ZSTD_d_windowLogMax, ZSTD_WINDOWLOG_LIMIT);
	return ZSTD_isError(r) ? stream_fail(s, "%s", ZSTD_getErrorName(r)) : STEP_MORE;
}

/* A complete frame whose size is known (declared in the frame, or else the
 * container's size hint) is decoded in one call straight into the output:
 * no window buffer and no copies.  Otherwise, or if the hint was wrong,
 * switch to streaming, which also pinpoints truncation. */
static enum step zstd_single_shot(struct stream *s)
{
	unsigned long long declared = ZSTD_getFrameContentSize(s->in, s->in_left);
	if (declared == ZSTD_CONTENTSIZE_ERROR)
		return stream_fail(s, "bad or truncated frame header");
	if (declared != ZSTD_CONTENTSIZE_UNKNOWN && declared > OUT_CAP)
		return stream_fail(s, "frame declares %llu bytes, more than the 1 GiB cap", declared);
	bool trusted = declared != ZSTD_CONTENTSIZE_UNKNOWN;
	size_t size = trusted ? (size_t)declared : s->size_hint;
	size_t frame = ZSTD_findFrameCompressedSize(s->in, s->in_left);
	if ((!trusted && !size) || ZSTD_isError(frame) || s->peek || size / HINT_RATIO > frame) {
		s->u.zs.streaming = true;
		return STEP_MORE;
	}
	if (s->out_left < size) {
		s->need_out = size;
		return STEP_MORE;
	}
	size_t n = ZSTD_decompressDCtx(s->u.zs.dctx, s->out, size, s->in, frame);
	if (ZSTD_isError(n) && !trusted) {
		s->u.zs.streaming = true;	/* the hint lied: start over */
		return STEP_MORE;
	}
	if (ZSTD_isError(n))
		return stream_fail(s, "%s", ZSTD_getErrorName(n));
	stream_advance(s, frame, n);
	return STEP_END;
}

static enum step zstd_step(struct stream *s)
{
	if (!s->u.zs.streaming) {
		enum step r = zstd_single_shot(s);
		if (!s->u.zs.streaming)
			return r;
	}
	ZSTD_inBuffer in = { s->in, s->in_left, 0 };
	ZSTD_outBuffer out = { s->out, s->out_left, 0 };
	size_t r = ZSTD_decompressStream(s->u.zs.dctx, &out, &in);
	if (ZSTD_isError(r))
		return stream_fail(s, "%s", ZSTD_getErrorName(r));
	stream_advance(s, in.pos, out.pos);
	return r == 0 ? STEP_END : STEP_MORE;	/* 0: frame decoded and flushed */
}

static void zstd_close(struct stream *s) { ZSTD_freeDCtx(s->u.zs.dctx); }

/* ---- lz4 legacy frame ---------------------------------------------------
 * Magic, then blocks of [le32 compressed size][data], each decoding to 8 MiB
 * except the last.  As in the kernel's unlz4, another frame's magic may follow
 * (cat a.lz4 b.lz4) and ≤ 4 bytes left (the appended size) means the end. */

#define LZ4_LEGACY_MAGIC 0x184c2102u
#define LZ4_LEGACY_BLOCK ((size_t)8 << 20)

static enum step lz4_open(struct stream *s)
{
	/* The magic, already matched.  Not stream_advance(): no output window
	 * exists yet, and NULL + 0 is undefined behaviour. */
	s->in += 4;
	s->in_left -= 4;
	s->u.lz4.last_block_out = LZ4_LEGACY_BLOCK;
	s->u.lz4.after_magic = true;
	return STEP_MORE;
}

static enum step lz4_step(struct stream *s)
{
	if (s->in_left >= 4 && rd_le32(s->in) == LZ4_LEGACY_MAGIC) {	/* next frame */
		if (s->u.lz4.after_magic)	/* lz4 never writes an empty frame */
			return stream_fail(s, "empty frame at +%#zx", stream_pos(s));
		stream_advance(s, 4, 0);
		s->u.lz4.after_magic = true;
		s->u.lz4.last_block_out = LZ4_LEGACY_BLOCK;
		return STEP_MORE;
	}
	if (s->u.lz4.last_block_out < LZ4_LEGACY_BLOCK || s->in_left <= 4)
		return STEP_END;	/* a short block is the last one */
	uint32_t csize = rd_le32(s->in);
	if (csize == 0 || csize > (uint32_t)LZ4_compressBound((int)LZ4_LEGACY_BLOCK) ||
	    csize > s->in_left - 4)
		return stream_fail(s, "block at +%#zx claims %u compressed bytes, %zu remain",
				   stream_pos(s), csize, s->in_left - 4);
	if (s->out_left < LZ4_LEGACY_BLOCK) {
		s->need_out = LZ4_LEGACY_BLOCK;
		return STEP_MORE;
	}
	int n = LZ4_decompress_safe((const char *)s->in + 4, (char *)s->out, (int)csize,
				    (int)LZ4_LEGACY_BLOCK);
	if (n < 0)
		return stream_fail(s, "block at +%#zx is corrupt", stream_pos(s));
	stream_advance(s, 4 + (size_t)csize, (size_t)n);
	s->u.lz4.last_block_out = (size_t)n;
	s->u.lz4.after_magic = false;
	return STEP_MORE;
}

static void lz4_close(struct stream *s) { (void)s; }

/* ---- bzip2 -------------------------------------------------------------- */

static const char *bzip2_ret_text(int r)
{
	switch (r) {
	case BZ_DATA_ERROR: return "corrupt data";
	case BZ_DATA_ERROR_MAGIC: return "bad header";
	case BZ_MEM_ERROR: return "out of memory";
	default: return "decoder error";
	}
}

static enum step bzip2_open(struct stream *s)
{
	int r = BZ2_bzDecompressInit(&s->u.bz, 0, 0);
	return r == BZ_OK ? STEP_MORE : stream_fail(s, "%s", bzip2_ret_text(r));
}

static enum step bzip2_step(struct stream *s)
{
	bz_stream *z = &s->u.bz;
	unsigned in_avail = clamp_uint(s->in_left), out_avail = clamp_uint(s->out_left);

	z->next_in = (char *)s->in;	/* bzlib never writes through next_in */
	z->avail_in = in_avail;
	z->next_out = (char *)s->out;
	z->avail_out = out_avail;
	int r = BZ2_bzDecompress(z);
	stream_advance(s, in_avail - z->avail_in, out_avail - z->avail_out);
	if (r == BZ_STREAM_END)
		return STEP_END;
	return r == BZ_OK ? STEP_MORE : stream_fail(s, "%s", bzip2_ret_text(r));
}

/* "BZh" plus a block-size digit. */
static bool bzip2_plausible(const uint8_t *p, size_t n) { return n > 3 && p[3] >= '1' && p[3] <= '9'; }

static void bzip2_close(struct stream *s) { BZ2_bzDecompressEnd(&s->u.bz); }

/* ---- lzo (lzop file format, which the kernel's compressor writes) --------
 * Header and block layout follow lzop 1.04 (lzop.c: p_header / x_decompress).
 * Blocks are [be32 dst_len][be32 src_len][checksums][data]; dst_len 0 ends. */

#define LZOP_F_ADLER32_D 0x0001u
#define LZOP_F_ADLER32_C 0x0002u
#define LZOP_F_H_EXTRA_FIELD 0x0040u
#define LZOP_F_CRC32_D 0x0100u
#define LZOP_F_CRC32_C 0x0200u
#define LZOP_F_H_FILTER 0x0800u
#define LZOP_F_H_CRC32 0x1000u
#define LZOP_F_RESERVED (~(0x3fffu | 0xff000000u | 0x00f00000u))
#define LZOP_MAX_BLOCK ((uint32_t)64 << 20)
#define LZOP_MAGIC_LEN 9

/* Big-endian reader that turns any overrun into a sticky flag. */
struct cursor {
	const uint8_t *p;
	size_t left;
	bool overrun;
};

static const uint8_t *cur_take(struct cursor *c, size_t n)
{
	if (c->overrun || c->left < n) {
		c->overrun = true;
		return NULL;
	}
	const uint8_t *p = c->p;
	c->p += n;
	c->left -= n;
	return p;
}

static uint32_t cur_be(struct cursor *c, size_t n)
{
	const uint8_t *p = cur_take(c, n);
	uint32_t v = 0;

	for (size_t i = 0; p && i < n; i++)
		v = v << 8 | p[i];
	return v;
}

static uint32_t lzop_checksum(bool crc32, const uint8_t *p, size_t n)
{
	return crc32 ? lzo_crc32(0, (lzo_bytep)p, (lzo_uint)n) : lzo_adler32(1, (lzo_bytep)p, (lzo_uint)n);
}

static enum step lzo_open(struct stream *s)
{
	return lzo_init() == LZO_E_OK ? STEP_MORE : stream_fail(s, "lzo_init failed");
}

static enum step lzop_read_header(struct stream *s)
{
	struct cursor c = { s->in + LZOP_MAGIC_LEN, s->in_left - LZOP_MAGIC_LEN, false };
	const uint8_t *hdr = c.p;
	uint32_t version = cur_be(&c, 2);
	bool v094 = version >= 0x0940;	/* fields added in lzop 0.94 */

	cur_take(&c, 2);		/* library version */
	if (v094)
		cur_take(&c, 2);	/* version needed to extract */
	uint32_t method = cur_be(&c, 1);
	if (v094)
		cur_take(&c, 1);	/* level */
	uint32_t flags = cur_be(&c, 4);
	if (flags & LZOP_F_H_FILTER)
		cur_take(&c, 4);	/* filter id */
	cur_take(&c, 4);		/* mode */
	cur_take(&c, v094 ? 8 : 4);	/* mtime */
	cur_take(&c, cur_be(&c, 1));	/* file name */
	size_t hdr_len = (size_t)(c.p - hdr);
	uint32_t sum = cur_be(&c, 4);

	if (c.overrun)
		return stream_fail(s, "lzop header is truncated");
	if (version < 0x0900)
		return stream_fail(s, "lzop version %#x is not supported", version);
	if (method < 1 || method > 3)	/* M_LZO1X_1, M_LZO1X_1_15, M_LZO1X_999 */
		return stream_fail(s, "lzop method %u is not LZO1X", method);
	if (flags & (LZOP_F_H_FILTER | LZOP_F_RESERVED))
		return stream_fail(s, "lzop flags %#x are not supported", flags);
	if (lzop_checksum(flags & LZOP_F_H_CRC32, hdr, hdr_len) != sum)
		return stream_fail(s, "lzop header checksum mismatch");
	if (flags & LZOP_F_H_EXTRA_FIELD) {
		cur_take(&c, cur_be(&c, 4));
		cur_take(&c, 4);	/* its checksum */
		if (c.overrun)
			return stream_fail(s, "lzop extra header field is truncated");
	}
	s->u.lzo.flags = flags;
	s->u.lzo.header_done = true;
	stream_advance(s, (size_t)(c.p - s->in), 0);
	return STEP_MORE;
}

static enum step lzop_read_block(struct stream *s)
{
	uint32_t flags = s->u.lzo.flags;
	struct cursor c = { s->in, s->in_left, false };
	uint32_t dst_len = cur_be(&c, 4);

	if (c.overrun)
		return stream_fail(s, "input ends before the end-of-stream marker (truncated)");
	if (dst_len == 0) {
		stream_advance(s, 4, 0);
		return STEP_END;
	}
	uint32_t src_len = cur_be(&c, 4);
	uint32_t adler = flags & LZOP_F_ADLER32_D ? cur_be(&c, 4) : 0;
	uint32_t crc = flags & LZOP_F_CRC32_D ? cur_be(&c, 4) : 0;
	if (src_len < dst_len) {	/* checksums of compressed data: not needed */
		cur_take(&c, flags & LZOP_F_ADLER32_C ? 4 : 0);
		cur_take(&c, flags & LZOP_F_CRC32_C ? 4 : 0);
	}
	const uint8_t *src = cur_take(&c, src_len);
	if (!src || dst_len > LZOP_MAX_BLOCK || src_len == 0 || src_len > dst_len)
		return stream_fail(s, "block at +%#zx is truncated or corrupt (%u -> %u bytes)",
				   stream_pos(s), src_len, dst_len);
	if (s->out_left < dst_len) {
		s->need_out = dst_len;
		return STEP_MORE;
	}
	lzo_uint got = dst_len;
	if (src_len == dst_len)
		memcpy(s->out, src, dst_len);	/* stored uncompressed */
	else if (lzo1x_decompress_safe((lzo_bytep)src, src_len, s->out, &got, NULL) != LZO_E_OK ||
		 got != dst_len)
		return stream_fail(s, "block at +%#zx is corrupt", stream_pos(s));
	if (((flags & LZOP_F_ADLER32_D) && lzop_checksum(false, s->out, dst_len) != adler) ||
	    ((flags & LZOP_F_CRC32_D) && lzop_checksum(true, s->out, dst_len) != crc))
		return stream_fail(s, "block at +%#zx fails its checksum", stream_pos(s));
	stream_advance(s, (size_t)(c.p - s->in), dst_len);
	return STEP_MORE;
}

static enum step lzo_step(struct stream *s)
{
	return s->u.lzo.header_done ? lzop_read_block(s) : lzop_read_header(s);
}

static void lzo_close(struct stream *s) { (void)s; }

/* ---- the codec table ---------------------------------------------------- */

static const struct codec codecs[] = {
	{ "gzip", { 0x1f, 0x8b, 0x08 }, 3, true, NULL, gzip_open, gzip_step, gzip_close },
	{ "xz", { 0xfd, '7', 'z', 'X', 'Z', 0x00 }, 6, true, NULL, xz_open, lzma_step, lzma_close },
	{ "lzma", { 0x5d, 0x00, 0x00 }, 3, false, lzma_alone_plausible, lzma_alone_open, lzma_step,
	  lzma_close },
	{ "zstd", { 0x28, 0xb5, 0x2f, 0xfd }, 4, true, NULL, zstd_open, zstd_step, zstd_close },
	{ "lz4", { 0x02, 0x21, 0x4c, 0x18 }, 4, false, NULL, lz4_open, lz4_step, lz4_close },
	{ "bzip2", { 'B', 'Z', 'h' }, 3, true, bzip2_plausible, bzip2_open, bzip2_step, bzip2_close },
	{ "lzo", { 0x89, 'L', 'Z', 'O', 0x00, 0x0d, 0x0a, 0x1a, 0x0a }, LZOP_MAGIC_LEN, false, NULL,
	  lzo_open, lzo_step, lzo_close },
};

static bool codec_matches(const struct codec *c, struct span in, size_t off)
{
	return span_has(in, off, c->magic_len) && !memcmp(in.p + off, c->magic, c->magic_len) &&
	       (!c->plausible || c->plausible(in.p + off, in.n - off));
}

static const struct codec *codec_at(struct span in, size_t off)
{
	for (size_t i = 0; i < ARRAY_SIZE(codecs); i++)
		if (codec_matches(&codecs[i], in, off))
			return &codecs[i];
	return NULL;
}

/* ---- the generic streaming loop ----------------------------------------- */

static void grow_exact(struct buf *b, size_t cap)
{
	b->p = xrealloc(b->p, cap);
	b->cap = cap;
}

/* Size of the next output window: about what was produced so far (geometric
 * growth, few library calls), never past the cap + 1 byte (so overflow is
 * seen), but at least what the adapter asked for.  Existing room is used
 * before growing, so an exact size hint never reallocates. */
static size_t open_window(struct buf *b, size_t need)
{
	size_t room = OUT_CAP + 1 - b->len;
	size_t want = b->len > FIRST_WINDOW ? b->len : FIRST_WINDOW;

	if (want > room)
		want = room;
	if (want < need)
		want = need;
	size_t enough = want < FIRST_WINDOW ? want : FIRST_WINDOW;
	if (enough < need)
		enough = need;
	size_t have = b->cap - b->len;
	if (have >= enough)
		return have < want ? have : want;
	grow_exact(b, b->len + want);
	return want;
}

/* True when the bytes so far agree with "\x7fELF" (and, once complete, that
 * there are at least those four). */
static bool elf_prefix_ok(const struct buf *b, bool complete)
{
	size_t n = b->len < SELFMAG ? b->len : SELFMAG;

	if (complete && n < SELFMAG)
		return false;
	return n == 0 || !memcmp(b->p, ELFMAG, n);
}

static bool next_member_follows(const struct codec *c, const struct stream *s)
{
	return c->multi_member && s->in_left >= c->magic_len && !memcmp(s->in, c->magic, c->magic_len);
}

static enum step restart_codec(const struct codec *c, struct stream *s)
{
	c->close(s);
	memset(&s->u, 0, sizeof(s->u));
	s->size_hint = 0;	/* it described the whole output, not this member */
	return c->open(s);
}

/* Run the adapter until the stream ends (or `enough` is satisfied).
 * Returns NULL or why it failed. */
static const char *pump(const struct codec *c, struct stream *s, struct buf *got,
			kimage_enough_fn enough)
{
	for (;;) {
		size_t window = open_window(got, s->need_out);
		const uint8_t *in_before = s->in;

		s->out = got->p + got->len;
		s->out_left = window;
		s->need_out = 0;
		enum step r = c->step(s);
		size_t made = window - s->out_left;
		got->len += made;

		if (r == STEP_FAIL)
			return s->why;
		if (got->len > OUT_CAP)
			return "output exceeds the 1 GiB cap (decompression bomb?)";
		if (!s->peek && !elf_prefix_ok(got, false))
			return "decompressed data does not start with an ELF header";
		if (enough && got->len >= SELFMAG && got->len >= enough((struct span){ got->p, got->len }))
			return NULL;
		if (r == STEP_END) {
			if (!next_member_follows(c, s))
				return NULL;	/* trailing bytes are not ours */
			if (restart_codec(c, s) == STEP_FAIL)
				return s->why;
			continue;
		}
		if (!made && s->in == in_before && s->need_out <= window)
			return s->in_left ? "decoder made no progress"
					  : "input ends before the end of the stream (truncated)";
	}
}

/* Decompress the stream at the start of `in` (found at file offset file_off)
 * into *out.  size_hint (0 = none) preallocates the output and lets zstd
 * decode in one shot; it is only a hint.  On failure err_set() describes
 * codec, offset and reason (without the "vmlinuz: " prefix), and *wasted
 * (if given) receives the number of bytes decoded in vain. */
static int decode_stream(const struct codec *c, struct span in, size_t file_off, size_t size_hint,
			 kimage_enough_fn enough, struct buf *out, size_t *wasted)
{
	struct stream s = { .start = in.p, .in = in.p, .in_left = in.n };
	struct buf got = { 0 };
	const char *failure = NULL;

	if (size_hint <= OUT_CAP && size_hint / HINT_RATIO <= in.n)
		s.size_hint = size_hint;
	if (s.size_hint)
		grow_exact(&got, s.size_hint + FIRST_WINDOW);
	if (c->open(&s) == STEP_FAIL)
		failure = s.why;
	else
		failure = pump(c, &s, &got, enough);
	c->close(&s);
	if (!failure && !elf_prefix_ok(&got, true))
		failure = "decompressed data does not start with an ELF header";
	if (failure) {
		err_set("%s stream at %#zx: %s (%zu input bytes used, %zu bytes produced)", c->name,
			file_off, failure, stream_pos(&s), got.len);
		if (wasted)
			*wasted = got.len;
		buf_free(&got);
		return -1;
	}
	if (got.cap - got.len > FIRST_WINDOW)
		grow_exact(&got, got.len);	/* give back an oversized hint */
	buf_free(out);
	*out = got;
	return 0;
}

/* ---- finding the stream ------------------------------------------------- */

static bool has_setup_header(struct span in)
{
	return span_has(in, BOOT_HEADER_MAGIC, 4) && !memcmp(in.p + BOOT_HEADER_MAGIC, "HdrS", 4);
}

/* Locate the payload through the setup header.  On failure writes why. */
static bool bzimage_payload(struct span in, struct span *payload, size_t *payload_off, char *why,
			    size_t why_len)
{
	if (!has_setup_header(in)) {
		snprintf(why, why_len, "no bzImage setup header ('HdrS' at 0x202)");
		return false;
	}
	if (!span_has(in, BOOT_PAYLOAD_LENGTH, 4)) {
		snprintf(why, why_len, "bzImage setup header is cut off (file is %zu bytes)", in.n);
		return false;
	}
	unsigned version = rd_le16(in.p + BOOT_VERSION);
	if (version < BOOT_PAYLOAD_VERSION) {
		snprintf(why, why_len, "boot protocol %u.%02u predates payload_offset (2.08)",
			 version >> 8, version & 0xff);
		return false;
	}
	unsigned sects = in.p[BOOT_SETUP_SECTS] ? in.p[BOOT_SETUP_SECTS] : 4;
	uint64_t start = (uint64_t)(sects + 1) * 512 + rd_le32(in.p + BOOT_PAYLOAD_OFFSET);
	uint32_t len = rd_le32(in.p + BOOT_PAYLOAD_LENGTH);
	if (!span_has(in, start, len) || len < 4) {
		snprintf(why, why_len,
			 "bzImage payload_offset %#x + payload_length %#x (file offset %#llx, "
			 "setup_sects %u) does not fit the %zu-byte file",
			 rd_le32(in.p + BOOT_PAYLOAD_OFFSET), len, (unsigned long long)start, sects,
			 in.n);
		return false;
	}
	*payload = (struct span){ in.p + start, len };
	*payload_off = (size_t)start;
	return true;
}

/* Decode the bzImage payload.  The kernel build appends the decompressed size
 * (le32) to every payload (for gzip it is the ISIZE trailer): a size hint. */
static int try_bzimage_payload(struct span in, kimage_enough_fn enough, struct buf *out,
			       const char **codec, size_t *tried_off,
			       char *why, size_t why_len)
{
	struct span payload;
	size_t off;

	if (!bzimage_payload(in, &payload, &off, why, why_len))
		return -1;
	const struct codec *c = codec_at(payload, 0);
	if (!c) {
		snprintf(why, why_len, "bzImage payload at %#zx starts with unknown bytes %02x %02x %02x %02x",
			 off, payload.p[0], payload.p[1], payload.p[2], payload.p[3]);
		return -1;
	}
	*tried_off = off;
	if (decode_stream(c, payload, off, rd_le32(payload.p + payload.n - 4), enough, out, NULL) == 0) {
		*codec = c->name;
		return 0;
	}
	snprintf(why, why_len, "bzImage payload: %s", err_get());
	return -1;
}

/* First offset >= from where codec c's magic (and header check) matches. */
static size_t next_magic(struct span in, size_t from, const struct codec *c)
{
	while (from < in.n) {
		const uint8_t *hit = memmem(in.p + from, in.n - from, c->magic, c->magic_len);
		if (!hit)
			break;
		size_t off = (size_t)(hit - in.p);
		if (codec_matches(c, in, off))
			return off;
		from = off + 1;
	}
	return in.n;
}

/* Like scripts/extract-vmlinux: try every magic in file order (skipping the
 * already-tried skip_off) and keep the first stream that yields an ELF.  On
 * failure writes a summary (with the first candidate's reason) into why. */
static int scan_for_elf_stream(struct span in, size_t skip_off, kimage_enough_fn enough,
			       struct buf *out, const char **codec,
			       char *why, size_t why_len)
{
	size_t next[ARRAY_SIZE(codecs)], wasted = 0;
	unsigned tried = 0;
	char first[384] = "";
	const char *stopped = "";

	for (size_t i = 0; i < ARRAY_SIZE(codecs); i++)
		next[i] = next_magic(in, 0, &codecs[i]);
	for (;;) {
		size_t best = 0;
		for (size_t i = 1; i < ARRAY_SIZE(codecs); i++)
			if (next[i] < next[best])
				best = i;
		size_t off = next[best];
		const struct codec *c = &codecs[best];
		if (off >= in.n)
			break;
		if (tried == MAX_SCAN_TRIES || wasted > SCAN_OUTPUT_BUDGET) {
			stopped = " before the scan gave up";
			break;
		}
		next[best] = next_magic(in, off + 1, c);
		if (off == skip_off)
			continue;
		tried++;
		struct span stream = { in.p + off, in.n - off };
		size_t lost = 0;
		if (decode_stream(c, stream, off, 0, enough, out, &lost) == 0) {
			*codec = c->name;
			return 0;
		}
		wasted += lost;
		if (tried == 1)
			snprintf(first, sizeof(first), "%s", err_get());
	}
	if (!tried)
		snprintf(why, why_len, "no %sgzip/xz/lzma/zstd/lz4/bzip2/lzo stream found in the file",
			 skip_off < in.n ? "other " : "");
	else
		snprintf(why, why_len, "%u embedded stream(s) tried%s, none decompresses to an ELF (first: %s)",
			 tried, stopped, first);
	return -1;
}

#define PEEK_BYTES ((size_t)4 << 10)

static size_t peek_enough(struct span so_far)
{
	(void)so_far;
	return PEEK_BYTES;
}

size_t kimage_peek(struct span in, uint8_t *out, size_t n, const char **codec)
{
	const struct codec *c = codec_at(in, 0);
	struct stream s = { .start = in.p, .in = in.p, .in_left = in.n, .peek = true };
	struct buf got = { 0 };
	size_t len = 0;

	if (!c)
		return 0;
	if (c->open(&s) != STEP_FAIL && !pump(c, &s, &got, peek_enough)) {
		len = got.len < n ? got.len : n;
		memcpy(out, got.p, len);
		*codec = c->name;
	}
	c->close(&s);
	buf_free(&got);
	return len;
}

bool kimage_is_compressed_kernel(struct span in)
{
	return has_setup_header(in) || codec_at(in, 0) != NULL;
}

int kimage_extract_vmlinux_prefix(struct span in, struct buf *out, const char **codec,
				  kimage_enough_fn enough)
{
	char header_why[512], scan_why[512];
	size_t tried_off = SIZE_MAX;

	if (in.n == 0)
		return err_set("vmlinuz: input is empty");
	if (try_bzimage_payload(in, enough, out, codec, &tried_off, header_why, sizeof(header_why)) == 0)
		return 0;
	if (scan_for_elf_stream(in, tried_off, enough, out, codec, scan_why, sizeof(scan_why)) == 0) {
		pr_debug("vmlinuz: %s; found a %s stream by scanning instead\n", header_why, *codec);
		return 0;
	}
	return err_set("vmlinuz: %s; %s", header_why, scan_why);
}

int kimage_extract_vmlinux(struct span in, struct buf *out, const char **codec)
{
	return kimage_extract_vmlinux_prefix(in, out, codec, NULL);
}

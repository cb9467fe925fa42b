/* Output: a byte sink (stdout, or a file written atomically, optionally xz- or
 * gzip-compressed) and a streaming JSON writer on top of it.
 *
 * The writer never holds the document: it emits as it goes, handles commas,
 * indentation and string escaping, and writes unsigned 64-bit integers exactly
 * (kernel addresses exceed INT64_MAX, which DOM libraries such as jansson
 * cannot represent). */
#ifndef B2I_JSONW_H
#define B2I_JSONW_H

#include <stdbool.h>
#include <string.h>
#include <stddef.h>
#include <stdint.h>

struct buf;

struct sink;

/* Open the output.  path NULL or "-" = stdout (uncompressed, written with
 * write(2), never closed).  Otherwise the compression is chosen by suffix:
 * ".json" none, ".json.xz" xz -3 with CRC64 (multithreaded, one thread per
 * usable CPU), ".json.gz" gzip -6; any other suffix is an error (err_set with
 * a hint).  Data goes to a hidden temporary file ".NAME.XXXXXX" in the same
 * directory, mode 0666 & ~umask like any new file, which sink_close() renames
 * over `path`: readers see the old file or the complete new one, never a part.
 * Returns NULL with err_set() on failure. */
struct sink *sink_open(const char *path);
/* What sink_open() would refuse about the name alone, checked before any
 * work: the suffix, a directory as target, a missing directory.  0 or -1
 * (err_set); NULL and "-" (stdout) pass. */
int sink_check_path(const char *path);
/* From now on SIGINT, SIGTERM and SIGHUP (unless ignored) remove the
 * temporary file of the sink being written, then end the process by the
 * same signal.  Call once, before sink_open(). */
void sink_remove_temp_on_signals(void);
/* xz settings of the sinks opened from now on: preset 0-9 and threads (0:
 * one per usable CPU).  `pack` runs one worker per core and writes many
 * profiles: -0 on one thread, a ninth of -3's CPU for a 15% larger file. */
void sink_set_xz(uint32_t preset, uint32_t threads);
/* 0, or -1 with err_set() ("NAME: write failed: REASON").  Errors are sticky:
 * after the first one every write and sink_close() fail without retrying.
 * On stdout, a reader that went away gives EPIPE only if the caller ignores
 * SIGPIPE (the CLI does). */
int sink_write(struct sink *s, const void *data, size_t n);
/* Finish compression, fsync, rename into place, free.  0, or -1 (err_set)
 * with the temporary file removed and any old target left as it was. */
int sink_close(struct sink *s);
/* Give up: remove the temporary file, free everything.  NULL-safe. */
void sink_abort(struct sink *s);

struct jsonw;

/* Writes one JSON document to s through a 64 KiB buffer.
 *
 * pretty: the exact layout of Go's json.MarshalIndent(v, "", "  "), i.e.
 * dwarf2json's: newline + 2 spaces per level, ": " after keys, empty
 * containers as {} and [], no trailing newline.  Otherwise compact: no
 * whitespace at all.
 *
 * Commas are automatic.  Nesting is limited to 64 levels.  Misuse (a value in
 * an object without jsonw_name(), a name outside an object, a mismatched end,
 * a second top-level value, nesting too deep) is a bug in the caller: the
 * writer prints an internal error and aborts.
 *
 * Strings are arbitrary bytes: '"', '\\' and control characters are escaped
 * (\n \t \r \b \f, else \u00xx), valid UTF-8 passes through unchanged, and
 * each byte that is not part of valid UTF-8 becomes \ufffd, so the output is
 * always valid JSON. */
struct jsonw *jsonw_new(struct sink *s, bool pretty);
void jsonw_start_object(struct jsonw *w);
void jsonw_end_object(struct jsonw *w);
void jsonw_start_array(struct jsonw *w);
void jsonw_end_array(struct jsonw *w);
void jsonw_name_len(struct jsonw *w, const char *name, size_t n);	/* key inside an object */
/* Inline, so that a literal key's length is a constant. */
static inline void jsonw_name(struct jsonw *w, const char *name) { jsonw_name_len(w, name, strlen(name)); }
void jsonw_string(struct jsonw *w, const char *s);
void jsonw_string_len(struct jsonw *w, const char *s, size_t n);
void jsonw_uint(struct jsonw *w, uint64_t v);	/* all 64 bits, exactly */
void jsonw_int(struct jsonw *w, int64_t v);	/* INT64_MIN included */
void jsonw_bool(struct jsonw *w, bool v);
/* A member: key and value in one call (bpftool's jsonw_*_field). */
static inline void jsonw_string_field(struct jsonw *w, const char *name, const char *s)
{
	jsonw_name(w, name);
	jsonw_string(w, s);
}
static inline void jsonw_uint_field(struct jsonw *w, const char *name, uint64_t v)
{
	jsonw_name(w, name);
	jsonw_uint(w, v);
}
static inline void jsonw_int_field(struct jsonw *w, const char *name, int64_t v)
{
	jsonw_name(w, name);
	jsonw_int(w, v);
}
static inline void jsonw_bool_field(struct jsonw *w, const char *name, bool v)
{
	jsonw_name(w, name);
	jsonw_bool(w, v);
}

/* Parts of one document rendered concurrently: a part writer renders one
 * value into `out` (appended), indented as if it stood `depth` levels deep;
 * jsonw_raw_value() then places those bytes as a value of the document's
 * writer at that depth.  The bytes are not checked: they must come from a
 * part writer of the same depth and mode. */
struct jsonw *jsonw_new_part(struct buf *out, bool pretty, unsigned depth);
void jsonw_raw_value(struct jsonw *w, const void *json, size_t n);
/* A value of such bytes with a number in the middle: before, v in decimal,
 * after.  Many values that differ only in one number are placed this way
 * from one template, rendered once and cut around that number. */
void jsonw_raw_value_around_uint(struct jsonw *w, const void *before, size_t nb, uint64_t v,
				 const void *after, size_t na);
/* A run of members of an object that stands `depth` levels deep, rendered
 * into `out` with jsonw_name() and values, without the braces; the document's
 * writer, inside that object, places runs one after another with
 * jsonw_raw_members() (commas between them are its job).  So one big object
 * can be rendered by several threads. */
struct jsonw *jsonw_new_members(struct buf *out, bool pretty, unsigned depth);
void jsonw_raw_members(struct jsonw *w, const void *json, size_t n);
bool jsonw_pretty(const struct jsonw *w);

/* Flush buffered output to the sink and free the writer.  Returns 0, or -1 if
 * any sink write failed (err_set already called; output after the failure
 * was discarded).  Does not close the sink; an unfinished document (error
 * paths) is fine.  NULL-safe. */
int jsonw_free(struct jsonw *w);

#endif

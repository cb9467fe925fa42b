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
#include <stddef.h>
#include <stdint.h>

struct sink;

/* Open the output.  path NULL or "-" = stdout (uncompressed).  Otherwise the
 * compression is chosen by suffix: ".json" none, ".json.xz" xz (multithreaded,
 * both cores), ".json.gz" gzip; any other suffix is an error (err_set with a
 * hint).  Data goes to a temporary file in the same directory, which
 * sink_close() renames over `path`.  Returns NULL with err_set() on failure. */
struct sink *sink_open(const char *path);
int sink_write(struct sink *s, const void *data, size_t n);	/* 0 / -1 */
/* Finish compression, flush, fsync, rename into place.  0 / -1 (err_set). */
int sink_close(struct sink *s);
/* Give up: remove the temporary file, free everything.  NULL-safe. */
void sink_abort(struct sink *s);

struct jsonw;

/* pretty: newline + 2-space indentation (as dwarf2json) instead of compact. */
struct jsonw *jsonw_new(struct sink *s, bool pretty);
void jsonw_start_object(struct jsonw *w);
void jsonw_end_object(struct jsonw *w);
void jsonw_start_array(struct jsonw *w);
void jsonw_end_array(struct jsonw *w);
void jsonw_name(struct jsonw *w, const char *name);	/* key inside an object */
void jsonw_string(struct jsonw *w, const char *s);
void jsonw_string_len(struct jsonw *w, const char *s, size_t n);
void jsonw_uint(struct jsonw *w, uint64_t v);
void jsonw_int(struct jsonw *w, int64_t v);
void jsonw_bool(struct jsonw *w, bool v);
/* Flush buffered output to the sink and free the writer.  Returns 0, or -1 if
 * any sink write failed (err_set already called).  Does not close the sink. */
int jsonw_free(struct jsonw *w);

#endif

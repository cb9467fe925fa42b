/* A symbol directory's bookkeeping for `btf2isf pack`.
 *
 * DIR/.btf2isf-pack (tab-separated text, private to btf2isf, rewritten
 * atomically) remembers
 *   - for each input packed, by a key of its content, the profiles it gave
 *     ("" for an input holding no kernel), so that a rerun over the same
 *     packages reads a few MiB of each instead of decompressing it;
 *   - for each profile file, by path, size and mtime, its banner, so that
 *     the index does not decompress every profile.
 * A missing or damaged file only costs time: entries are checked against
 * the files before use, and unknown profiles are read.
 *
 * DIR/banners.json is Volatility3's remote ISF index (version 1): for
 * "linux", base64 of each profile's exact linux_banner bytes ("\n\0"
 * included, as Volatility3's local cache keys them; its remote reader strips
 * the "\0") → the URLs of the profiles, URL_PREFIX + "/" + path in DIR. */
#ifndef B2I_PACKDIR_H
#define B2I_PACKDIR_H

#include <stddef.h>
#include <sys/stat.h>

struct packdir;

/* Load DIR's state (DIR must exist).  Never fails: unreadable state is empty. */
struct packdir *packdir_open(const char *dir);
void packdir_free(struct packdir *d);	/* NULL-safe */

/* Profiles (paths relative to DIR, comma-separated; "" none) recorded for
 * an input key; NULL when the key is unknown.  Borrowed. */
const char *packdir_input(struct packdir *d, const char *key);
void packdir_set_input(struct packdir *d, const char *key, const char *paths);

/* Base64 banner of the profile at `rel` if recorded for this size and
 * mtime; NULL otherwise.  Borrowed. */
const char *packdir_banner(struct packdir *d, const char *rel, const struct stat *st);
void packdir_set_banner(struct packdir *d, const char *rel, const struct stat *st, const char *b64);

/* The run's work directory, DIR/.btf2isf-work.XXXXXX: every temporary file
 * of the run goes there, so that removing it leaves nothing behind.  The
 * run holds a lock on it; opening one first removes those whose run is gone
 * (killed by SIGKILL, crashed).  0, or -1 with err_set(). */
int packdir_work_open(struct packdir *d);
const char *packdir_work(const struct packdir *d);	/* NULL before open */
void packdir_work_remove(struct packdir *d);		/* also done by packdir_free() */

/* Write the state back (atomically).  0, or -1 with err_set(). */
int packdir_save(struct packdir *d);

/* (Re)write DIR/banners.json from every profile in DIR (*.json, .json.xz,
 * .json.gz, .json.bz2, in any subdirectory; banners of files not recorded
 * are read from the files).  Profiles without a Linux banner are left out
 * with a warning.  0 (*indexed = profiles listed), or -1 with err_set(). */
int packdir_write_index(struct packdir *d, const char *url_prefix, size_t *indexed);

#endif

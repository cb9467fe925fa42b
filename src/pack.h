/* `btf2isf pack -s DIR [--index URL_PREFIX] [--force] [-j N] INPUT...`: a
 * Volatility3 symbol directory holding a profile of every kernel in the
 * inputs (kernel files, memory images, distribution packages, directories
 * searched recursively), DIR/linux/<release>-<id>.json.xz, where id is the
 * first 8 hex digits of the SHA-256 of the exact banner bytes.
 *
 * Each input is handled by a worker process (-j at a time, default one per
 * core), so a bad input never stops the others and memory stays that of
 * one profile per worker.  Profiles are written in a private work directory
 * DIR/.btf2isf-work.XXXXXX and renamed into DIR/linux/; an interrupted run
 * (SIGINT, SIGTERM, SIGHUP) stops the workers and removes that directory. */
#ifndef B2I_PACK_H
#define B2I_PACK_H

/* argv[0] is "pack".  Returns the exit status: 0 every input gave a profile
 * (files holding no kernel inside a directory are skipped, not failed), 1
 * otherwise, 2 misuse. */
int pack_main(int argc, char **argv);

#endif

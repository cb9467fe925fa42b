/* `btf2isf check PROFILE IMAGE`: does a Volatility3 profile fit a memory
 * image, and if not, exactly why.
 *
 * Steps, stopping at the first failure:
 *   1 banner  the profile's linux_banner bytes occur in physical memory (else:
 *             which banners the image holds, and the closest difference);
 *   2 KASLR   the shifts as Volatility3's LinuxStacker computes them (scan for
 *             init_task's comm, init_task.files - init_files, 4 KiB alignment,
 *             init_top_pgt as the DTB, linux_banner translating to the banner)
 *             must equal the ones btf2isf's carver finds;
 *   3 walk    with only the profile's types and symbols and the image's page
 *             tables: init_task.tasks (pid, ppid, comm, command line from the
 *             process's own page tables), the module list, init_uts_ns.
 * The walk is bounded and every pointer is checked before use, so hostile
 * images end it with an error naming the field, never a hang. */
#ifndef B2I_CHECK_H
#define B2I_CHECK_H

/* The `check` subcommand: argv[0] is "check".  Prints the report on stdout
 * (text, or JSON with --json).  Returns the exit status: 0 the profile fits,
 * 1 it does not (or an input is unreadable), 2 misuse. */
int check_main(int argc, char **argv);

#endif

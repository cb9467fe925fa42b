/* btf2isf: a Volatility3 profile (ISF JSON) from a kernel's own BTF, kallsyms
 * and banner.  This file is the command line only. */
#include "check.h"
#include "isf.h"
#include "jsonw.h"
#include "log.h"
#include "pack.h"
#include "profile.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum exit_code { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

static const char usage_text[] =
	"Usage: btf2isf [OPTIONS] INPUT            write the ISF of a kernel file to stdout\n"
	"       btf2isf [OPTIONS] --live           the running kernel\n"
	"       btf2isf [OPTIONS] --btf FILE --map FILE [--banner TEXT|@FILE]\n"
	"       btf2isf check [--json] PROFILE IMAGE   does a profile fit a memory image?\n"
	"                                               (see 'btf2isf check --help')\n"
	"       btf2isf pack -s DIR [--index URL_PREFIX] [--force] [-j N] INPUT...\n"
	"                                          a Volatility3 symbol directory of every\n"
	"                                          kernel in the INPUTs (see 'btf2isf pack --help')\n"
	"\n"
	"INPUT is recognised by content: a memory image (raw, LiME, ELF core, AVML),\n"
	"a vmlinux ELF (with or without .symtab), a compressed vmlinuz/bzImage\n"
	"(gzip, xz, lzma, zstd, lz4, bzip2, lzo), or a package holding one kernel\n"
	"(.deb, .rpm, .pkg.tar.zst, tar).  INPUT - is standard input: a\n"
	"vmlinux or vmlinuz may come through a pipe (read up to 1 GiB); a memory\n"
	"image needs random access: give a file (or redirect one: - < FILE).\n"
	"\n"
	"Options:\n"
	"  -o, --output FILE     write FILE (.json, .json.xz or .json.gz) atomically;\n"
	"                        without -o the JSON goes to stdout, never to a terminal\n"
	"      --live            /sys/kernel/btf/vmlinux + /proc/kallsyms, un-slid\n"
	"      --btf FILE        raw BTF (e.g. /sys/kernel/btf/vmlinux) or an ELF with .BTF\n"
	"      --map FILE        System.map or /proc/kallsyms text (with --btf)\n"
	"      --banner TEXT|@FILE  the exact 'Linux version ...' banner: with --btf,\n"
	"                        or to replace a vmlinux's (not with --live or an image)\n"
	"      --symdb FILE      use FILE instead of the built-in symbol-type table\n"
	"      --kernel TEXT     memory image with several kernels: the one whose\n"
	"                        release is TEXT or whose banner contains TEXT\n"
	"      --pretty          indent the JSON (as dwarf2json does)\n"
	"  -v, --verbose         report what was found and used (on stderr)\n"
	"  -q, --quiet           no warnings (not with -v)\n"
	"  -V, --version         print the version and exit\n"
	"  -h, --help            print this help and exit\n"
	"\n"
	"Exit status: 0 written, 1 failure (one line on stderr: what, where, why),\n"
	"2 misuse, found before any work (also: an option that does not apply to the\n"
	"input's kind, -o into a missing directory or with another suffix, stdout a\n"
	"terminal).  Streams are read up to a cap per kind (banner 64 KiB, symbol map\n"
	"and symdb 256 MiB, BTF and kernel files 1 GiB).\n";

struct cli {
	struct profile_opts in;
	const char *output;
	bool pretty;
	int verbosity;
};

static int misuse(const char *what)
{
	fprintf(stderr, "btf2isf: %s (see btf2isf --help)\n", what);
	return EXIT_USAGE;
}

/* Returns -1 to continue, or an exit code. */
static int parse_args(int argc, char **argv, struct cli *c)
{
	enum { OPT_LIVE = 256, OPT_BTF, OPT_MAP, OPT_BANNER, OPT_SYMDB, OPT_PRETTY, OPT_KERNEL };
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "live", no_argument, NULL, OPT_LIVE },
		{ "btf", required_argument, NULL, OPT_BTF },
		{ "map", required_argument, NULL, OPT_MAP },
		{ "banner", required_argument, NULL, OPT_BANNER },
		{ "symdb", required_argument, NULL, OPT_SYMDB },
		{ "pretty", no_argument, NULL, OPT_PRETTY },
		{ "kernel", required_argument, NULL, OPT_KERNEL },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;
	bool verbose = false, quiet = false;

	c->verbosity = LOG_WARN;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":o:vqVh", opts, NULL)) != -1) {
		switch (opt) {
		case 'o': c->output = optarg; break;
		case OPT_LIVE: c->in.live = true; break;
		case OPT_BTF: c->in.btf_path = optarg; break;
		case OPT_MAP: c->in.map_path = optarg; break;
		case OPT_BANNER: c->in.banner_arg = optarg; break;
		case OPT_SYMDB: c->in.symdb_path = optarg; break;
		case OPT_PRETTY: c->pretty = true; break;
		case OPT_KERNEL: c->in.kernel = optarg; break;
		case 'v': c->verbosity++; verbose = true; break;
		case 'q': c->verbosity = LOG_QUIET; quiet = true; break;
		case 'V':
			printf("btf2isf %s (ISF format 6.2.0)\n", BTF2ISF_VERSION);
			return EXIT_OK;
		case 'h':
			fputs(usage_text, stdout);
			return EXIT_OK;
		case ':': {
			char msg[128];
			snprintf(msg, sizeof(msg), "option '%s' needs an argument", argv[optind - 1]);
			return misuse(msg);
		}
		default: {
			char msg[128];
			snprintf(msg, sizeof(msg), "unknown option '%s'", argv[optind - 1]);
			return misuse(msg);
		}
		}
	}
	if (optind < argc)
		c->in.input = argv[optind++];
	if (optind < argc)
		return misuse("only one INPUT may be given");
	int modes = (c->in.input != NULL) + c->in.live + (c->in.btf_path != NULL);
	if (modes == 0)
		return misuse("no input: give a kernel file, --live, or --btf FILE --map FILE");
	if (modes > 1)
		return misuse("INPUT, --live and --btf are alternatives: give one");
	if (!!c->in.btf_path != !!c->in.map_path)
		return misuse("--btf and --map go together");
	/* Options that do not apply to the input.  With INPUT, which kind it is
	 * (and so whether --kernel or --banner applies) is known only once its
	 * first bytes are read: profile_build() says so then, before the work. */
	if (verbose && quiet)
		return misuse("-v and -q are opposites: give one");
	if (c->in.kernel && (c->in.live || c->in.btf_path))
		return misuse("--kernel chooses among the kernels of a memory image; it does not apply to --live or --btf");
	if (c->in.banner_arg && c->in.live)
		return misuse("--banner does not apply to --live: the running kernel's own banner is used");
	if (sink_check_path(c->output) < 0)
		return misuse(err_get());
	/* As gzip and xz refuse to put compressed data on a terminal: 20-40 MB
	 * of JSON is of no use there.  Misuse like the other checks (gzip has
	 * no separate status for it). */
	if ((!c->output || !strcmp(c->output, "-")) && isatty(STDOUT_FILENO)) {
		fprintf(stderr, "btf2isf: refusing to write JSON to a terminal; use -o FILE or redirect stdout\n");
		return EXIT_USAGE;
	}
	return -1;
}

static void report(const struct profile *p, const struct isf_report *r, double t_build,
		   double t_write)
{
	const struct isf_types_stats *s = isf_types_stats(p->types);

	fprintf(stderr,
		"input:        %s\n"
		"BTF:          %zu bytes\n"
		"types:        %u user types (%u typedef aliases, %u anonymous), %u enums, %u base types\n",
		p->input_kind, p->btf_size, s->user_types, s->typedef_aliases, s->anonymous, s->enums,
		s->base_types);
	if (s->duplicate_names || s->unknown_kinds)
		fprintf(stderr, "              %u duplicate names (one kept), %u unknown BTF kinds (as void)\n",
			s->duplicate_names, s->unknown_kinds);
	fprintf(stderr,
		"symbols:      %zu from %s (%zu duplicate names, highest address kept)\n"
		"typed:        %zu by BTF variables, %zu by symdb (%zu rows), %zu left void\n",
		r->symbols, p->symbol_source, p->symbols.duplicates, r->typed_by_btf,
		r->typed_by_symdb, symdb_rows(p->isf.symdb), r->void_typed);
	if (r->symdb_missing_type)
		fprintf(stderr, "              %zu symdb types absent from this BTF, e.g. %s\n",
			r->symdb_missing_type, r->missing_example);
	fprintf(stderr, "banner:       %.*s  [from %s]\n", (int)(p->banner.len > 2 ? p->banner.len - 2 : 0),
		(const char *)p->banner.p, p->banner_source);
	if (p->other_banners[0])
		fprintf(stderr, "              rejected %s\n", p->other_banners);
	if (p->image_report)
		fprintf(stderr, "image:        %s\n", p->image_report);
	if (p->slide_known)
		fprintf(stderr, "KASLR slide:  %#llx = %s\n", (unsigned long long)p->slide, p->slide_method);
	else
		fprintf(stderr, "KASLR slide:  none (addresses are link-time in the input)\n");
	fprintf(stderr, "time:         %.3f s reading, %.3f s writing\n", t_build, t_write);
}

static int run(const struct cli *c)
{
	struct profile p = { 0 };
	struct isf_report r;
	struct sink *out = NULL;
	struct jsonw *w;
	double t0 = now_seconds(), t1, t2;
	int ret = EXIT_FAIL, built;

	/* The output first: a file that cannot be created is known before the
	 * work, and from here a signal removes its temporary file. */
	sink_remove_temp_on_signals();
	if (!(out = sink_open(c->output)))
		goto done;
	if ((built = profile_build(&c->in, &p)) < 0) {
		if (built == PROFILE_MISUSE)
			ret = EXIT_USAGE;
		goto done;
	}
	t1 = now_seconds();
	w = jsonw_new(out, c->pretty);
	int werr = isf_write(&p.isf, w, &r);
	if (jsonw_free(w) < 0 || werr < 0) {
		sink_abort(out);
		out = NULL;
		goto done;
	}
	if (sink_close(out) < 0) {
		out = NULL;
		goto done;
	}
	out = NULL;
	t2 = now_seconds();
	if (c->verbosity >= LOG_INFO)
		report(&p, &r, t1 - t0, t2 - t1);
	ret = EXIT_OK;
done:
	if (ret != EXIT_OK)
		fprintf(stderr, "btf2isf: %s\n", err_get());
	sink_abort(out);
	profile_free(&p);
	return ret;
}

int main(int argc, char **argv)
{
	struct cli c = { 0 };

	heap_prefer_huge_pages();
	if (argc > 1 && !strcmp(argv[1], "check")) {
		signal(SIGPIPE, SIG_IGN);
		return check_main(argc - 1, argv + 1);
	}
	if (argc > 1 && !strcmp(argv[1], "pack"))
		return pack_main(argc - 1, argv + 1);
	int ret = parse_args(argc, argv, &c);

	if (ret >= 0)
		return ret;
	log_set_level(c.verbosity);
	signal(SIGPIPE, SIG_IGN);	/* a closed stdout is reported as an error */
	return run(&c);
}

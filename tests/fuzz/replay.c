/* A plain main() for the fuzz harnesses: feeds every file named on the
 * command line (directories: every file in them) to LLVMFuzzerTestOneInput.
 * Without arguments it replays tests/fuzz/regress/FUZZ_NAME/ (under $TOP, as
 * tests/run sets it), so `make check` reruns every crash ever fixed, with any
 * compiler, sanitizers or not.  Exit 0, or the harness crashes. */
#include "fuzz.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#ifndef FUZZ_NAME
#error FUZZ_NAME names the harness
#endif

static size_t replayed;

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int replay_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *data = NULL;
	size_t n = 0, cap = 0;

	if (!f) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return -1;
	}
	for (;;) {
		if (n == cap) {
			cap = cap ? cap * 2 : 65536;
			data = realloc(data, cap);
			if (!data)
				abort();
		}
		size_t r = fread(data + n, 1, cap - n, f);
		if (!r)
			break;
		n += r;
	}
	fclose(f);
	double t = now();
	LLVMFuzzerTestOneInput(data, n);
	printf("%-8.3f %s (%zu bytes)\n", now() - t, path, n);
	free(data);
	replayed++;
	return 0;
}

static int replay_path(const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode))
		return replay_file(path);
	struct dirent **ents;
	int n = scandir(path, &ents, NULL, alphasort), ret = 0;
	if (n < 0)
		return -1;
	for (int i = 0; i < n; i++) {
		if (ents[i]->d_name[0] != '.') {
			char sub[4096];
			snprintf(sub, sizeof(sub), "%s/%s", path, ents[i]->d_name);
			if (replay_path(sub) < 0)
				ret = -1;
		}
		free(ents[i]);
	}
	free(ents);
	return ret;
}

int main(int argc, char **argv)
{
	int ret = 0;

	/* The empty input and a page of zeros always run: every harness must
	 * refuse them cleanly. */
	static const uint8_t zeros[4096];
	LLVMFuzzerTestOneInput(zeros, 0);
	LLVMFuzzerTestOneInput(zeros, sizeof(zeros));
	if (argc > 1) {
		for (int i = 1; i < argc; i++)
			if (replay_path(argv[i]) < 0)
				ret = 1;
	} else {
		const char *top = getenv("TOP");
		char dir[4096];
		struct stat st;
		snprintf(dir, sizeof(dir), "%s/tests/fuzz/regress/%s", top ? top : ".", FUZZ_NAME);
		if (stat(dir, &st) == 0 && replay_path(dir) < 0)
			ret = 1;
	}
	printf("fuzz_%s: %zu input%s replayed%s\n", FUZZ_NAME, replayed, replayed == 1 ? "" : "s",
	       ret ? ", some unreadable" : "");
	return ret;
}

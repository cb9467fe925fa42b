/* symdb-pack: symdb/symdb.txt → the C source of the compiled table
 * (build/.../symdb_data.c).  Run by scripts/symdb2c.sh from the Makefile.
 *
 *     symdb-pack SYMDB.TXT [NAME-IN-COMMENT]
 *
 * It links the library objects except symdb_data.o, so it defines the
 * built-in table itself, empty. */
#include "log.h"
#include "symdb.h"

#include <stdio.h>

const struct symdb_packed symdb_builtin_packed = { .slot_bits = 1 };

int main(int argc, char **argv)
{
	if (argc < 2 || argc > 3) {
		fputs("usage: symdb-pack SYMDB.TXT [NAME]\n", stderr);
		return 2;
	}
	struct symdb *db = symdb_load(argv[1]);
	if (!db) {
		fprintf(stderr, "symdb-pack: %s\n", err_get());
		return 1;
	}
	int rc = symdb_write_c(db, stdout, argc > 2 ? argv[2] : argv[1]);
	if (rc == 0 && fflush(stdout))
		rc = -1;
	if (rc < 0)
		fprintf(stderr, "symdb-pack: %s\n", err_get());
	symdb_free(db);
	return rc < 0;
}

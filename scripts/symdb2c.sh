#!/bin/sh
# symdb/symdb.txt → C source compiled into btf2isf.
# Input rows: symbol <TAB> first-version <TAB> last-version <TAB> type-expression
# ('#' comments and blank lines ignored).  Output: a sorted array for bsearch.
set -eu
LC_ALL=C
export LC_ALL
printf '/* Generated from %s by scripts/symdb2c.sh; do not edit. */\n' "$1"
printf '#include "symdb.h"\n\nconst struct symdb_row symdb_builtin_rows[] = {\n'
grep -v '^#' "$1" | grep -v '^[[:space:]]*$' | sort -t '	' -k1,1 -k2,2V -s |
awk -F '\t' '
	NF != 4 { printf "symdb.txt: row %d has %d fields, want 4\n", NR, NF > "/dev/stderr"; bad = 1; exit 1 }
	{
		for (i = 1; i <= 4; i++) { gsub(/\\/, "\\\\", $i); gsub(/"/, "\\\"", $i) }
		printf "\t{ \"%s\", \"%s\", \"%s\", \"%s\" },\n", $1, $2, $3, $4
	}
	END { if (bad) exit 1 }'
printf '};\nconst size_t symdb_builtin_count = sizeof(symdb_builtin_rows) / sizeof(symdb_builtin_rows[0]);\n'

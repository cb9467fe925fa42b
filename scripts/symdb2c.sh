#!/bin/sh
# symdb/symdb.txt → C source compiled into btf2isf (build/*/symdb_data.c).
#
#     sh scripts/symdb2c.sh SYMDB.TXT PACKER > symdb_data.c
#
# Rows: symbol <TAB> first-version <TAB> last-version <TAB> type-expression
# ('#' comments and blank lines ignored; src/symdb.h has the grammar).  The
# packer (build/*/symdb-pack, from scripts/symdb-pack.c) parses them with the
# same code as --symdb FILE and writes the compact xxhash-keyed table that
# src/symdb.c looks symbols up in.  It also refuses an unsorted source, so
# that symdb.txt stays diff-friendly (`make symdb` writes it sorted).
set -eu
LC_ALL=C
export LC_ALL
[ $# -eq 2 ] || { echo "usage: symdb2c.sh SYMDB.TXT PACKER" >&2; exit 2; }
if ! grep -v -e '^#' -e '^[[:space:]]*$' "$1" | sort -c -t '	' -k1,1 -s 2>/dev/null; then
	echo "symdb2c.sh: $1 is not sorted by symbol (LC_ALL=C); run 'make symdb' or sort it" >&2
	exit 1
fi
exec "$2" "$1" "$1"

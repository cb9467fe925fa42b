# Shared helpers for the tests/t_* shell tests.  Source it; it sets `tmp`
# (removed on exit) and defines check/expect helpers that count failures.
set -u
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
PY=/usr/bin/python3   # Debian's python3 (has python3-jsonschema)

ok() { echo "ok:   $*"; }
bad() { echo "FAIL: $*"; failures=$((failures + 1)); }
skip() { echo "$*"; exit 77; }            # the whole test cannot run: the reason, exit 77
skip_part() { echo "skip: $*"; }          # one part cannot run: tests/run shows the line
finish() { [ "$failures" -eq 0 ] || { echo "$failures check(s) failed"; exit 1; }; exit 0; }

# expect_exit CODE DESC CMD...: run CMD, require exit CODE; stderr kept in $tmp/err.
expect_exit() {
	local want=$1 desc=$2; shift 2
	"$@" >"$tmp/out" 2>"$tmp/err"
	local rc=$?
	if [ "$rc" -eq "$want" ]; then ok "$desc (exit $rc)"; else bad "$desc: exit $rc, want $want; stderr: $(head -c 300 "$tmp/err")"; fi
}

# expect_one_error_line DESC PATTERN: the last command's stderr is exactly one
# line starting "btf2isf: " and matching PATTERN (extended regex).
expect_one_error_line() {
	local desc=$1 pat=$2 n
	n=$(wc -l <"$tmp/err")
	if [ "$n" -eq 1 ] && grep -Eq "^btf2isf: .*($pat)" "$tmp/err"; then
		ok "$desc: $(cat "$tmp/err")"
	else
		bad "$desc: want one line matching /$pat/, got $n: $(head -c 400 "$tmp/err")"
	fi
}

# The vmlinuz of each reference kernel, or nothing when ../shared is absent.
ref_kernels() {
	[ -n "${REF:-}" ] && [ -d "$REF" ] || return 0
	for d in "$REF"/debian-*/; do [ -f "$d/vmlinuz" ] && basename "$d"; done
}

# A kernel file to test with: the first reference kernel, else the current
# Debian kernel (downloaded into .cache/kernels once); empty if neither.
some_kernel() {
	local k
	k=$(ref_kernels | head -n 1)
	if [ -n "$k" ]; then echo "$REF/$k/vmlinuz"; return; fi
	"$TOP/scripts/debian-kernel" 2>/dev/null || true
}

# isf_validate FILE WHAT: tests/lib/isfvalidate.py on a profile.  Volatility3's
# invariants always run (a violation is a failure); the JSON schema needs a
# copy of Volatility3's schema-6.2.0.json ($REF, or a Volatility3 source tree
# in $CACHE/volatility3), else that part is a skip with isfvalidate's reason.
isf_validate() {
	local f=$1 what=$2 rc
	"$PY" "$TOP/tests/lib/isfvalidate.py" "$f" >"$tmp/val" 2>&1
	rc=$?
	case $rc in
	0) ok "$what: Volatility3 schema 6.2.0 and invariants" ;;
	77) ok "$what: Volatility3 invariants"
	    skip_part "$what: JSON schema not checked: $(tail -n 1 "$tmp/val")" ;;
	*) bad "$what: validation (exit $rc): $(grep -v '^note: ' "$tmp/val" | head -c 600)" ;;
	esac
}

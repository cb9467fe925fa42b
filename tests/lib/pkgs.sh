# Sourced by the pack tests (after common.sh): the real Debian packages they
# use, fetched once into $CACHE/pkgs with the private apt configuration.
#
# The current kernels of three suites (bookworm-security, trixie-security,
# sid) in every flavour (amd64, cloud-amd64, rt-amd64: the 6.x linux-image-*
# packages and the 7.x linux-binary-* ones), plus sid's 7.x linux-image-* meta
# package and a linux-base-* package (no kernel).  Sets debs (all), kernel_debs
# (those holding a kernel), kernels (their count), meta (a meta package or
# ""), and $tmp/pkgs (a directory of links to them); skips the test when there
# are none.
PKGS=${PKGS:-$CACHE/pkgs}
suites="bookworm-security trixie-security sid"
flavours="amd64 cloud-amd64 rt-amd64"
# Under the sanitizers every run is several times slower: one suite and two
# flavours (still with a package holding no kernel); the plain build packs all.
if [ "${SAN:-}" = 1 ]; then suites="sid"; flavours="amd64 cloud-amd64"; fi
fetch() {
	. "$TOP/scripts/lib/debian-apt.sh"
	debian_apt_setup || return 1
	local s f v abi bin
	mkdir -p "$PKGS"
	for s in $suites; do
		for f in $flavours; do
			v=$(apt-cache madison "linux-image-$f" | awk -v s="$s" '$0 ~ " " s "/" { print $3; exit }')
			[ -n "$v" ] || { echo "no linux-image-$f in $s"; return 1; }
			abi=$(apt-cache show "linux-image-$f=$v" | sed -n 's/^Depends: .*\(linux-image-[0-9][^ ,]*\).*/\1/p' | head -1)
			bin=${abi/linux-image-/linux-binary-}
			# 7.x: the kernel is in linux-binary-*, linux-image-* is a meta package.
			if apt-cache show "$bin" >/dev/null 2>&1; then echo "$bin"; [ "$f" = amd64 ] && echo "$abi" "${abi/linux-image-/linux-base-}"; else echo "$abi"; fi
		done
	done > "$tmp/wanted"
	local p
	for p in $(cat "$tmp/wanted"); do
		ls "$PKGS/${p}_"*.deb >/dev/null 2>&1 || (cd "$PKGS" && apt-get download -q "$p" >/dev/null 2>&1) || return 1
	done
}
# Tests run in parallel: one fetch at a time (the second finds the files).
if ! (flock 8 && fetch) 8>"$CACHE/pkgs.lock"; then
	[ -n "$(ls "$PKGS"/*.deb 2>/dev/null)" ] || skip "no Debian kernel packages in $PKGS and the archive is unreachable"
	echo "note: archive unreachable, using the packages already in $PKGS"
	ls "$PKGS"/*.deb | xargs -n1 basename | sed 's/_.*//' > "$tmp/wanted"
fi
debs=()
for p in $(cat "$tmp/wanted"); do debs+=("$(ls -t "$PKGS/${p}_"*.deb | head -1)"); done
mkdir -p "$tmp/pkgs"
for d in "${debs[@]}"; do ln -s "$d" "$tmp/pkgs/"; done
kernel_debs=()	# the packages that hold a kernel (7.x: linux-binary-*; no meta, no base)
for d in "${debs[@]}"; do case $(basename "$d") in linux-base-*) ;; linux-image-7*|linux-image-[89]*) ;; *) kernel_debs+=("$d") ;; esac; done
kernels=${#kernel_debs[@]}
echo "packages: ${#debs[@]} (${kernels} with a kernel)"

meta=$(printf '%s\n' "${debs[@]}" | grep -E '/linux-image-(7|8|9)' | head -1)

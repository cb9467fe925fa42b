# Sourced by scripts that download Debian packages (symdb-fetch, pack-debian,
# tests): a private apt configuration in $CACHE/apt listing bullseye to
# experimental (+ security), for downloading only.  The machine's own sources,
# lists and packages are never touched.
#
#   . scripts/lib/debian-apt.sh; debian_apt_setup    # exports APT_CONFIG
#
# DEBIAN_SUITES, DEBIAN_SECURITY_SUITES, DEBIAN_MIRROR and DEBIAN_SECURITY
# override the suites and mirrors; the lists are refreshed once a day.
debian_apt_setup() {
	local root aptdir keyring=/usr/share/keyrings/debian-archive-keyring.gpg s
	root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
	mkdir -p "${CACHE:-$root/.cache}"
	aptdir=$(cd -P "${CACHE:-$root/.cache}" && pwd)/apt
	local mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
	local security=${DEBIAN_SECURITY:-http://deb.debian.org/debian-security}
	local suites=${DEBIAN_SUITES:-bullseye bookworm bookworm-backports trixie trixie-backports sid experimental}
	local sec_suites=${DEBIAN_SECURITY_SUITES:-bullseye-security bookworm-security trixie-security}
	local list
	list=$(
		for s in $suites; do echo "deb [signed-by=$keyring] $mirror $s main"; done
		for s in $sec_suites; do echo "deb [signed-by=$keyring] $security $s main"; done
	)
	# Another choice of suites or mirrors gets a directory of its own, so
	# that no one's lists are thrown away.
	[ -z "${DEBIAN_SUITES:-}${DEBIAN_SECURITY_SUITES:-}${DEBIAN_MIRROR:-}${DEBIAN_SECURITY:-}" ] ||
		aptdir=$aptdir-$(printf '%s' "$list" | sha256sum | cut -c1-8)
	mkdir -p "$aptdir"/{lists/partial,archives/partial,cache,etc/none.d,etc/parts.d}
	# Written aside and renamed: another test may be reading them right now.
	printf '%s\n' "$list" > "$aptdir/etc/sources.list.$$"
	mv "$aptdir/etc/sources.list.$$" "$aptdir/etc/sources.list"
	# The machine's apt.conf.d (a proxy, a mirror's settings) still applies,
	# but apt reads it after APT_CONFIG, and images often turn the package
	# caches off there: without them each apt-cache call re-reads the lists,
	# 4 s every time.  So our parts directory is theirs plus a last word.
	local part
	for part in /etc/apt/apt.conf.d/*; do
		[ -f "$part" ] && ln -sfn "$part" "$aptdir/etc/parts.d/"
	done
	printf 'Dir::Cache::pkgcache "pkgcache.bin";\nDir::Cache::srcpkgcache "srcpkgcache.bin";\n' \
		> "$aptdir/etc/parts.d/zzzz-btf2isf-caches.$$"
	mv "$aptdir/etc/parts.d/zzzz-btf2isf-caches.$$" "$aptdir/etc/parts.d/zzzz-btf2isf-caches"
	cat > "$aptdir/apt.conf.$$" <<EOC
Dir::Etc::SourceList "$aptdir/etc/sources.list";
Dir::Etc::SourceParts "$aptdir/etc/none.d";
Dir::Etc::Parts "$aptdir/etc/parts.d";
Dir::State::Lists "$aptdir/lists";
Dir::Cache "$aptdir/cache";
Dir::Cache::archives "$aptdir/archives";
APT::Architecture "amd64";
EOC
	mv "$aptdir/apt.conf.$$" "$aptdir/apt.conf"
	export APT_CONFIG=$aptdir/apt.conf
	# One update at a time (tests run in parallel); the others wait, then
	# find the lists fresh.
	(
		flock 8
		if [ -z "$(find "$aptdir/lists" -name '*Packages*' -mmin -1440 2>/dev/null | head -1)" ]; then
			apt-get update -qq >&2
		fi
	) 8>"$aptdir/update.lock"
}

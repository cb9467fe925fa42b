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
	mkdir -p "$aptdir"/{lists/partial,archives/partial,cache,etc/none.d}
	printf '%s\n' "$list" > "$aptdir/etc/sources.list"
	cat > "$aptdir/apt.conf.new" <<EOC
Dir::Etc::SourceList "$aptdir/etc/sources.list";
Dir::Etc::SourceParts "$aptdir/etc/none.d";
Dir::State::Lists "$aptdir/lists";
Dir::Cache "$aptdir/cache";
Dir::Cache::archives "$aptdir/archives";
APT::Architecture "amd64";
EOC
	mv "$aptdir/apt.conf.new" "$aptdir/apt.conf"
	export APT_CONFIG=$aptdir/apt.conf
	if [ -z "$(find "$aptdir/lists" -name '*Packages*' -mmin -1440 2>/dev/null | head -1)" ]; then
		apt-get update -qq >&2
	fi
}

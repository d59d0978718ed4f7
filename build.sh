#!/bin/sh
# hyprox quick start on Debian 12:
#   ./build.sh run     install missing packages, build, run hyproxd in the foreground
#   ./build.sh check   install missing packages, build, run the whole test suite
#                      (then again under ASan+UBSan unless SANITIZERS=0)
# Environment: JOBS (parallel make jobs, default: number of cores),
#              SANITIZERS=1 (only the ASan+UBSan suite), SANITIZERS=0 (skip it).
set -eu

cd "$(dirname "$0")"
top=$(pwd)

PACKAGES="build-essential autoconf automake libtool pkg-config \
libngtcp2-dev libngtcp2-crypto-gnutls-dev libgnutls28-dev libevent-dev \
libcyaml-dev libyaml-dev libsodium-dev check mandoc gnutls-bin \
ngtcp2-client ngtcp2-server"

say() { printf 'build.sh: %s\n' "$*"; }
die() { printf 'build.sh: %s\n' "$*" >&2; exit 1; }

# Install the Debian packages that are missing.
deps() {
	missing=""
	for pkg in $PACKAGES; do
		st=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
		case "$st" in
		*"ok installed"*) ;;
		*) missing="$missing $pkg" ;;
		esac
	done
	[ -z "$missing" ] && return 0
	say "installing missing Debian packages:$missing"
	if [ "$(id -u)" -eq 0 ]; then
		sudo=""
	elif command -v sudo >/dev/null 2>&1; then
		sudo="sudo"
	else
		die "need root to install:$missing — run as root: apt-get install -y$missing"
	fi
	export DEBIAN_FRONTEND=noninteractive
	$sudo apt-get update -qq || die "apt-get update failed"
	# shellcheck disable=SC2086
	$sudo apt-get install -y -qq --no-install-recommends $missing ||
	    die "apt-get install failed for:$missing"
}

# Bootstrap and configure into builddir with extra configure flags.
configure_into() {
	builddir=$1; shift
	if [ ! -x "$top/configure" ] || [ "$top/configure.ac" -nt "$top/configure" ] ||
	    [ "$top/Makefile.am" -nt "$top/configure" ]; then
		say "bootstrapping (autogen.sh)"
		"$top/autogen.sh"
	fi
	mkdir -p "$builddir"
	if [ ! -f "$builddir/Makefile" ] || [ "$top/configure" -nt "$builddir/Makefile" ] ||
	    [ "$(cat "$builddir/.build-flags" 2>/dev/null)" != "$*" ]; then
		say "configuring $builddir ($*)"
		(cd "$builddir" && "$top/configure" --prefix="$builddir/prefix" \
		    --enable-werror "$@" >configure.out 2>&1) ||
		    { cat "$builddir/configure.out"; die "configure failed"; }
		printf '%s' "$*" >"$builddir/.build-flags"
	fi
}

jobs=${JOBS:-$(nproc 2>/dev/null || echo 2)}

# Build in builddir.
build() {
	say "building in $1"
	make -C "$1" -j"$jobs" >"$1/make.out" 2>&1 || { tail -n 60 "$1/make.out"; die "build failed"; }
}

# Run the test suite in builddir; print a summary line.
suite() {
	builddir=$1 label=$2
	say "running the $label test suite in $builddir"
	rc=0
	make -C "$builddir" -j"$jobs" check || rc=$?
	log="$builddir/test-suite.log"
	if [ -f "$log" ]; then
		pass=$(sed -n 's/^# PASS: *//p' "$log")
		fail=$(sed -n 's/^# FAIL: *//p' "$log")
		err=$(sed -n 's/^# ERROR: *//p' "$log")
		skip=$(sed -n 's/^# SKIP: *//p' "$log")
		[ "$rc" -ne 0 ] && cat "$log"
		echo "$label: ${pass:-0} passed, $(( ${fail:-0} + ${err:-0} )) failed, ${skip:-0} skipped"
	fi
	return "$rc"
}

cmd=${1:-}
case "$cmd" in
run)
	deps
	configure_into "$top/_build"
	build "$top/_build"
	make -C "$top/_build" install >"$top/_build/install.out" 2>&1 ||
	    { tail -n 40 "$top/_build/install.out"; die "install into _build/prefix failed"; }
	key="$top/conf.d/keys/ticket-k1.key"
	if [ ! -s "$key" ]; then
		say "creating the ticket signing key $key (64 random bytes, mode 600)"
		mkdir -p "$top/conf.d/keys"
		(umask 077 && head -c 64 /dev/urandom >"$key")
	fi
	say "starting hyproxd in the foreground (Ctrl-C stops it)"
	exec "$top/_build/prefix/sbin/hyproxd" -f \
	    -c "$top/_build/prefix/etc/hyprox/hyproxd.yaml" -C "$top/conf.d"
	;;
check)
	deps
	status=0
	if [ "${SANITIZERS:-}" != 1 ]; then
		configure_into "$top/_build"
		build "$top/_build"
		suite "$top/_build" "tests" || status=1
	fi
	if [ "${SANITIZERS:-}" != 0 ]; then
		configure_into "$top/_build-san" --enable-sanitizers
		build "$top/_build-san"
		ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		    suite "$top/_build-san" "sanitizer tests" || status=1
	fi
	exit "$status"
	;;
*)
	echo "usage: ./build.sh run | check" >&2
	exit 2
	;;
esac

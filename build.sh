#!/bin/sh
# hyprox quick start on Debian 12:
#   ./build.sh run     install missing packages, build, run hyproxd in the foreground
#                      with a demo backend (mock-backend verifying tickets) on
#                      127.0.0.1:5521, the backend of conf.d/20-router.yaml
#   ./build.sh check   install missing packages, build, run the whole test suite
#                      (then again under ASan+UBSan unless SANITIZERS=0)
# Environment: JOBS (parallel make jobs, default: number of cores),
#              SANITIZERS=1 (only the ASan+UBSan suite), SANITIZERS=0 (skip it),
#              DEMO_BACKEND=0 (run: no demo backend).
set -eu

cd "$(dirname "$0")"
top=$(pwd)

PACKAGES="build-essential autoconf automake libtool pkg-config \
libngtcp2-dev libngtcp2-crypto-gnutls-dev libgnutls28-dev libevent-dev \
libcyaml-dev libyaml-dev libsodium-dev check mandoc gnutls-bin \
ngtcp2-client ngtcp2-server curl"

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

# Start the demo backend of conf.d/20-router.yaml in the background: the
# mock backend of the test peers, verifying tickets with the same key;
# it is stopped when this script exits.
demo_backend() {
	say "building the test peers (for the demo backend)"
	make -C "$top/_build" test-peers >"$top/_build/test-peers.out" 2>&1 ||
	    { tail -n 40 "$top/_build/test-peers.out"; die "building the test peers failed"; }
	router="$top/conf.d/20-router.yaml"
	# "  - id: POOL" under pools:, then "      - id: BACKEND" and its port.
	pool=$(sed -n 's/^  - id: *\([A-Za-z0-9._-]*\) *$/\1/p' "$router" | head -n 1)
	backend=$(sed -n 's/^      - id: *\([A-Za-z0-9._-]*\) *$/\1/p' "$router" | head -n 1)
	bport=$(sed -n 's/^        port: *\([0-9]*\) *$/\1/p' "$router" | head -n 1)
	[ -n "$pool" ] && [ -n "$backend" ] && [ -n "$bport" ] ||
	    die "cannot find the backend's id, pool and port in $router (DEMO_BACKEND=0 skips the demo backend)"
	demolog="$top/_build/demo-backend.log"
	"$top/_build/test/peers/mock-backend" --listen "127.0.0.1:$bport" \
	    --ticket-key "k1=file:$key" --backend-id "$backend" --pool "$pool" \
	    >"$demolog" 2>&1 &
	demo=$!
	trap 'kill -TERM "$demo" 2>/dev/null || :; wait "$demo" 2>/dev/null || :' EXIT
	n=0
	until grep -q '^listening addr=' "$demolog" 2>/dev/null; do
		if ! kill -0 "$demo" 2>/dev/null || [ "$n" -ge 100 ]; then
			cat "$demolog" >&2
			die "the demo backend did not start on 127.0.0.1:$bport (DEMO_BACKEND=0 skips it)"
		fi
		sleep 0.1
		n=$((n + 1))
	done
	say "demo backend '$backend' (pool '$pool') on 127.0.0.1:$bport, pid $demo, log _build/demo-backend.log"
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
	hyproxd="$top/_build/prefix/sbin/hyproxd"
	set -- -f -c "$top/_build/prefix/etc/hyprox/hyproxd.yaml" -C "$top/conf.d"
	if [ "${DEMO_BACKEND:-1}" = 0 ]; then
		say "starting hyproxd in the foreground (Ctrl-C stops it)"
		exec "$hyproxd" "$@"
	fi
	demo_backend
	say "starting hyproxd in the foreground (Ctrl-C stops it and the demo backend)"
	say "try in another terminal: _build/hyproxctl probe --follow 127.0.0.1:5520"
	"$hyproxd" "$@" &
	hpid=$!
	trap 'kill -TERM "$hpid" 2>/dev/null || :' INT TERM
	# wait returns early when a trapped signal arrives: wait again.
	while :; do
		rc=0
		wait "$hpid" || rc=$?
		kill -0 "$hpid" 2>/dev/null || break
	done
	exit "$rc"
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

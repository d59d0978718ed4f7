# lib.sh: helpers shared by the integration tests (sourced, POSIX sh).
#
# Every test sources this file, then calls it_setup, which makes a private
# temporary directory ($T) and installs a trap that kills the daemons the
# test started (only those, by pid) and removes $T.  Daemons are started
# in the foreground (-f) in the background of the shell, so $! is the
# daemon itself: the libtool wrapper execs the real binary, and
# start_daemon checks the pid the daemon logs against $!.
#
# Exit statuses follow automake: 0 pass, 77 skip, anything else fail.

: "${top_srcdir:?top_srcdir must be set (run through make check)}"
: "${top_builddir:?top_builddir must be set (run through make check)}"

HYPROXD="$top_builddir/hyproxd"
PLUGIN_DIR="$top_builddir/test/plugins/.libs"
FIXTURES="$top_srcdir/test/integration/conf"
IT_NAME=$(basename "$0" .sh)
IT_PIDS=""
T=""

# Sanitizer builds: a report must never pass for an expected exit status.
ASAN_OPTIONS="exitcode=86${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
UBSAN_OPTIONS="print_stacktrace=1:exitcode=87${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
export ASAN_OPTIONS UBSAN_OPTIONS
SAN_RE='ERROR: [A-Za-z]*Sanitizer|SUMMARY: [A-Za-z]*Sanitizer|runtime error: '

# Print a failure, show the logs of the test, and exit 1.
fail()
{
	echo "FAIL: $IT_NAME: $*" >&2
	if [ -n "$T" ] && [ -d "$T" ]; then
		for f in "$T"/*.log "$T"/*.out "$T"/*.err; do
			[ -f "$f" ] || continue
			echo "---- ${f#"$T"/} (last 40 lines) ----" >&2
			tail -n 40 "$f" >&2
		done
	fi
	exit 1
}

# Skip the whole test.
skip()
{
	echo "SKIP: $IT_NAME: $*"
	exit 77
}

# Report one passed check.
ok()
{
	echo "ok: $*"
}

# Kill the daemons this test started, then remove the temporary directory.
it_cleanup()
{
	for pid in $IT_PIDS; do
		if kill -0 "$pid" 2>/dev/null; then
			kill -KILL "$pid" 2>/dev/null || :
			wait "$pid" 2>/dev/null || :
		fi
	done
	IT_PIDS=""
	if [ -n "$T" ] && [ -d "$T" ]; then
		rm -rf "$T"
	fi
}

# Make $T, install the traps and check the daemon and plugins were built.
it_setup()
{
	T=$(mktemp -d "${TMPDIR:-/tmp}/hyprox-$IT_NAME.XXXXXX") ||
	    fail "cannot create a temporary directory"
	trap it_cleanup EXIT
	trap 'exit 1' INT TERM HUP
	[ -x "$HYPROXD" ] || fail "$HYPROXD was not built"
}

# Check that the test plugins were built.
need_plugins()
{
	for n in "$@"; do
		[ -f "$PLUGIN_DIR/$n.so" ] ||
		    fail "test plugin $PLUGIN_DIR/$n.so was not built"
	done
}

# Milliseconds since the epoch.
now_ms()
{
	echo $(($(date +%s%N) / 1000000))
}

# Whether pid is alive (a zombie counts as gone).
is_running()
{
	[ -r "/proc/$1/stat" ] || return 1
	st=$(sed -n 's/^.*) \(.\).*$/\1/p' "/proc/$1/stat" 2>/dev/null) ||
	    return 1
	[ -n "$st" ] && [ "$st" != Z ]
}

# Wait until an extended regex appears in a file: wait_for_log RE FILE SECS.
wait_for_log()
{
	wl_n=$(($3 * 20))
	while [ "$wl_n" -gt 0 ]; do
		if [ -f "$2" ] && grep -Eq -- "$1" "$2"; then
			return 0
		fi
		sleep 0.05
		wl_n=$((wl_n - 1))
	done
	return 1
}

# Wait until a file holds at least N lines matching RE: wait_for_count RE N FILE SECS.
wait_for_count()
{
	wc_n=$(($4 * 20))
	while [ "$wc_n" -gt 0 ]; do
		if [ -f "$3" ] &&
		    [ "$(grep -Ec -- "$1" "$3" || :)" -ge "$2" ]; then
			return 0
		fi
		sleep 0.05
		wc_n=$((wc_n - 1))
	done
	return 1
}

# Wait for a daemon to exit, reap it and set RC: wait_exit PID SECS.
wait_exit()
{
	we_n=$(($2 * 20))
	while is_running "$1"; do
		if [ "$we_n" -le 0 ]; then
			return 1
		fi
		sleep 0.05
		we_n=$((we_n - 1))
	done
	RC=0
	wait "$1" || RC=$?
	it_forget "$1"
	return 0
}

# Drop a pid from the list of daemons to kill on exit.
it_forget()
{
	ff_new=""
	for pid in $IT_PIDS; do
		[ "$pid" = "$1" ] || ff_new="$ff_new $pid"
	done
	IT_PIDS=$ff_new
}

# Start hyproxd -f in the background, stderr to $T/NAME.log, stdout to
# $T/NAME.out: start_daemon NAME ARGS...; sets DPID.
spawn_daemon()
{
	sd_name=$1
	shift
	"$HYPROXD" -f "$@" >"$T/$sd_name.out" 2>"$T/$sd_name.log" &
	DPID=$!
	IT_PIDS="$IT_PIDS $DPID"
}

# spawn_daemon, then wait for "started" in LOG (default the stderr log)
# and check that the pid it logs is $!: start_daemon NAME LOG ARGS...
start_daemon()
{
	sd_name=$1
	sd_log=$2
	shift 2
	[ -n "$sd_log" ] || sd_log="$T/$sd_name.log"
	spawn_daemon "$sd_name" "$@"
	if ! wait_for_log 'hyproxd .* started \(pid [0-9]+' "$sd_log" 10; then
		is_running "$DPID" || fail "$sd_name: hyproxd exited at start-up"
		fail "$sd_name: hyproxd did not log 'started' within 10 s"
	fi
	sd_pid=$(sed -n 's/.*hyproxd .* started (pid \([0-9][0-9]*\).*/\1/p' \
	    "$sd_log" | tail -n 1)
	[ "$sd_pid" = "$DPID" ] ||
	    fail "$sd_name: daemon logs pid $sd_pid but \$! is $DPID"
}

# Fail when any output of this test holds a sanitizer report.
san_check()
{
	for f in "$T"/*.log "$T"/*.err "$T"/*.out; do
		[ -f "$f" ] || continue
		if grep -Eq -- "$SAN_RE" "$f"; then
			echo "---- ${f#"$T"/} ----" >&2
			grep -E -A 30 -- "$SAN_RE" "$f" | head -n 60 >&2
			fail "sanitizer report in ${f#"$T"/}"
		fi
	done
}

# The end of a test that passed: last check for sanitizer reports.
it_done()
{
	san_check
	echo "PASS: $IT_NAME"
}

# Send SIG to PID and expect exit 0 within SECS: stop_daemon PID SECS [SIG].
stop_daemon()
{
	kill "-${3:-TERM}" "$1" || fail "cannot signal pid $1"
	wait_exit "$1" "$2" || fail "pid $1 did not exit within $2 s of SIG${3:-TERM}"
	san_check
	[ "$RC" -eq 0 ] || fail "pid $1 exited $RC after SIG${3:-TERM}, expected 0"
}

# Run hyproxd in the foreground of the test, bounded, and set RC:
# run_hyproxd NAME ARGS...  (stdout: $T/NAME.out, stderr: $T/NAME.err)
run_hyproxd()
{
	rh_name=$1
	shift
	RC=0
	timeout 20 "$HYPROXD" "$@" >"$T/$rh_name.out" 2>"$T/$rh_name.err" ||
	    RC=$?
	[ "$RC" -ne 124 ] || fail "$rh_name: hyproxd $* did not finish in 20 s"
	san_check
}

# Expect run_hyproxd's status: expect_rc WANT WHAT.
expect_rc()
{
	[ "$RC" -eq "$1" ] || fail "$2: exit status $RC, expected $1"
}

# Expect an extended regex in a file: expect_grep RE FILE WHAT.
expect_grep()
{
	grep -Eq -- "$1" "$2" || fail "$3: /$1/ not found in ${2#"$T"/}"
}

# Expect an extended regex absent from a file: expect_no_grep RE FILE WHAT.
expect_no_grep()
{
	if grep -Eq -- "$1" "$2"; then
		fail "$3: /$1/ unexpectedly found in ${2#"$T"/}"
	fi
}

# Escape a string for use as a literal inside an extended regex.
re_quote()
{
	printf '%s\n' "$1" | sed 's/[][\.*^$(){}?+|/]/\\&/g'
}

# Write a core configuration DIR/hyproxd.yaml from a fixture, with
# @PLUGIN_DIR@ replaced: core_conf DIR [FIXTURE]; more keys may follow
# with cat >>.
core_conf()
{
	mkdir -p "$1/conf.d"
	sed "s|@PLUGIN_DIR@|$PLUGIN_DIR|g" "$FIXTURES/${2:-hyproxd.yaml}" \
	    >"$1/hyproxd.yaml" || fail "cannot write $1/hyproxd.yaml"
}

# Copy a conf.d fixture: plugin_conf DIR FIXTURE NN-name.yaml.
plugin_conf()
{
	cp "$FIXTURES/$2" "$1/conf.d/$3" || fail "cannot copy fixture $2"
}

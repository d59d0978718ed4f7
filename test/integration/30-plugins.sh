#!/bin/sh
# 30-plugins: broken plugins are refused with one clear line; optional ones
# are skipped; the pid file keeps a second daemon out.
#
# Covers:
#  - badmajor (ABI major differs), newminor (newer minor), nosym (no
#    hyp_plugin symbol), wrongname (descriptor names another plugin) and
#    loadfail (load() fails), each enabled beside good: hyproxd -f exits 1
#    without starting, with exactly one "refused" line naming the plugin,
#    its conf.d file and the reason (and the .so for open-time refusals)
#  - the same plugin listed in optional_plugins: --check passes, the daemon
#    starts, logs one "(optional: skipped)" warning, good keeps serving and
#    ticking, SIGTERM exits 0
#  - pid_file: holds the daemon's pid; a second daemon with the same file
#    refuses ("already running (pid N)", exit 1, loads nothing) while the
#    first keeps running; the file is removed when the first exits; a stale
#    pid file (no lock held) is taken over
set -eu
. "$top_srcdir/test/integration/lib.sh"
it_setup
need_plugins good badmajor newminor nosym wrongname loadfail

abi_major=$(sed -n 's/^#define[ 	]*HYP_ABI_MAJOR[ 	]*\([0-9]*\).*/\1/p' \
    "$top_srcdir/sdk/hyprox/abi.h")
abi_minor=$(sed -n 's/^#define[ 	]*HYP_ABI_MINOR[ 	]*\([0-9]*\).*/\1/p' \
    "$top_srcdir/sdk/hyprox/abi.h")

# The reason (extended regex) hyproxd gives for refusing plugin $1.
reason()
{
	so=$(re_quote "$PLUGIN_DIR/$1.so")
	case $1 in
	badmajor)
		echo "$so: built for plugin ABI $((abi_major + 1))\\.0, this hyproxd has ABI $abi_major\\.$abi_minor \\(major differs" ;;
	newminor)
		echo "$so: built for plugin ABI $abi_major\\.$((abi_minor + 1)), newer than this hyproxd's $abi_major\\.$abi_minor" ;;
	nosym)
		echo "$so: no 'hyp_plugin' symbol: not a hyprox plugin" ;;
	wrongname)
		echo "$so: descriptor names the plugin 'somethingelse', expected 'wrongname'" ;;
	loadfail)
		echo "load\\(\\) failed" ;;
	esac
}

for b in badmajor newminor nosym wrongname loadfail; do
	C="$T/$b"
	core_conf "$C"
	plugin_conf "$C" good.yaml 10-good.yaml
	plugin_conf "$C" empty.yaml "20-$b.yaml"
	cf=$(re_quote "$C/conf.d/20-$b.yaml")

	# Fatal: the daemon does not start.
	run_hyproxd "$b" -f -c "$C/hyproxd.yaml"
	expect_rc 1 "$b enabled: hyproxd -f"
	n=$(grep "refused" "$T/$b.err" | grep -c "$b" || :)
	[ "$n" -eq 1 ] || fail "$b: $n 'refused' lines name it, expected 1"
	expect_grep "^.* err +\\[core\\] plugin '$b' \\($cf\\) refused: $(reason "$b")" \
	    "$T/$b.err" "$b: the refusal line"
	expect_no_grep 'optional: skipped' "$T/$b.err" "$b: not optional"
	expect_no_grep 'hyproxd .* started' "$T/$b.err" "$b: must not start"
	expect_no_grep 'serving: ' "$T/$b.err" "$b: good must not start"

	# Optional: skipped, the rest runs.
	cat >>"$C/hyproxd.yaml" <<EOF
optional_plugins:
  - $b
EOF
	run_hyproxd "$b-check" -c "$C/hyproxd.yaml" --check
	expect_rc 0 "$b optional: --check"
	start_daemon "$b-opt" "" -c "$C/hyproxd.yaml" -l debug
	L="$T/$b-opt.log"
	n=$(grep "refused" "$L" | grep -c "$b" || :)
	[ "$n" -eq 1 ] || fail "$b optional: $n 'refused' lines name it, expected 1"
	expect_grep "^.* warning +\\[core\\] plugin '$b' \\($cf\\) refused: $(reason "$b").* \\(optional: skipped\\)\$" \
	    "$L" "$b optional: the warning"
	expect_grep '\[good\] serving: message=one' "$L" "$b optional: good serves"
	wait_for_log '\[good\] tick 3$' "$L" 5 ||
	    fail "$b optional: good does not keep ticking"
	stop_daemon "$DPID" 5
	expect_grep '\[good\] unloaded' "$L" "$b optional: good unloaded on stop"
	ok "$b: refused with one line; optional: skipped, good keeps working"
done

# ---- pid file ----
C="$T/pid"
core_conf "$C"
plugin_conf "$C" good.yaml 10-good.yaml
mkdir -p "$T/run"
cat >>"$C/hyproxd.yaml" <<EOF
pid_file: $T/run/hyproxd.pid
EOF
start_daemon first "" -c "$C/hyproxd.yaml"
first=$DPID
[ "$(cat "$T/run/hyproxd.pid")" = "$first" ] ||
    fail "pid file holds '$(cat "$T/run/hyproxd.pid")', expected $first"
run_hyproxd second -f -c "$C/hyproxd.yaml"
expect_rc 1 "second daemon with the same pid file"
expect_grep "$(re_quote "$T/run/hyproxd.pid"): hyproxd is already running \\(pid $first\\)" \
    "$T/second.err" "second daemon: the refusal"
expect_no_grep 'loaded: |started' "$T/second.err" "second daemon must not load plugins"
is_running "$first" || fail "the first daemon died when the second started"
[ "$(cat "$T/run/hyproxd.pid")" = "$first" ] ||
    fail "the second daemon changed the pid file"
kill -HUP "$first"
wait_for_log 'reload complete' "$T/first.log" 5 ||
    fail "the first daemon does not answer SIGHUP after the second tried"
stop_daemon "$first" 5
[ ! -e "$T/run/hyproxd.pid" ] || fail "pid file not removed on exit"
ok "pid file: second daemon refused, first unaffected, file removed"

# A stale pid file (nobody holds the lock) is taken over.
echo 999999 >"$T/run/hyproxd.pid"
start_daemon stale "" -c "$C/hyproxd.yaml"
[ "$(cat "$T/run/hyproxd.pid")" = "$DPID" ] ||
    fail "stale pid file not rewritten: '$(cat "$T/run/hyproxd.pid")'"
stop_daemon "$DPID" 5
[ ! -e "$T/run/hyproxd.pid" ] || fail "stale pid file not removed on exit"
ok "a stale pid file is taken over"

it_done

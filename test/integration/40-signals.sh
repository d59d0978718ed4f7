#!/bin/sh
# 40-signals: SIGHUP reloads all-or-nothing, SIGTERM drains within the
# drain timeout, a second SIGTERM stops at once.
#
# Covers:
#  - SIGHUP with a good change (message one -> two): "plugin 'good'
#    reloaded", "serving: message=two", "reload complete"; good is not
#    loaded again
#  - SIGHUP with a bad configuration keeps the old one ("reload failed;
#    keeping the previous configuration", daemon alive, nothing re-served):
#    unknown key in 10-good.yaml, refuse_reload: true (the plugin refuses
#    in the prepare phase), broken hyproxd.yaml, plugin_dir changed; a good
#    SIGHUP after them still applies
#  - SIGHUP adding conf.d/20-slowstop.yaml loads and starts slowstop (good
#    untouched); removing it unloads it
#  - SIGTERM with slowstop drain_ms 300: exit 0 after "drain finished" and
#    "all plugins drained", in order, not before 300 ms
#  - SIGTERM with drain_ms 0 (never drains) and drain_timeout 1s: "drain
#    timeout (1000 ms) passed", exit 0 within 3 s
#  - drain_timeout 30s: SIGHUP while stopping is ignored, a second SIGTERM
#    stops at once (exit 0 within 2 s)
#  - SIGINT stops like SIGTERM
set -eu
. "$top_srcdir/test/integration/lib.sh"
it_setup
need_plugins good slowstop

# Count the lines of file F matching RE.
count()
{
	grep -Ec -- "$1" "$2" || :
}

# Send SIGHUP and wait for the Nth "reload complete" or "reload failed"
# line: hup PID LOG WANT(complete|failed).
NRELOAD=0
hup()
{
	NRELOAD=$((NRELOAD + 1))
	kill -HUP "$1"
	wait_for_count 'reload complete|reload failed; keeping the previous configuration' \
	    "$NRELOAD" "$2" 5 || fail "SIGHUP #$NRELOAD: no reload result within 5 s"
	last=$(grep -E 'reload complete|reload failed; keeping' "$2" | tail -n 1)
	case $3:$last in
	complete:*"reload complete"*|failed:*"reload failed; keeping the previous configuration"*)
		;;
	*)
		fail "SIGHUP #$NRELOAD: expected reload $3, got: $last" ;;
	esac
	is_running "$1" || fail "SIGHUP #$NRELOAD: the daemon died"
}

# ---- reloads ----
C="$T/etc"
core_conf "$C"
plugin_conf "$C" good.yaml 10-good.yaml
cat >>"$C/hyproxd.yaml" <<'EOF'
drain_timeout: 2s
EOF
cp "$C/hyproxd.yaml" "$T/hyproxd.yaml.good"
start_daemon main "" -c "$C/hyproxd.yaml"
L="$T/main.log"
pid=$DPID
wait_for_log '\[good\] serving: message=one' "$L" 5 || fail "good does not serve"

plugin_conf "$C" good-two.yaml 10-good.yaml
hup "$pid" "$L" complete
expect_grep "\\[core\\] plugin 'good' reloaded" "$L" "good change: reloaded"
expect_grep '\[good\] serving: message=two' "$L" "good change: new message"
[ "$(count 'loaded: message=' "$L")" -eq 1 ] ||
    fail "good change: good was loaded again instead of reloaded"
ok "SIGHUP with a good change applies it"

serving=$(count 'serving: message=' "$L")

plugin_conf "$C" good-unknown.yaml 10-good.yaml
hup "$pid" "$L" failed
expect_grep "$(re_quote "$C/conf.d/10-good.yaml"):[0-9]+:[0-9]+: .*'colour'" "$L" \
    "bad reload (unknown key): the error"
ok "SIGHUP with an unknown key keeps the previous configuration"

plugin_conf "$C" good-refuse.yaml 10-good.yaml
hup "$pid" "$L" failed
expect_grep '\[good\] refusing reload on purpose' "$L" "refuse_reload: the plugin refuses"
expect_grep "plugin 'good' refused the new configuration" "$L" "refuse_reload: logged"
expect_no_grep 'message=three' "$L" "refuse_reload: the refused message was applied"
ok "SIGHUP refused by the plugin keeps the previous configuration"

plugin_conf "$C" good-two.yaml 10-good.yaml
core_conf "$C" bad-unknown-top.yaml
hup "$pid" "$L" failed
expect_grep "$(re_quote "$C/hyproxd.yaml"):[0-9]+:1: .*'listen_port'" "$L" \
    "broken hyproxd.yaml: the error"
ok "SIGHUP with a broken hyproxd.yaml keeps the previous configuration"

sed "s|^plugin_dir: .*|plugin_dir: $T|" "$T/hyproxd.yaml.good" >"$C/hyproxd.yaml"
hup "$pid" "$L" failed
expect_grep 'plugin_dir and pid_file cannot change on reload' "$L" \
    "plugin_dir change: refused"
ok "SIGHUP changing plugin_dir keeps the previous configuration"

[ "$(count 'serving: message=' "$L")" -eq "$serving" ] ||
    fail "a failed reload re-served the plugin"
[ "$(count "plugin 'good' reloaded" "$L")" -eq 1 ] ||
    fail "a failed reload reported 'plugin good reloaded'"

cp "$T/hyproxd.yaml.good" "$C/hyproxd.yaml"
printf 'message: four\ntick_ms: 20\n' >"$C/conf.d/10-good.yaml"
hup "$pid" "$L" complete
expect_grep '\[good\] serving: message=four' "$L" "good reload after failures"
ok "a good SIGHUP after failed ones applies"

# Add a plugin, then remove it.
printf 'drain_ms: 300\n' >"$C/conf.d/20-slowstop.yaml"
hup "$pid" "$L" complete
expect_grep "plugin 'slowstop' added and started" "$L" "adding slowstop"
[ "$(count 'serving: message=' "$L")" -eq $((serving + 1)) ] ||
    fail "adding slowstop touched good"
ok "SIGHUP adding 20-slowstop.yaml loads and starts it"

rm "$C/conf.d/20-slowstop.yaml"
hup "$pid" "$L" complete
expect_grep "plugin 'slowstop' removed" "$L" "removing slowstop"
# A removed plugin drains (300 ms) before it is unloaded.
wait_for_log "plugin 'slowstop' drained" "$L" 3 ||
    fail "removed slowstop never drained"
expect_grep "drain finished" "$L" "removed slowstop's own drain"
expect_no_grep "left at unload" "$L" "removed slowstop unloaded before draining"
[ "$(count "plugin 'good' reloaded" "$L")" -eq 2 ] ||
    fail "removing slowstop touched good"
ok "SIGHUP removing 20-slowstop.yaml drains, then unloads it"

t0=$(now_ms)
stop_daemon "$pid" 3
expect_no_grep 'drain timeout \([0-9]+ ms\) passed' "$L" "stop after slowstop was removed waited for it"
ok "SIGTERM exits 0 ($(($(now_ms) - t0)) ms)"

# ---- draining ----
# Start a daemon with good and slowstop (drain_ms, drain_timeout); sets DPID.
drain_daemon()
{
	core_conf "$T/$1"
	plugin_conf "$T/$1" good.yaml 10-good.yaml
	printf 'drain_ms: %s\n' "$2" >"$T/$1/conf.d/20-slowstop.yaml"
	printf 'drain_timeout: %s\n' "$3" >>"$T/$1/hyproxd.yaml"
	start_daemon "$1" "" -c "$T/$1/hyproxd.yaml"
	wait_for_log "plugin 'slowstop' 1.0 started" "$T/$1.log" 5 ||
	    fail "$1: slowstop did not start"
}

# Line number of the first line of F matching RE (0: none).
line_no()
{
	n=$(grep -En -- "$1" "$2" | head -n 1 | cut -d: -f1)
	echo "${n:-0}"
}

drain_daemon drain300 300 5s
t0=$(now_ms)
stop_daemon "$DPID" 5
dt=$(($(now_ms) - t0))
L="$T/drain300.log"
a=$(line_no '\[slowstop\] draining for 300 ms' "$L")
b=$(line_no '\[slowstop\] drain finished' "$L")
c=$(line_no "plugin 'slowstop' drained" "$L")
d=$(line_no 'all plugins drained' "$L")
e=$(line_no '\[core\] hyproxd stopped' "$L")
[ "$a" -gt 0 ] && [ "$a" -lt "$b" ] && [ "$b" -lt "$c" ] && [ "$c" -lt "$d" ] &&
    [ "$d" -lt "$e" ] ||
    fail "drain 300 ms: lines out of order or missing ($a $b $c $d $e)"
expect_no_grep 'drain timeout \([0-9]+ ms\) passed' "$L" "drain 300 ms"
[ "$dt" -ge 280 ] || fail "drain 300 ms: exited after $dt ms, before the drain"
ok "SIGTERM drains slowstop (300 ms) then exits 0 after $dt ms"

drain_daemon never 0 1s
t0=$(now_ms)
stop_daemon "$DPID" 3
dt=$(($(now_ms) - t0))
L="$T/never.log"
expect_grep '\[slowstop\] draining forever' "$L" "never drains"
expect_grep 'drain timeout \(1000 ms\) passed; still draining: slowstop' "$L" \
    "never drains: the timeout"
expect_grep '\[core\] hyproxd stopped' "$L" "never drains: stopped"
[ "$dt" -ge 900 ] || fail "drain timeout 1s: exited after $dt ms"
ok "SIGTERM with a plugin that never drains exits 0 after the timeout ($dt ms)"

drain_daemon twice 0 30s
L="$T/twice.log"
kill -TERM "$DPID"
wait_for_log '\[slowstop\] draining forever' "$L" 5 || fail "twice: not draining"
kill -HUP "$DPID"
wait_for_log 'SIGHUP while stopping: ignored' "$L" 5 ||
    fail "SIGHUP while stopping is not ignored"
t0=$(now_ms)
stop_daemon "$DPID" 2
dt=$(($(now_ms) - t0))
expect_grep 'signal 15 again: stopping now' "$L" "second SIGTERM"
expect_no_grep 'drain timeout \([0-9]+ ms\) passed' "$L" "second SIGTERM"
ok "a second SIGTERM during a 30 s drain stops at once ($dt ms)"

core_conf "$T/int"
plugin_conf "$T/int" good.yaml 10-good.yaml
start_daemon int "" -c "$T/int/hyproxd.yaml"
stop_daemon "$DPID" 3 INT
expect_grep 'signal 2: stopping' "$T/int.log" "SIGINT"
ok "SIGINT stops like SIGTERM"

it_done

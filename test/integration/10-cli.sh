#!/bin/sh
# 10-cli: hyproxd's command line and its log sinks, with the real daemon.
#
# Covers:
#  - -h/--help: exit 0, usage on stdout; -V/--version: hyproxd version with
#    the plugin ABI, libevent, GnuTLS, ngtcp2, libcyaml and libsodium lines
#  - usage errors exit 2: unknown option, stray argument, bad -l level
#  - -c with a missing file: exit 1, the message names the file
#  - --check ("configuration ok", exit 0); --dry-run runs load() (log shows
#    "loaded", exit 0) and fails (exit 1) when a plugin's load() fails
#  - --print-effective-config: core and plugins sections, defaults shown,
#    the api_token value never printed but <redacted>
#  - -C replaces conf_dir
#  - -f: foreground run, plugin serving, SIGTERM exits 0; -l debug
#  - without -f: daemonizes, writes the pid file, SIGTERM removes it
#  - log.format json: every line is a JSON object (a quote, tab,
#    backslash, UTF-8 letter and control character escaped), plugin lines
#    carry "plugin":"good", core lines "plugin":"core"
#  - log.output file: SIGUSR1 after mv reopens, new lines go to the new file
#  - every text line a plugin logs carries [good]
set -eu
. "$top_srcdir/test/integration/lib.sh"
it_setup
need_plugins good loadfail

C="$T/etc"
core_conf "$C"
plugin_conf "$C" good.yaml 10-good.yaml

# ---- help and version ----
for o in -h --help; do
	run_hyproxd help "$o"
	expect_rc 0 "hyproxd $o"
	expect_grep '^usage: hyproxd ' "$T/help.out" "hyproxd $o"
	expect_grep '--print-effective-config' "$T/help.out" "hyproxd $o"
	[ ! -s "$T/help.err" ] || fail "hyproxd $o wrote to stderr"
done
ok "-h, --help"

abi_major=$(sed -n 's/^#define[ 	]*HYP_ABI_MAJOR[ 	]*\([0-9]*\).*/\1/p' \
    "$top_srcdir/sdk/hyprox/abi.h")
abi_minor=$(sed -n 's/^#define[ 	]*HYP_ABI_MINOR[ 	]*\([0-9]*\).*/\1/p' \
    "$top_srcdir/sdk/hyprox/abi.h")
[ -n "$abi_major" ] && [ -n "$abi_minor" ] ||
    fail "cannot read HYP_ABI_MAJOR/MINOR from sdk/hyprox/abi.h"
pkgver=$(sed -n 's/^#define PACKAGE_VERSION "\(.*\)"$/\1/p' \
    "$top_builddir/config.h")
for o in -V --version; do
	run_hyproxd version "$o"
	expect_rc 0 "hyproxd $o"
	expect_grep "^hyproxd $(re_quote "$pkgver") \\(plugin ABI $abi_major\\.$abi_minor\\)\$" \
	    "$T/version.out" "hyproxd $o: version line"
	for lib in libevent GnuTLS ngtcp2 libcyaml libsodium; do
		expect_grep "^$lib [0-9]+\\.[0-9]+" "$T/version.out" \
		    "hyproxd $o: $lib line"
	done
done
ok "-V, --version (hyproxd $pkgver, plugin ABI $abi_major.$abi_minor)"

# ---- usage errors ----
run_hyproxd badopt --no-such-option
expect_rc 2 "unknown option"
expect_grep '^usage: hyproxd ' "$T/badopt.err" "unknown option: usage on stderr"
[ ! -s "$T/badopt.out" ] || fail "unknown option: something on stdout"
run_hyproxd badarg -c "$C/hyproxd.yaml" stray
expect_rc 2 "stray argument"
expect_grep "unexpected argument 'stray'" "$T/badarg.err" "stray argument"
run_hyproxd badlevel -l verbose -c "$C/hyproxd.yaml" --check
expect_rc 2 "-l verbose"
expect_grep "unknown log level 'verbose'" "$T/badlevel.err" "-l verbose"
run_hyproxd badlevel2 --log-level=loud -c "$C/hyproxd.yaml" --check
expect_rc 2 "--log-level=loud"
ok "usage errors exit 2"

run_hyproxd missing -c "$T/nowhere/hyproxd.yaml" --check
expect_rc 1 "-c missing file"
expect_grep "$(re_quote "$T/nowhere/hyproxd.yaml")" "$T/missing.err" \
    "-c missing file: message names the file"
ok "-c missing file exits 1 naming it"

# ---- --check, --dry-run ----
run_hyproxd check -c "$C/hyproxd.yaml" --check
expect_rc 0 "--check"
expect_grep '^configuration ok$' "$T/check.out" "--check"
expect_no_grep 'loaded: message=' "$T/check.err" "--check must not load()"
ok "--check"

run_hyproxd dry -c "$C/hyproxd.yaml" --dry-run
expect_rc 0 "--dry-run"
expect_grep '\[good\] loaded: message=one' "$T/dry.err" "--dry-run runs load()"
expect_no_grep 'serving: message=' "$T/dry.err" "--dry-run must not start()"
ok "--dry-run"

D="$T/etc-loadfail"
core_conf "$D"
plugin_conf "$D" good.yaml 10-good.yaml
plugin_conf "$D" empty.yaml 20-loadfail.yaml
run_hyproxd check-lf -c "$D/hyproxd.yaml" --check
expect_rc 0 "--check with loadfail (load() is not run)"
run_hyproxd dry-lf -c "$D/hyproxd.yaml" --dry-run
expect_rc 1 "--dry-run with loadfail"
expect_grep "plugin 'loadfail' \\($(re_quote "$D/conf.d/20-loadfail.yaml")\\) refused: load\\(\\) failed" \
    "$T/dry-lf.err" "--dry-run with loadfail: refusal line"
ok "--dry-run fails when load() fails"

# ---- --print-effective-config ----
run_hyproxd print -c "$C/hyproxd.yaml" --print-effective-config
expect_rc 0 "--print-effective-config"
P="$T/print.out"
expect_grep '^core:$' "$P" "print: core section"
expect_grep '^plugins:$' "$P" "print: plugins section"
expect_grep '^  good:$' "$P" "print: good plugin"
expect_grep "^  plugin_dir: $(re_quote "$PLUGIN_DIR")\$" "$P" "print: plugin_dir"
expect_grep "^  conf_dir: $(re_quote "$C/conf.d")\$" "$P" \
    "print: conf_dir resolved against the core file"
expect_grep '^  drain_timeout: 10s$' "$P" "print: default drain_timeout"
expect_grep '^  max_sessions: 100000$' "$P" "print: default max_sessions"
expect_grep '^    level: info$' "$P" "print: default log.level"
expect_grep '^    message: one$' "$P" "print: good.message"
expect_grep '^    tick_ms: 20$' "$P" "print: good.tick_ms"
expect_grep '^    api_token: <redacted>$' "$P" "print: api_token redacted"
for f in "$T/print.out" "$T/print.err"; do
	expect_no_grep 'tok-9f8e7d6c5b4a' "$f" "print: api_token value leaked"
done
expect_no_grep 'loaded: message=' "$T/print.err" "print must not load()"
ok "--print-effective-config"

# ---- -C ----
mkdir -p "$T/alt"
printf 'message: alt\n' >"$T/alt/10-good.yaml"
run_hyproxd printC -c "$C/hyproxd.yaml" -C "$T/alt" --print-effective-config
expect_rc 0 "-C: --print-effective-config"
expect_grep "^  conf_dir: $(re_quote "$T/alt")\$" "$T/printC.out" "-C conf_dir"
expect_grep '^    message: alt$' "$T/printC.out" "-C: plugin file from the -C dir"
run_hyproxd dryC -c "$C/hyproxd.yaml" --conf-dir "$T/alt" --dry-run
expect_rc 0 "--conf-dir --dry-run"
expect_grep '\[good\] loaded: message=alt' "$T/dryC.err" "--conf-dir --dry-run"
ok "-C / --conf-dir replace conf_dir"

# ---- -f, SIGTERM, and text lines ----
start_daemon fg "" -c "$C/hyproxd.yaml" -l debug
is_running "$DPID" || fail "-f: daemon not running"
case $(readlink "/proc/$DPID/exe") in
*hyproxd) ;;
*) fail "-f: \$! is $(readlink "/proc/$DPID/exe"), not hyproxd" ;;
esac
wait_for_log '\[good\] serving: message=one' "$T/fg.log" 5 ||
    fail "-f: good does not serve"
wait_for_log '\[good\] tick [0-9]+' "$T/fg.log" 5 ||
    fail "-l debug: no tick lines from good (tick_ms: 20)"
stop_daemon "$DPID" 5
expect_grep '\[good\] stopped' "$T/fg.log" "-f: good stopped"
expect_grep '\[good\] unloaded' "$T/fg.log" "-f: good unloaded"
expect_grep '\[core\] hyproxd stopped' "$T/fg.log" "-f: hyproxd stopped"
# Every line the plugin logged carries [good].
n=$(grep -Ec 'loaded: message=|serving: message=|tick [0-9]+$|\] stopped$|\] unloaded$' \
    "$T/fg.log" || :)
m=$(grep -E 'loaded: message=|serving: message=|tick [0-9]+$|\] stopped$|\] unloaded$' \
    "$T/fg.log" | grep -c ' \[good\] ' || :)
[ "$n" -ge 4 ] && [ "$n" = "$m" ] ||
    fail "text log: $m of $n plugin lines carry [good]"
# TIMESTAMP level [plugin] message
bad=$(grep -Evc '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z (err|warning|notice|info|debug) +\[[a-z0-9_-]+\] ' \
    "$T/fg.log" || :)
[ "$bad" -eq 0 ] || fail "text log: $bad lines not 'TIMESTAMP level [plugin] message'"
ok "-f runs in the foreground, SIGTERM exits 0, lines carry [good]"

# ---- daemonized, pid file ----
B="$T/etc-bg"
core_conf "$B"
plugin_conf "$B" good.yaml 10-good.yaml
cat >>"$B/hyproxd.yaml" <<EOF
pid_file: $T/bg.pid
log:
  output: file
  file: $T/bg.log
EOF
run_hyproxd bg -c "$B/hyproxd.yaml"
expect_rc 0 "without -f: the parent"
wait_for_log '^[0-9]+$' "$T/bg.pid" 5 || fail "without -f: no pid file"
bgpid=$(cat "$T/bg.pid")
IT_PIDS="$IT_PIDS $bgpid"
wait_for_log "started \\(pid $bgpid," "$T/bg.log" 5 ||
    fail "without -f: 'started (pid $bgpid' not logged"
is_running "$bgpid" || fail "without -f: pid $bgpid not running"
kill -TERM "$bgpid"
n=100
while is_running "$bgpid" && [ "$n" -gt 0 ]; do
	sleep 0.05
	n=$((n - 1))
done
is_running "$bgpid" && fail "without -f: pid $bgpid still running 5 s after SIGTERM"
it_forget "$bgpid"
[ ! -e "$T/bg.pid" ] || fail "without -f: pid file left behind"
expect_grep '\[core\] hyproxd stopped' "$T/bg.log" "without -f: stopped"
ok "without -f: daemonizes, pid file written and removed"

# ---- JSON lines ----
J="$T/etc-json"
core_conf "$J"
plugin_conf "$J" good-escape.yaml 10-good.yaml
cat >>"$J/hyproxd.yaml" <<'EOF'
log:
  format: json
EOF
start_daemon json "" -c "$J/hyproxd.yaml"
wait_for_log '"msg":"serving: message=' "$T/json.log" 5 ||
    fail "json: no serving line"
stop_daemon "$DPID" 5
expect_no_grep '^[^{]' "$T/json.log" "json: a line that is not an object"
if command -v python3 >/dev/null 2>&1; then
	python3 - "$T/json.log" <<'EOF' || fail "json: lines are not the expected JSON"
import json, sys
lines = open(sys.argv[1], encoding="utf-8").read().splitlines()
objs = [json.loads(l) for l in lines]
assert objs, "no lines"
for o in objs:
    for k in ("ts", "level", "plugin", "msg"):
        assert k in o, "missing %r in %r" % (k, o)
    assert o["level"] in ("err", "warning", "notice", "info", "debug"), o
plugin_msgs = ("loaded: message=", "serving: message=", "stopped", "unloaded")
mine = [o for o in objs if o["msg"].startswith(plugin_msgs)]
assert len(mine) >= 4, mine
bad = [o for o in mine if o["plugin"] != "good"]
assert not bad, bad
want = "serving: message=q\"uote\ttab\\back \u00e9 \x01"
assert any(o["msg"] == want for o in objs), "no %r" % want
core = [o for o in objs if o["msg"].startswith("hyproxd ") and "started" in o["msg"]]
assert core and all(o["plugin"] == "core" for o in core), core
EOF
	ok "log.format json: parseable lines, escapes, plugin good/core"
else
	ok "log.format json: lines start with '{' (python3 missing: not parsed)"
fi

# ---- log file and SIGUSR1 ----
L="$T/etc-file"
core_conf "$L"
plugin_conf "$L" good.yaml 10-good.yaml
mkdir -p "$T/logs"
cat >>"$L/hyproxd.yaml" <<EOF
log:
  output: file
  file: $T/logs/hyproxd.log
EOF
start_daemon file "$T/logs/hyproxd.log" -c "$L/hyproxd.yaml"
wait_for_log '\[good\] serving: message=one' "$T/logs/hyproxd.log" 5 ||
    fail "log file: no serving line"
[ ! -s "$T/file.log" ] || fail "log.output file: something went to stderr"
mv "$T/logs/hyproxd.log" "$T/logs/hyproxd.log.1"
kill -USR1 "$DPID"
wait_for_log 'log reopened' "$T/logs/hyproxd.log" 5 ||
    fail "SIGUSR1: the new file was not created or got no line"
old=$(wc -l <"$T/logs/hyproxd.log.1")
plugin_conf "$L" good-two.yaml 10-good.yaml
kill -HUP "$DPID"
wait_for_log '\[good\] serving: message=two' "$T/logs/hyproxd.log" 5 ||
    fail "after SIGUSR1: new lines do not reach the new file"
stop_daemon "$DPID" 5
expect_grep '\[core\] hyproxd stopped' "$T/logs/hyproxd.log" \
    "log file: stop logged in the new file"
[ "$(wc -l <"$T/logs/hyproxd.log.1")" -eq "$old" ] ||
    fail "SIGUSR1: the rotated file still grows"
expect_no_grep 'message=two' "$T/logs/hyproxd.log.1" "rotated file"
ok "log.output file, SIGUSR1 reopens after mv"

it_done

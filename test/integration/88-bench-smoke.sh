#!/bin/sh
# 88-bench-smoke: hyprox-bench works against a real hyproxd (transport +
# testroute refer).  A smoke test of the generator, not a benchmark: low
# rates, about 2 s per run, no timing assertions (bench/run.sh measures).
#
# Covers:
#  - referral mode, open loop: completed > 0, every reply a ClientReferral,
#    attempted = completed + errors, percentiles ordered, CPU reported
#  - handshake mode, closed loop (--concurrency 2), text output
#  - --hold with --concurrency keeps N connections established (progress
#    line held=N) and SIGINT ends the run with a report
#  - errors are counted by kind: a port nobody listens on gives zero
#    completions, attempted errors, exit status 1
#  - bad command lines exit 2 with a message
set -eu
. "$top_srcdir/test/integration/lib.sh"
it_setup
. "$top_srcdir/test/peers/transport-lib.sh"
need_transport
BENCH="${HYPROX_BENCH:-$top_builddir/hyprox-bench}"
[ -x "$BENCH" ] || fail "hyprox-bench ($BENCH) was not built"

# A JSON number: jnum FILE KEY (first occurrence).
jnum()
{
	sed -n "s/.*\"$2\":\\([-0-9.]*\\).*/\\1/p" "$1" | head -n 1
}

# A latency percentile: jlat FILE p50|p90|p99|max.
jlat()
{
	sed -n "s/.*\"latency_us\":{[^}]*\"$2\":\\([0-9]*\\).*/\\1/p" "$1"
}

# Sum of the error counters.
jerrors()
{
	sed -n 's/.*"errors":{\([^}]*\)}.*/\1/p' "$1" | tr ',' '\n' |
	    sed 's/.*://' | awk '{s += $1} END {print s + 0}'
}

# Run the generator bounded: run_bench NAME ARGS...; sets RC.
run_bench()
{
	rb_name=$1
	shift
	RC=0
	timeout 30 "$BENCH" "$@" >"$T/$rb_name.out" 2>"$T/$rb_name.err" ||
	    RC=$?
	[ "$RC" -ne 124 ] || fail "$rb_name: hyprox-bench $* hung"
	san_check
}

# Check one JSON result: sane NAME MODE.
sane()
{
	f="$T/$1.out"
	for k in attempted completed completed_per_s window_s percent_of_core \
	    handshake_failed timeout closed_without_packet other \
	    skipped_max_inflight; do
		[ -n "$(jnum "$f" "$k")" ] || fail "$1: no \"$k\" in $(cat "$f")"
	done
	att=$(jnum "$f" attempted)
	done=$(jnum "$f" completed)
	errs=$(jerrors "$f")
	[ "$done" -gt 0 ] || fail "$1: nothing completed: $(cat "$f")"
	[ "$((done + errs))" -eq "$att" ] ||
	    fail "$1: attempted $att != completed $done + errors $errs"
	p50=$(jlat "$f" p50) p90=$(jlat "$f" p90) p99=$(jlat "$f" p99)
	max=$(jlat "$f" max)
	[ "$p50" -gt 0 ] && [ "$p50" -le "$p90" ] && [ "$p90" -le "$p99" ] &&
	    [ "$p99" -le "$max" ] ||
	    fail "$1: percentiles not ordered: $p50 $p90 $p99 $max"
	[ "$(jnum "$f" count)" -eq "$done" ] ||
	    fail "$1: histogram count differs from completed"
	expect_fgrep "\"mode\":\"$2\"" "$f" "$1: mode"
}

C="$T/bench"
tp_conf "$C" refer
cat >>"$C/transport.in" <<EOF
retry: never
admission:
  rate: 0
  max_per_ip: 0
EOF
cat >>"$C/conf.d/20-testroute.yaml" <<EOF
backend_host: 127.0.0.1
backend_port: 5520
EOF
start_proxy bench "$C"
P=$PORT

# ---- referral, open loop ----
run_bench ref --json -m referral -r 20 -d 2s -w 500ms "127.0.0.1:$P"
expect_rc 0 "referral run"
sane ref referral
[ "$(jnum "$T/ref.out" referral)" -eq "$(jnum "$T/ref.out" completed)" ] ||
    fail "referral: every completion should be a ClientReferral"
expect_fgrep '"loop":"open","rate":20,' "$T/ref.out" "referral: open loop"
att=$(jnum "$T/ref.out" attempted)
[ "$att" -ge 36 ] && [ "$att" -le 44 ] ||
    fail "referral: 2 s at 20/s should attempt about 40, not $att"
ok "referral, open loop 20/s: $(jnum "$T/ref.out" completed) referrals," \
    "p50 $(jlat "$T/ref.out" p50) us, p99 $(jlat "$T/ref.out" p99) us"

# ---- handshake, closed loop; text output ----
run_bench hs --json -m handshake -c 2 -d 2s -w 0 "127.0.0.1:$P"
expect_rc 0 "handshake run"
sane hs handshake
expect_fgrep '"loop":"closed","rate":0,"concurrency":2,' "$T/hs.out" \
    "handshake: closed loop"
[ "$(jnum "$T/hs.out" peak_inflight)" -le 2 ] ||
    fail "handshake: more than 2 connections in flight"
run_bench text -m handshake -r 10 -d 1s -w 0 "127.0.0.1:$P"
expect_rc 0 "text run"
expect_grep '^latency us  p50 [0-9]+  p90 [0-9]+  p99 [0-9]+  max [0-9]+' \
    "$T/text.out" "text: latency line"
expect_grep '^client CPU  user [0-9.]+ s  sys [0-9.]+ s  = [0-9.]+ % of one core$' \
    "$T/text.out" "text: CPU line"
ok "handshake, closed loop c=2 and text output"

# ---- --hold keeps connections established; SIGINT reports ----
"$BENCH" --json -p -m handshake -c 3 --hold 20s -d 20s -w 0 \
    "127.0.0.1:$P" >"$T/hold.out" 2>"$T/hold.err" &
HP=$!
IT_PIDS="$IT_PIDS $HP"
wait_for_log ' held=3 ' "$T/hold.err" 15 ||
    fail "--hold: 3 connections not held"
kill -INT "$HP"
wait_exit "$HP" 10 || fail "--hold: no exit after SIGINT"
[ "$RC" -eq 0 ] || fail "--hold: exit $RC after SIGINT"
expect_fgrep '"interrupted":true' "$T/hold.out" "--hold: interrupted"
[ "$(jnum "$T/hold.out" completed)" -eq 3 ] ||
    fail "--hold: expected 3 completions, $(cat "$T/hold.out")"
ok "--hold: 3 idle connections held until SIGINT"

# ---- errors by kind: nobody listens ----
next_port
run_bench noserver --json -m handshake -r 10 -d 1s -w 0 --timeout 500ms \
    "127.0.0.1:$PORT"
expect_rc 1 "no server"
[ "$(jnum "$T/noserver.out" completed)" -eq 0 ] ||
    fail "no server: something completed"
att=$(jnum "$T/noserver.out" attempted)
[ "$att" -gt 0 ] && [ "$(jerrors "$T/noserver.out")" -eq "$att" ] ||
    fail "no server: errors do not add up: $(cat "$T/noserver.out")"
ok "no server: $att attempts, all counted as errors"

# ---- bad command lines ----
for args in "-m session 127.0.0.1:$P" "-r 5 -c 5 127.0.0.1:$P" \
    "localhost:$P" "-d 0 127.0.0.1:$P" "--cert x 127.0.0.1:$P"; do
	# shellcheck disable=SC2086
	run_bench usage $args
	expect_rc 2 "usage: $args"
	expect_grep '^hyprox-bench: ' "$T/usage.err" "usage: message for $args"
done
ok "bad command lines exit 2"

stop_daemon "$DPID" 10
it_done

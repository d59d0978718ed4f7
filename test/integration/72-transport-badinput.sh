#!/bin/sh
# 72-transport-badinput: hostile and broken input while a well-behaved
# probe keeps succeeding (one before the first step and after every step).
#
# The proxy: transport (retry never, max_half_open 100, handshake_timeout
# 2s, connect_timeout 1s, per-IP rate lifted and max_per_ip equal to the
# half-open cap, which is checked first, so the global half-open cap is what
# 127.0.0.1 runs into, while a leaked per-IP slot would refuse the good
# probes afterwards) + testroute (refer, dumping the metrics).
# The good probe expects a ClientReferral (exit 10).
#
# Covers:
#  - the session end line carries the connection's datagram counters
#  - empty, 1-byte and 20-byte datagrams: no reply
#  - long headers with broken fields (CID length 255, truncated, unknown
#    CIDs for Handshake/0-RTT, Retry from a client, length/token overflow):
#    nothing but (for a random version) a Version Negotiation
#  - an Initial header in a 600-byte datagram: no reply
#  - version 0x1a2a3a4a: Version Negotiation with our CIDs swapped, listing
#    version 1; counted in the VN metric
#  - 300 random short headers: stateless resets arrive, at most
#    burst + rate × seconds (stateless_reset: {rate: 4, burst: 12}, written
#    into the configuration below), as counted by the peer and by the metric
#  - 1000 half-open handshakes from 1000 ports, never continued: at most
#    100 get a handshake reply, most of the rest (≥ 500: UDP may drop some)
#    are refused statelessly; the half-open gauge
#    never exceeds 100; the half_open_cap refusals are counted; the daemon's
#    VmRSS stays under 64 MB (256 MB under ASan): a half-open connection
#    costs well under 100 kB (ngtcp2 conn + GnuTLS session + buffers), so
#    100 of them plus a ~10 MB daemon fit with a wide margin, while an
#    uncapped 1000 or a per-attempt leak would not; after the handshake
#    timeout the gauge returns to 0, every admitted one ends as a session
#    with outcome timeout (lib/quic's closed() guarantee) and its per-IP
#    slot is back (the next good probe needs one)
#  - a Connect frame declaring 2^31 bytes: closed with the QUIC transport
#    error PROTOCOL_VIOLATION (0x0a), outcome bad-connect
#  - a Connect split over one-byte STREAM frames: still decoded (referral)
#  - no Connect before connect_timeout (1 s): closed with application code 4
#  - a first packet that is not Connect (id 2): closed with
#    PROTOCOL_VIOLATION, outcome bad-connect
#  - the daemon stays up throughout and stops cleanly (exit 0)
set -eu
. "$top_srcdir/test/integration/lib.sh"
it_setup
. "$top_srcdir/test/peers/transport-lib.sh"
need_transport

CAP=100
RESET_BURST=12
RESET_RATE=4

C="$T/bad"
tp_conf "$C" refer
cat >>"$C/transport.in" <<EOF
retry: never
handshake_timeout: 2s
connect_timeout: 1s
stateless_reset:
  rate: $RESET_RATE
  burst: $RESET_BURST
admission:
  rate: 1000000
  burst: 1000000
  max_per_ip: $CAP
  max_half_open: $CAP
EOF
cat >>"$C/conf.d/20-testroute.yaml" <<EOF
backend_host: 127.0.0.1
backend_port: 5520
referral_data_hex: "48595250"
metrics_file: $C/metrics.txt
metrics_interval_ms: 50
EOF
start_proxy bad "$C"
P=$PORT
M="$C/metrics.txt"
NGOOD=0

# The well-behaved probe: a referral, and the daemon is alive.
good()
{
	NGOOD=$((NGOOD + 1))
	is_running "$DPID" || fail "hyproxd died before good probe $NGOOD ($1)"
	run_probe "good$NGOOD" --json -t 5s "127.0.0.1:$P"
	expect_rc 10 "good probe $NGOOD (after $1)"
	expect_fgrep '"data_hex":"48595250"' "$T/good$NGOOD.out" \
	    "good probe $NGOOD (after $1): referral data"
}

# Run quic-junk: junk NAME ARGS...
junk()
{
	j_name=$1
	shift
	RC=0
	timeout 30 "$QUIC_JUNK" "$@" >"$T/$j_name.out" 2>"$T/$j_name.err" ||
	    RC=$?
	[ "$RC" -eq 0 ] || fail "quic-junk $*: exit $RC"
}

good start
# The session's counters are the connection's datagrams (both ways at
# least a padded Initial of 1200 bytes and more than one datagram).
wait_for_count 'session end outcome=referred' 1 "$T/bad.log" 5 ||
    fail "good probe 1: no referred session end"
line=$(grep 'session end outcome=referred' "$T/bad.log" | head -n 1)
for k in datagrams_in datagrams_out bytes_in bytes_out; do
	v=$(echo "$line" | sed -n "s/.* $k=\([0-9]*\).*/\1/p")
	case $k in datagrams_*) min=2 ;; *) min=1200 ;; esac
	[ -n "$v" ] && [ "$v" -ge "$min" ] ||
	    fail "session end: $k is '${v}', expected at least $min: $line"
done
ok "session counters: ${line#*backend=* }"

junk tiny --window 300 "127.0.0.1:$P" --empty --one-byte --twenty-bytes
for w in empty one-byte twenty-bytes; do
	expect_grep "^$w sent=1 len=[0-9]+ replies=0\$" "$T/tiny.out" \
	    "$w datagram: no reply"
done
good "tiny datagrams"

junk garbage --window 300 "127.0.0.1:$P" --garbage-long-header
r=$(sed -n 's/^garbage-long-header sent=8 replies=\([0-9]*\)$/\1/p' \
    "$T/garbage.out")
[ -n "$r" ] && [ "$r" -le 1 ] ||
    fail "garbage long headers: $(cat "$T/garbage.out"), expected at most 1 reply (VN)"
good "garbage long headers"

junk shortinit --window 300 "127.0.0.1:$P" --short-initial
expect_grep '^short-initial sent=1 len=600 replies=0$' "$T/shortinit.out" \
    "Initial under 1200 bytes: no reply"
good "short Initial"

vn0=$(metric "$M" hyprox_transport_version_negotiation_sent_total)
junk vn --window 500 "127.0.0.1:$P" --unknown-version
expect_grep '^unknown-version sent=1 vn=1 replies=1 cids_ok=1 versions=([0-9a-f]{8},)*00000001(,|$)' \
    "$T/vn.out" "unknown version: Version Negotiation listing version 1"
n=0
while [ "$(metric "$M" hyprox_transport_version_negotiation_sent_total)" = "$vn0" ]; do
	n=$((n + 1))
	[ "$n" -lt 60 ] || fail "unknown version: VN not counted in the metrics"
	sleep 0.05
done
good "unknown version"

rs0=$(metric "$M" hyprox_transport_stateless_resets_sent_total)
junk short --window 1000 "127.0.0.1:$P" --random-short 300
line=$(grep '^random-short ' "$T/short.out") ||
    fail "random short headers: no result line"
resets=$(echo "$line" | sed -n 's/.* resets=\([0-9]*\) .*/\1/p')
ms=$(echo "$line" | sed -n 's/.* elapsed_ms=\([0-9]*\)$/\1/p')
bound=$((RESET_BURST + RESET_RATE * (ms + 999) / 1000))
[ "$resets" -ge 1 ] || fail "random short headers: no stateless reset at all ($line)"
[ "$resets" -le "$bound" ] ||
    fail "random short headers: $resets resets in $ms ms, more than $bound"
sleep 1.1	# the endpoint counters reach the metrics on the next tick
rs1=$(metric "$M" hyprox_transport_stateless_resets_sent_total)
[ $((rs1 - rs0)) -le "$bound" ] ||
    fail "random short headers: the metric counts $((rs1 - rs0)) resets, more than $bound"
ok "random short headers: $resets resets for 300 packets in $ms ms (bound $bound)"
good "random short headers"

# ---- 1000 half-open handshakes ----
if is_asan "$DPID"; then RSS_MAX=262144; else RSS_MAX=65536; fi
rss0=$(rss_kb "$DPID")
"$QUIC_JUNK" --hold 3 "127.0.0.1:$P" --half-open 1000 >"$T/half.out" \
    2>"$T/half.err" &
JPID=$!
IT_PIDS="$IT_PIDS $JPID"
maxho=0
maxrss=0
while is_running "$JPID"; do
	ho=$(metric "$M" hyprox_transport_half_open)
	ho=${ho%.*}
	[ "$ho" -le "$maxho" ] || maxho=$ho
	rss=$(rss_kb "$DPID")
	[ -z "$rss" ] || [ "$rss" -le "$maxrss" ] || maxrss=$rss
	sleep 0.1
done
wait_exit "$JPID" 1 || :
[ "$RC" -eq 0 ] || fail "quic-junk --half-open: exit $RC"
line=$(grep '^half-open sent=' "$T/half.out") ||
    fail "half-open: no result line: $(cat "$T/half.out" "$T/half.err")"
sent=$(echo "$line" | sed -n 's/.*sent=\([0-9]*\) .*/\1/p')
hs=$(echo "$line" | sed -n 's/.* handshake=\([0-9]*\) .*/\1/p')
refused=$(echo "$line" | sed -n 's/.* refused=\([0-9]*\) .*/\1/p')
[ "$sent" -eq 1000 ] || fail "half-open: only $sent of 1000 sent ($line)"
[ "$hs" -le "$CAP" ] ||
    fail "half-open: $hs handshakes answered, over the cap of $CAP ($line)"
[ "$hs" -ge 1 ] || fail "half-open: no handshake answered at all ($line)"
[ "$refused" -ge 500 ] ||
    fail "half-open: only $refused refusals ($line)"
[ "$maxho" -le "$CAP" ] || fail "half-open gauge reached $maxho, cap $CAP"
is_running "$DPID" || fail "hyproxd died under 1000 half-open handshakes"
[ "$maxrss" -le "$RSS_MAX" ] ||
    fail "hyproxd VmRSS reached $maxrss kB (from $rss0 kB), bound $RSS_MAX kB"
wait_metric "$M" 'hyprox_transport_admissions_refused_total{reason="half_open_cap"}' 3 ||
    fail "half-open: no half_open_cap refusal counted"
n=0
while [ "$(metric "$M" hyprox_transport_half_open)" != 0 ]; do
	n=$((n + 1))
	[ "$n" -lt 100 ] ||
	    fail "half-open gauge still $(metric "$M" hyprox_transport_half_open) 5 s after the hold"
	sleep 0.05
done
n=0
while :; do
	to=$(metric "$M" 'hyprox_transport_sessions_total{outcome="timeout"}')
	to=${to%.*}
	[ "$to" -lt "$hs" ] || break
	n=$((n + 1))
	[ "$n" -lt 100 ] ||
	    fail "half-open: $to timeout sessions, expected at least $hs"
	sleep 0.05
done
ok "1000 half-open: $hs answered (cap $CAP), $to ended as timeout, $refused refused, gauge max $maxho, VmRSS $rss0 → max $maxrss kB (bound $RSS_MAX)"
good "1000 half-open handshakes"

# ---- Connect frames ----
run_probe huge --json -t 5s --raw-first 000000800000000000 "127.0.0.1:$P"
case $RC in 12 | 13) ;; *) fail "Connect declaring 2^31 bytes: exit $RC, expected 12 or 13" ;; esac
expect_fgrep '"close":{"by":"peer","app":false,"code":10,' "$T/huge.out" \
    "2^31 Connect: the proxy closed with PROTOCOL_VIOLATION"
wait_for_count 'session end outcome=bad-connect' 1 "$T/bad.log" 5 ||
    fail "2^31 Connect: no bad-connect session end"
good "a Connect declaring 2^31 bytes"

run_probe split --json -t 5s --split 1 "127.0.0.1:$P"
expect_rc 10 "Connect split over 1-byte STREAM frames"
expect_fgrep '"data_hex":"48595250"' "$T/split.out" "split Connect: referral"
good "a split Connect"

run_probe noconnect --json -t 5s --no-connect "127.0.0.1:$P"
expect_rc 12 "no Connect before the timeout"
expect_fgrep '"close":{"by":"peer","app":true,"code":4,' "$T/noconnect.out" \
    "no Connect: closed with application code 4"
wait_for_count 'session end outcome=timeout' 1 "$T/bad.log" 5 ||
    fail "no Connect: no timeout session end"
good "no Connect"

run_probe notconnect --json -t 5s --raw-first 010000000200000000 "127.0.0.1:$P"
case $RC in 12 | 13) ;; *) fail "non-Connect first packet: exit $RC, expected 12 or 13" ;; esac
expect_fgrep '"close":{"by":"peer","app":false,"code":10,' \
    "$T/notconnect.out" \
    "non-Connect first packet: the proxy closed with PROTOCOL_VIOLATION"
wait_for_count 'session end outcome=bad-connect' 2 "$T/bad.log" 5 ||
    fail "non-Connect first packet: no second bad-connect session end"
good "a non-Connect first packet"

stop_daemon "$DPID" 10
ok "hyproxd survived every step and $NGOOD good probes succeeded"
it_done

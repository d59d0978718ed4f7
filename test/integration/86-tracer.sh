#!/bin/sh
# 86-tracer: the tracer plugin in a real redirect proxy.
#
# hyproxd runs the transport (with qlog for 127.0.0.1), router,
# referral-hmac and tracer plugins of the build tree at debug log level;
# mock-backend verifies the tickets.  hyproxctl probe --follow plays the
# clients alice (on the packet allowlist) and bob (not on it), both with
# an identity token and referral data.
# Covers:
#  - accept → handshake → connect → decision → referral → session-end,
#    in that order, with one session id per player; the connect event has
#    the identity fields, has_identity_token:true and referral_data_len
#  - the session id is the trace id the backend reads from the ticket
#  - packet events for alice only (Connect in, ClientReferral out, payload
#    hex redacted), none for bob
#  - plugin-state and reload events; SIGUSR1 reopens the output after a
#    rename; SIGUSR2 dumps the ring; a qlog file per allowlisted connection
#  - redaction: the identity token, the referral data, the tickets' MACs
#    and the key secret appear in no log the test produced (hyproxd's log,
#    the tracer's files, the ring dump, the qlog files; the backend's
#    output is checked for the token, the referral data and the key: it
#    prints the ticket it received, by design)
set -eu
. "$top_srcdir/test/integration/lib.sh"
it_setup
. "$top_srcdir/test/peers/transport-lib.sh"

ROUTER_SO="$top_builddir/plugins/router/.libs/router.so"
REFERRAL_SO="$top_builddir/plugins/referral-hmac/.libs/referral-hmac.so"
TRACER_SO="$top_builddir/plugins/tracer/.libs/tracer.so"
need_transport
for so in "$ROUTER_SO" "$REFERRAL_SO" "$TRACER_SO"; do
	[ -f "$so" ] || fail "plugin $so was not built"
done

UUID_A=0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0
UUID_B=11111111-2222-4333-8444-555555555555
TOKEN="SECRET_TOKEN_XYZ.eyJhbGciOiJFZERTQSJ9.$$"
REFDATA="REFDATA-do-not-log-$$"
REFHEX=$(hexstr "$REFDATA")
KEYSTR="TRACER-KEY-$(head -c 24 /dev/urandom | od -An -tx1 -v | tr -d ' \n')"
K1="$T/keys/k1.key"
mkdir -p "$T/keys" "$T/qlog"
(umask 077 && printf '%s' "$KEYSTR" >"$K1") || fail "cannot write the key"

# The session id of the first event EVENT whose line matches RE in FILE.
sid_of()
{
	grep -E "\"event\":\"$1\"" "$3" | grep -E -- "$2" | head -n 1 |
	    sed -n 's/.*"session":"\([0-9a-f]\{16\}\)".*/\1/p'
}

# The line number of the first EVENT of session SID in FILE (0: none).
line_of()
{
	n=$(grep -n "\"event\":\"$1\",\"session\":\"$2\"" "$3" | head -n 1 |
	    cut -d: -f1)
	echo "${n:-0}"
}

# ---- the backend ----
start_backend backend --ticket-key "k1=file:$K1" --backend-id lobby-1 \
    --pool lobby
BP=$BPORT
BACKEND_PID=$BPID

# ---- the proxy ----
C="$T/proxy"
tp_conf "$C"
ln -sf "$ROUTER_SO" "$C/plugins/router.so"
ln -sf "$REFERRAL_SO" "$C/plugins/referral-hmac.so"
ln -sf "$TRACER_SO" "$C/plugins/tracer.so"
rm -f "$C/plugins/testroute.so"
cat >>"$C/hyproxd.yaml" <<EOF
log:
  level: debug
EOF
cat >>"$C/transport.in" <<EOF
qlog:
  dir: $T/qlog
  clients: [127.0.0.1/32]
EOF
cat >"$C/conf.d/20-router.yaml" <<EOF
pools:
  - id: lobby
    mode: redirect
    backends:
      - {id: lobby-1, host: 127.0.0.1, port: $BP, max_players: 100}
routes:
  - name: everyone
    pool: lobby
health:
  enabled: false
EOF
cat >"$C/conf.d/30-referral-hmac.yaml" <<EOF
keys:
  - id: k1
    secret: file:$K1
ttl: 30s
scope: backend
EOF
cat >"$C/conf.d/60-tracer.yaml" <<EOF
output: $T/trace.jsonl
ring_size: 100
ring_dump: $T/ring.jsonl
packets:
  usernames: [alice]
  payload_hex: true
EOF
start_proxy proxy "$C"
P=$PORT
expect_grep '\[tracer\] tracing to .*trace\.jsonl; ring 100 events' \
    "$T/proxy.log" "tracer started"
TR="$T/trace.jsonl"

# ---- two players ----
run_probe alice --json -t 10s --follow --user alice --uuid "$UUID_A" \
    --identity-token "$TOKEN" --referral-data "$REFHEX" \
    --referral-source 127.0.0.1:5520 "127.0.0.1:$P"
expect_rc 0 "alice: probe --follow"
expect_fgrep '"result":"accept"' "$T/alice.out" "alice: accepted at hop 2"
run_probe bob --json -t 10s --follow --user bob --uuid "$UUID_B" \
    --identity-token "$TOKEN" --referral-data "$REFHEX" \
    --referral-source 127.0.0.1:5520 "127.0.0.1:$P"
expect_rc 0 "bob: probe --follow"
wait_for_count '"event":"session-end"' 2 "$TR" 10 ||
    fail "two session-end events expected in the trace"

SA=$(sid_of connect '"username":"alice"' "$TR")
SB=$(sid_of connect '"username":"bob"' "$TR")
[ -n "$SA" ] && [ -n "$SB" ] && [ "$SA" != "$SB" ] ||
    fail "no distinct session ids for alice ($SA) and bob ($SB)"
prev=0
for ev in accept handshake connect decision referral session-end; do
	n=$(line_of "$ev" "$SA" "$TR")
	[ "$n" -gt "$prev" ] ||
	    fail "alice: event $ev missing or out of order (line $n after $prev)"
	prev=$n
	[ "$(line_of "$ev" "$SB" "$TR")" -gt 0 ] || fail "bob: no $ev event"
done
ok "alice and bob: accept → handshake → connect → decision → referral → session-end"

expect_grep "\"event\":\"connect\",\"session\":\"$SA\",\"layout\":2,\"username\":\"alice\",\"uuid\":\"$UUID_A\",.*\"has_identity_token\":true,\"referral_source\":\"127\\.0\\.0\\.1:5520\",\"referral_data_len\":${#REFDATA}\\}" \
    "$TR" "alice: connect identity fields"
expect_grep "\"event\":\"decision\",\"session\":\"$SA\",\"decision\":\"refer\",\"backend\":\"lobby-1\",\"pool\":\"lobby\"" \
    "$TR" "alice: decision"
expect_grep "\"event\":\"referral\",\"session\":\"$SA\",\"backend\":\"lobby-1\",.*\"to\":\"127\\.0\\.0\\.1:$BP\",\"ticket_len\":[0-9]+,\"kid\":\"k1\",\"trace_id\":\"$SA\"\\}" \
    "$TR" "alice: referral"
expect_grep "\"event\":\"session-end\",\"session\":\"$SA\",\"outcome\":\"referred\",.*\"username\":\"alice\",.*\"reason\":\"route=everyone pool=lobby .*ticket=k1\",\"bytes_in\":[1-9]" \
    "$TR" "alice: session-end"
ok "identity fields, decision, referral (kid k1) and session-end counters"

# The backend's trace ids are the session ids.
TRACES=$(sed -n 's/^referral conn=[0-9]* verify=ok .* trace=\([^ ]*\) .*/\1/p' \
    "$T/backend.out" | tr '\n' ' ')
[ "$TRACES" = "$SA $SB " ] ||
    fail "backend trace ids '$TRACES', expected '$SA $SB '"
ok "the backend's trace ids are hyproxd's session ids ($SA, $SB)"

# Packets: alice only, payload hex redacted for Connect and ClientReferral.
expect_grep "\"event\":\"packet\",\"session\":\"$SA\",\"dir\":\"in\",\"stream\":0,\"id\":0,\"name\":\"Connect\",\"length\":[0-9]+,\"payload_hex\":\"<redacted>\"\\}" \
    "$TR" "alice: Connect packet"
expect_grep "\"event\":\"packet\",\"session\":\"$SA\",\"dir\":\"out\",\"stream\":0,\"id\":18,\"name\":\"ClientReferral\",\"length\":[0-9]+,\"payload_hex\":\"<redacted>\"\\}" \
    "$TR" "alice: ClientReferral packet"
expect_no_grep "\"event\":\"packet\",\"session\":\"$SB\"" "$TR" \
    "bob: packet events"
ok "packet events for allowlisted alice only, payload redacted"

expect_grep '"event":"plugin","plugin":"[a-z-]+","state":"started"' "$TR" \
    "plugin-state events"
[ -s "$T/qlog/$SA.sqlog" ] || fail "no qlog file $T/qlog/$SA.sqlog"
grep -q 'qlog' "$T/qlog/$SA.sqlog" || fail "$SA.sqlog is not a qlog"
ok "plugin-state events; qlog file for the allowlisted client"

# ---- SIGHUP: a reload event ----
kill -HUP "$DPID"
wait_for_log '"event":"reload"' "$TR" 10 || fail "no reload event after SIGHUP"
ok "SIGHUP: reload event"

# ---- SIGUSR1: reopen after logrotate's rename ----
mv "$TR" "$TR.1"
kill -USR1 "$DPID"
wait_for_log '\[tracer\] reopened ' "$T/proxy.log" 10 ||
    fail "no 'reopened' after SIGUSR1"
run_probe alice2 --json -t 10s --user alice --uuid "$UUID_A" \
    --identity-token "$TOKEN" --referral-data "$REFHEX" \
    --referral-source 127.0.0.1:5520 "127.0.0.1:$P"
wait_for_log '"event":"session-end"' "$TR" 10 ||
    fail "no session-end in the reopened trace file"
[ "$(grep -c '"event":"session-end"' "$TR.1")" -eq 2 ] ||
    fail "the rotated file changed"
ok "SIGUSR1: new events in the reopened file, the rotated one untouched"

# ---- SIGUSR2: ring dump ----
kill -USR2 "$DPID"
wait_for_log '\[tracer\] dumped [0-9]+ events' "$T/proxy.log" 10 ||
    fail "no ring dump after SIGUSR2"
[ "$(grep -c '"event":"session-end"' "$T/ring.jsonl")" -eq 3 ] ||
    fail "the ring dump does not hold the 3 session-end events"
grep -v '^{"ts":"[^"]*","event":"[a-z-]*".*}$' "$T/ring.jsonl" |
    grep -q . && fail "the ring dump has a line that is not an event object"
ok "SIGUSR2: the ring holds every event, one object per line"

stop_daemon "$DPID" 20
stop_peer "$BACKEND_PID"

# ---- redaction: grep every log for every secret ----
MACS=""
for f in "$T/alice.out" "$T/bob.out"; do
	for t in $(sed -n 's/.*"referral":{[^}]*"data_hex":"\([0-9a-f]*\)".*/\1/p' "$f"); do
		[ "${#t}" -gt 64 ] || fail "ticket too short in $f"
		MACS="$MACS $(printf '%s' "$t" | tail -c 64)"
	done
done
[ -n "$MACS" ] || fail "no tickets in the probes' output"
KEYHEX=$(hexstr "$KEYSTR")
TOKHEX=$(hexstr "$TOKEN")
LOGS="$T/proxy.log $T/proxy.out $T/trace.jsonl $T/trace.jsonl.1 \
    $T/ring.jsonl $(ls "$T"/qlog/*.sqlog)"
nlogs=0
for f in $LOGS "$T/backend.out" "$T/backend.err"; do
	[ -f "$f" ] || continue
	nlogs=$((nlogs + 1))
	for s in "$TOKEN" "$TOKHEX" "$REFDATA" "$REFHEX" "$KEYSTR" "$KEYHEX"; do
		if grep -Fq -- "$s" "$f"; then
			fail "secret '$s' found in ${f#"$T"/}"
		fi
	done
done
for f in $LOGS; do
	for m in $MACS; do
		if grep -Fq -- "$m" "$f"; then
			fail "ticket MAC $m found in ${f#"$T"/}"
		fi
	done
done
[ "$nlogs" -ge 8 ] || fail "only $nlogs log files checked"
ok "no token, referral data, ticket MAC or key in $nlogs log files"

it_done

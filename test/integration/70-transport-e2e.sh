#!/bin/sh
# 70-transport-e2e: the redirect pipeline end to end with real QUIC peers.
#
# Covers:
#  - no router: probe → hyproxd answers Disconnect with the default no-route
#    message (exit 11, application close 0); the exact frame bytes (mock-client)
#  - testroute refer (+ referral service returning 48595250): ClientReferral
#    with host 127.0.0.1, the backend port and data exactly "HYRP"; the exact
#    frame bytes of HYTALE-PROTOCOL.md §3.3; the route hook saw user, uuid,
#    layout, ALPN and the client-certificate fingerprint; outcome referred
#  - refer without a referral service: the data field is null
#  - deny: Disconnect with the deny message; proxy: the fixed "full proxy
#    mode is not available yet"; router that decides nothing: no-route
#  - probe ↔ mock-backend: ConnectAccept (exit 0); mock-client ↔ mock-backend:
#    echo (byte-exact), two uni streams Chunks then WorldMap, 100 kB filler,
#    Disconnect at the end of the script
#  - probe --follow: hyproxd refers to mock-backend, which receives the
#    referral data and source and accepts (exit 0)
#  - Connect layouts v1, v2, v3 decode (mock-backend and the route hook)
set -eu
. "$top_srcdir/test/integration/lib.sh"
it_setup
. "$top_srcdir/test/peers/transport-lib.sh"
need_transport

NO_ROUTE="No server is available for you right now."
PROXY_MSG="full proxy mode is not available yet"
DENY_MSG="Go away, testroute says so."

# ---- the backend every referral points to ----
start_backend backend --script "echo:3,uni,send:100000,disconnect:bye now"
B1=$BPID
BP=$BPORT

# ---- no router ----
C="$T/noroute"
tp_conf "$C"
start_proxy noroute "$C"
P=$PORT
run_probe nr-probe --json -t 5s "127.0.0.1:$P"
expect_rc 11 "no router: probe"
expect_fgrep '"result":"disconnect"' "$T/nr-probe.out" "no router: result"
expect_fgrep "\"disconnect\":{\"type\":0,\"reason\":\"$NO_ROUTE\"}" \
    "$T/nr-probe.out" "no router: reason"
expect_fgrep '"app":true,"code":0,' "$T/nr-probe.out" "no router: close code"
run_client nr-client --connect "127.0.0.1:$P"
expect_rc 11 "no router: mock-client"
expect_fgrep "frame id=1 hex=$(disconnect_hex "$NO_ROUTE")" \
    "$T/nr-client.out" "no router: Disconnect frame bytes"
expect_grep '^closed kind=2 app=1 code=0 ' "$T/nr-client.out" \
    "no router: peer closed with application code 0"
wait_for_count 'session end outcome=no-route' 2 "$T/noroute.log" 5 ||
    fail "no router: two no-route session ends not logged"
stop_daemon "$DPID" 10
ok "no router: Disconnect \"$NO_ROUTE\", close 0, exact bytes"

# ---- refer, with the referral service ----
C="$T/refer"
tp_conf "$C" refer
cat >>"$C/conf.d/20-testroute.yaml" <<EOF
backend_host: 127.0.0.1
backend_port: $BP
backend_id: mock-1
referral_data_hex: "48595250"
EOF
start_proxy refer "$C"
P=$PORT
run_probe rf-probe --json -t 5s --user Alice \
    --uuid 123e4567-e89b-12d3-a456-426614174000 "127.0.0.1:$P"
expect_rc 10 "refer: probe"
expect_fgrep '"result":"referral"' "$T/rf-probe.out" "refer: result"
expect_fgrep "\"referral\":{\"host\":\"127.0.0.1\",\"port\":$BP,\"data_hex\":\"48595250\",\"data_len\":4}" \
    "$T/rf-probe.out" "refer: host, port and data"
expect_fgrep "\"packet\":{\"id\":18,\"name\":\"ClientReferral\",\"length\":26}" \
    "$T/rf-probe.out" "refer: payload length"
expect_fgrep '"app":true,"code":0,' "$T/rf-probe.out" "refer: close code"
expect_grep '\[testroute\].*route: decision=refer user=Alice uuid=123e4567-e89b-12d3-a456-426614174000 layout=2 sni=[^ ]+ alpn=hytale/2 cert_fp=[A-Za-z0-9_-]{43} ' \
    "$T/refer.log" "refer: the session the route hook saw"
run_client rf-client --connect "127.0.0.1:$P"
expect_rc 10 "refer: mock-client"
want=$(referral_hex 127.0.0.1 "$BP" 48595250)
expect_fgrep "frame id=18 hex=$want" "$T/rf-client.out" \
    "refer: ClientReferral frame bytes ($want)"
expect_grep '^closed kind=2 app=1 code=0 ' "$T/rf-client.out" \
    "refer: peer closed with application code 0"
wait_for_count 'session end outcome=referred' 2 "$T/refer.log" 5 ||
    fail "refer: two referred session ends not logged"
ok "refer: ClientReferral 127.0.0.1:$BP data HYRP, exact bytes"

# ---- probe --follow: the backend gets the data and the source ----
run_probe follow --json -t 5s --follow --layout v2 --user Bob "127.0.0.1:$P"
expect_rc 0 "follow: probe"
[ "$(grep -c '"hop"' "$T/follow.out")" -eq 2 ] ||
    fail "follow: expected two hops in $(cat "$T/follow.out")"
expect_fgrep '"result":"accept"' "$T/follow.out" "follow: accepted at hop 2"
wait_for_log "^connect conn=[0-9]+ layout=2 user=Bob .* referral_data=48595250 referral_source=127\\.0\\.0\\.1:$P\$" \
    "$T/backend.out" 5 ||
    fail "follow: the backend did not see referral data HYRP from 127.0.0.1:$P"
expect_grep '^referral conn=[0-9]+ verify=none' "$T/backend.out" \
    "follow: the verification hook point ran"
stop_daemon "$DPID" 10
ok "follow: mock-backend received data 48595250 from 127.0.0.1:$P and accepted"

# ---- refer without a referral service: data is null ----
C="$T/nodata"
tp_conf "$C" refer
cat >>"$C/conf.d/20-testroute.yaml" <<EOF
backend_host: 127.0.0.1
backend_port: $BP
EOF
start_proxy nodata "$C"
P=$PORT
run_client nd-client --connect "127.0.0.1:$P"
expect_rc 10 "refer without service: mock-client"
want=$(referral_hex 127.0.0.1 "$BP")
expect_fgrep "frame id=18 hex=$want" "$T/nd-client.out" \
    "refer without service: frame bytes ($want)"
run_probe nd-probe --json -t 5s "127.0.0.1:$P"
expect_rc 10 "refer without service: probe"
expect_fgrep '"data_hex":null' "$T/nd-probe.out" "refer without service: data"
stop_daemon "$DPID" 10
ok "refer without a referral service: data null, exact bytes"

# ---- deny, proxy, none ----
for mode in deny proxy none; do
	C="$T/$mode"
	tp_conf "$C" "$mode"
	case $mode in
	deny)
		echo "deny_message: \"$DENY_MSG\"" >>"$C/conf.d/20-testroute.yaml"
		msg=$DENY_MSG outcome=denied ;;
	proxy)
		printf 'backend_host: 127.0.0.1\nbackend_port: %s\n' "$BP" \
		    >>"$C/conf.d/20-testroute.yaml"
		msg=$PROXY_MSG outcome=proxy-unsupported ;;
	none)
		msg=$NO_ROUTE outcome=no-route ;;
	esac
	start_proxy "$mode" "$C"
	P=$PORT
	run_probe "$mode-probe" --json -t 5s "127.0.0.1:$P"
	expect_rc 11 "$mode: probe"
	expect_fgrep "\"disconnect\":{\"type\":0,\"reason\":\"$msg\"}" \
	    "$T/$mode-probe.out" "$mode: reason"
	expect_fgrep '"app":true,"code":0,' "$T/$mode-probe.out" \
	    "$mode: close code"
	run_client "$mode-client" --connect "127.0.0.1:$P"
	expect_rc 11 "$mode: mock-client"
	expect_fgrep "frame id=1 hex=$(disconnect_hex "$msg")" \
	    "$T/$mode-client.out" "$mode: Disconnect frame bytes"
	wait_for_count "session end outcome=$outcome" 2 "$T/$mode.log" 5 ||
	    fail "$mode: two $outcome session ends not logged"
	stop_daemon "$DPID" 10
	ok "$mode: Disconnect \"$msg\", close 0, outcome $outcome"
done

# ---- probe and mock-client ↔ mock-backend ----
run_probe mb-probe --json -t 5s "127.0.0.1:$BP"
expect_rc 0 "mock-backend: probe"
expect_fgrep '"result":"accept"' "$T/mb-probe.out" "mock-backend: probe accepted"
expect_fgrep '"alpn":"hytale/2"' "$T/mb-probe.out" "mock-backend: ALPN"
run_client mb-client --connect "127.0.0.1:$BP" --frames 3 --frame-size 1000 \
    --expect-uni 2 --expect-bytes 100000
expect_rc 0 "mock-backend: scripted exchange"
expect_grep '^accept ' "$T/mb-client.out" "script: ConnectAccept"
[ "$(grep -c '^echo n=' "$T/mb-client.out")" -eq 3 ] ||
    fail "script: expected 3 byte-exact echoes"
expect_grep '^uni sid=3 id=131 len=6 payload=Chunks$' "$T/mb-client.out" \
    "script: first uni stream is Chunks"
expect_grep '^uni sid=7 id=241 len=8 payload=WorldMap$' "$T/mb-client.out" \
    "script: second uni stream is WorldMap"
expect_grep '^done echoes=3 uni_frames=2 filler=100000$' "$T/mb-client.out" \
    "script: all expectations met"
expect_grep '^disconnect reason=bye now$' "$T/mb-client.out" \
    "script: final Disconnect"
expect_grep '^sent conn=[0-9]+ frames=7 payload=100000$' "$T/backend.out" \
    "script: the backend sent 100000 bytes"
ok "mock-backend: probe accepted; echo, uni Chunks+WorldMap, 100 kB, Disconnect"

# ---- layouts v1, v2, v3 ----
for l in 1 2 3; do
	run_probe "layout$l" --json -t 5s --layout "v$l" --user "Lay$l" \
	    "127.0.0.1:$BP"
	expect_rc 0 "layout v$l: probe"
	if [ "$l" -eq 3 ]; then
		re="^connect conn=[0-9]+ layout=3 user=- uuid=- "
	else
		re="^connect conn=[0-9]+ layout=$l user=Lay$l uuid=[0-9a-f-]{36} "
	fi
	wait_for_log "$re" "$T/backend.out" 5 ||
	    fail "layout v$l: mock-backend did not decode it"
done
C="$T/layouts"
tp_conf "$C" deny
start_proxy layouts "$C"
for l in 1 2 3; do
	run_probe "pl$l" --json -t 5s --layout "v$l" "127.0.0.1:$PORT"
	expect_rc 11 "layout v$l via hyproxd"
	wait_for_log "route: decision=deny .* layout=$l " "$T/layouts.log" 5 ||
	    fail "layout v$l: the route hook did not see layout $l"
done
stop_daemon "$DPID" 10
ok "layouts v1, v2, v3 decode in mock-backend and in the transport"

# ---- a backend that rejects ----
start_backend reject --reject-reason "Server is full." --exit-after 1
run_probe rj-probe --json -t 5s "127.0.0.1:$BPORT"
expect_rc 11 "rejecting mock-backend: probe"
expect_fgrep '"disconnect":{"type":0,"reason":"Server is full."}' \
    "$T/rj-probe.out" "rejecting mock-backend: reason"
wait_exit "$BPID" 5 || fail "mock-backend --exit-after 1 did not exit"
[ "$RC" -eq 0 ] || fail "mock-backend --exit-after 1 exited $RC"
expect_grep '^reject conn=1 reason=Server is full\.$' "$T/reject.out" \
    "rejecting mock-backend: reject line"
ok "mock-backend --reject-reason: Disconnect, then exits after one connection"

stop_peer "$B1"
it_done

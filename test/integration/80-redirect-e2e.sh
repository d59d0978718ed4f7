#!/bin/sh
# 80-redirect-e2e: redirect mode end to end with real plugins and peers.
#
# hyproxd runs the transport, router and referral-hmac plugins of the build
# tree (debug logging); mock-backend verifies tickets with libhyprox.
# Covers:
#  - probe --follow → hyproxd → ClientReferral to the backend → the probe
#    presents the ticket → the backend verifies it (kid, backend scope,
#    target, trace id) → ConnectAccept, exit 0
#  - correlation: the trace id the backend prints is the session id of
#    hyproxd's session-end line for that player, whose reason names the
#    route, pool, backend and ticket=k1
#  - the ticket bytes, its MAC and its nonce appear in no log of hyproxd
#    (text at debug level), nor does the key
#  - the same ticket presented again is refused as replayed; the ticket
#    verifies offline with hyproxctl ticket verify and inspects as issued
#  - the backend refuses a player without referral data, and referral
#    data without a referral source
#  - a key given through env: works the same (second proxy)
set -eu
. "$top_srcdir/test/integration/lib.sh"
it_setup
. "$top_srcdir/test/peers/transport-lib.sh"
. "$top_srcdir/test/integration/redirect-lib.sh"
need_redirect

UUID=0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0
DIRECT_MSG="This server only accepts players referred by hyprox"

K1="$T/keys/ticket-k1.key"
mkdir -p "$T/keys"
make_key "$K1"

# ---- the backend ----
rd_backend backend 127.0.0.1:0 --ticket-key "k1=file:$K1" \
    --backend-id lobby-1 --pool lobby
BP=$BPORT
B1=$BPID

# ---- the proxy ----
C="$T/proxy"
rd_conf "$C" debug
cat >"$C/conf.d/20-router.yaml" <<EOF
pools:
  - id: lobby
    mode: redirect
    strategy: least_loaded
    backends:
      - {id: lobby-1, host: 127.0.0.1, port: $BP, max_players: 100}
routes:
  - name: everyone
    pool: lobby
health:
  enabled: true
  interval: 1s
  timeout: 1s
EOF
cat >"$C/conf.d/30-referral-hmac.yaml" <<EOF
keys:
  - id: k1
    secret: file:$K1
ttl: 30s
scope: backend
EOF
start_proxy proxy "$C"
P=$PORT
expect_grep "\\[referral-hmac\\] 1 key loaded; signing with 'k1'" \
    "$T/proxy.log" "referral-hmac started with k1"

# ---- probe --follow: referred, ticket verified, accepted ----
n0=$(nlines "$T/backend.out")
run_probe e2e --json -t 10s --follow --user Alice --uuid "$UUID" \
    "127.0.0.1:$P"
expect_rc 0 "e2e: probe --follow"
[ "$(grep -c '"hop"' "$T/e2e.out")" -eq 2 ] ||
    fail "e2e: expected two hops in $(cat "$T/e2e.out")"
expect_fgrep "\"referral\":{\"host\":\"127.0.0.1\",\"port\":$BP," \
    "$T/e2e.out" "e2e: referred to the backend's port"
expect_fgrep '"result":"accept"' "$T/e2e.out" "e2e: accepted at hop 2"
TICKET=$(probe_ref_data "$T/e2e.out")
[ -n "$TICKET" ] || fail "e2e: no referral data in the probe's output"
wait_after "^referral conn=[0-9]+ verify=ok kid=k1 scope=backend:lobby-1 target=lobby-1 trace=[0-9a-f]{16} " \
    "$T/backend.out" "$n0" 5 ||
    fail "e2e: the backend did not verify the ticket (verify=ok kid=k1)"
after_grep "^connect conn=[0-9]+ layout=2 user=Alice uuid=$UUID .* referral_data=$TICKET referral_source=127\\.0\\.0\\.1:$P\$" \
    "$T/backend.out" "$n0" | grep -q . ||
    fail "e2e: the backend did not receive the ticket from 127.0.0.1:$P"
after_grep '^accept conn=' "$T/backend.out" "$n0" | grep -q . ||
    fail "e2e: the backend did not accept"
ok "probe --follow: referred to 127.0.0.1:$BP, ticket verified, accepted"

# ---- correlation: trace id == session id ----
TRACE=$(after_grep '^referral conn=[0-9]+ verify=ok ' "$T/backend.out" "$n0" |
    sed -n 's/.* trace=\([^ ]*\) .*/\1/p' | head -n 1)
wait_for_log "\\[sess=$TRACE\\] session end outcome=referred .* user=Alice uuid=$UUID " \
    "$T/proxy.log" 5 ||
    fail "e2e: no session-end line of session $TRACE (the backend's trace id) for Alice"
line=$(grep -E "\\[sess=$TRACE\\] session end outcome=referred" "$T/proxy.log")
case $line in
*'reason="route=everyone pool=lobby strategy=least_loaded backend=lobby-1 '*'ticket=k1"'*) ;;
*) fail "e2e: session reason lacks route, pool, backend or ticket=k1: $line" ;;
esac
case $line in
*"backend=lobby-1 "*) ;;
*) fail "e2e: session end does not name backend lobby-1: $line" ;;
esac
[ "$(grep -c "session end outcome=referred" "$T/proxy.log")" -eq 1 ] ||
    fail "e2e: expected exactly one referred session"
ok "correlation: backend trace=$TRACE is hyproxd's session id; reason has ticket=k1"

# ---- offline: hyproxctl verifies and inspects what hyproxd issued ----
"$HYPROXCTL" ticket verify --key "k1=file:$K1" --backend lobby-1 \
    --pool lobby --uuid "$UUID" "$TICKET" >"$T/verify.out" 2>&1 ||
    fail "hyproxctl ticket verify refused hyproxd's ticket: $(cat "$T/verify.out")"
expect_grep '^ok$' "$T/verify.out" "offline verify"
"$HYPROXCTL" ticket inspect --json "$TICKET" >"$T/inspect.out" 2>&1 ||
    fail "hyproxctl ticket inspect failed: $(cat "$T/inspect.out")"
expect_fgrep "\"key_id\":\"k1\"" "$T/inspect.out" "inspect: key id"
expect_fgrep "\"ttl\":30," "$T/inspect.out" "inspect: ttl 30"
expect_fgrep "\"scope\":\"backend\",\"scope_id\":\"lobby-1\",\"target\":\"lobby-1\",\"uuid\":\"$UUID\",\"address\":null" \
    "$T/inspect.out" "inspect: scope, target, uuid, no address"
expect_fgrep "{\"type\":1,\"data\":\"$(hexstr "$TRACE")\"}" "$T/inspect.out" \
    "inspect: trace id TLV"
ok "offline: hyproxctl ticket verify ok; inspect: k1, backend lobby-1, uuid, trace"

# ---- secrets: ticket, MAC, nonce and key appear in no hyproxd log ----
MAC=$(printf '%s' "$TICKET" | cut -c $((${#TICKET} - 63))-)
NONCE=$(sed -n 's/.*"nonce":"\([0-9a-f]*\)".*/\1/p' "$T/inspect.out")
KEYHEX=$(od -An -tx1 -v "$K1" | tr -d ' \n' | cut -c 1-32)
[ "${#MAC}" -eq 64 ] && [ "${#NONCE}" -eq 32 ] ||
    fail "cannot extract MAC ($MAC) or nonce ($NONCE)"
grep -q 'debug' "$T/proxy.log" || fail "hyproxd did not log at debug level"
for f in "$T/proxy.log" "$T/proxy.out"; do
	for s in "$TICKET" "$MAC" "$NONCE" "$KEYHEX"; do
		if grep -Fiq -- "$s" "$f"; then
			fail "secret material ${s%"${s#????????}"}... found in ${f#"$T"/}"
		fi
	done
done
ok "no ticket, MAC, nonce or key bytes in hyproxd's logs (debug level)"

# ---- replay: the same ticket again is refused ----
n0=$(nlines "$T/backend.out")
run_probe replay --json -t 10s --user Alice --uuid "$UUID" \
    --referral-data "$TICKET" --referral-source "127.0.0.1:$P" \
    "127.0.0.1:$BP"
expect_rc 11 "replay: probe"
[ "$(probe_reason "$T/replay.out")" = "Ticket already used (nonce replayed)" ] ||
    fail "replay: reason '$(probe_reason "$T/replay.out")'"
wait_after '^referral conn=[0-9]+ verify=HYP_ETICKET_REPLAYED reason=Ticket already used \(nonce replayed\)$' \
    "$T/backend.out" "$n0" 5 || fail "replay: no verify=HYP_ETICKET_REPLAYED line"
ok "replay: the followed ticket presented again is refused (REPLAYED)"

# ---- the backend refuses direct players and data without a source ----
n0=$(nlines "$T/backend.out")
run_probe direct --json -t 10s "127.0.0.1:$BP"
expect_rc 11 "direct: probe"
[ "$(probe_reason "$T/direct.out")" = "$DIRECT_MSG" ] ||
    fail "direct: reason '$(probe_reason "$T/direct.out")'"
wait_after "^referral conn=[0-9]+ verify=absent reason=$DIRECT_MSG\$" \
    "$T/backend.out" "$n0" 5 || fail "direct: no verify=absent line"
n0=$(nlines "$T/backend.out")
run_probe nosrc --json -t 10s --referral-data "$TICKET" "127.0.0.1:$BP"
expect_rc 11 "no source: probe"
[ "$(probe_reason "$T/nosrc.out")" = "Referral data without a referral source" ] ||
    fail "no source: reason '$(probe_reason "$T/nosrc.out")'"
wait_after '^referral conn=[0-9]+ verify=no-source ' "$T/backend.out" "$n0" 5 ||
    fail "no source: no verify=no-source line"
ok "backend: no referral data → \"$DIRECT_MSG\"; data without source refused"
stop_daemon "$DPID" 10

# ---- a key from env: gives the same result ----
KEYVAL=$(head -c 48 /dev/urandom | od -An -tx1 -v | tr -d ' \n')
HYPROX_IT_K2=$KEYVAL
export HYPROX_IT_K2
rd_backend envb 127.0.0.1:0 --ticket-key k2=env:HYPROX_IT_K2 \
    --backend-id env-1
EP=$BPORT
C="$T/envproxy"
rd_conf "$C"
cat >"$C/conf.d/20-router.yaml" <<EOF
pools:
  - id: envpool
    backends:
      - {id: env-1, host: 127.0.0.1, port: $EP}
routes:
  - pool: envpool
health: {enabled: false}
EOF
cat >"$C/conf.d/30-referral-hmac.yaml" <<EOF
keys:
  - id: k2
    secret: env:HYPROX_IT_K2
EOF
start_proxy envproxy "$C"
run_probe envfollow --json -t 10s --follow --uuid "$UUID" "127.0.0.1:$PORT"
expect_rc 0 "env key: probe --follow"
wait_for_log '^referral conn=[0-9]+ verify=ok kid=k2 scope=backend:env-1 target=env-1 trace=[0-9a-f]{16} ' \
    "$T/envb.out" 5 || fail "env key: the backend did not verify kid k2"
for f in "$T/envproxy.log" "$T/envproxy.out"; do
	if grep -Fq -- "$KEYVAL" "$f"; then
		fail "env key: the key appears in ${f#"$T"/}"
	fi
done
stop_daemon "$DPID" 10
ok "env:NAME key: referred, verified, accepted"

stop_peer "$BPID"
stop_peer "$B1"
it_done

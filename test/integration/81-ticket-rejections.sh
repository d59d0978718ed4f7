#!/bin/sh
# 81-ticket-rejections: every ticket rejection through mock-backend.
#
# Tickets are made with hyproxctl ticket sign and presented with
# hyproxctl probe --referral-data HEX --referral-source ... straight to
# mock-backend (backend lobby-1 of pool lobby), which verifies them with
# libhyprox.  For each case the probe must get Disconnect with the
# hyp_strerror() text (exit 11), the backend must print verify=CODE, and
# hyproxctl ticket verify must name the same code.
# Covers: good ticket accepted; tampered body byte and tampered MAC byte
# (MAC), expired, not yet valid, within the skew on both sides (accepted),
# wrong backend (SCOPE for another backend's scope, TARGET for another
# target), pool scope (own pool accepted, other pool SCOPE), global scope,
# wrong uuid, address binding (right accepted, wrong ADDRESS), replayed
# (first ok, second REPLAYED), replay cache full (REPLAY_FULL), unknown key
# id, retired key, key not yet in its window, garbage data, no data
# (refused; accepted with --allow-direct), and key rotation through
# hyproxd: k1 tickets, then after a SIGHUP that adds k2 with a later
# valid_from, k2 tickets, and the earlier k1 ticket still accepted.
set -eu
. "$top_srcdir/test/integration/lib.sh"
it_setup
. "$top_srcdir/test/peers/transport-lib.sh"
. "$top_srcdir/test/integration/redirect-lib.sh"
need_redirect

U=6a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d
U2=11111111-2222-4333-8444-555555555555
SRC=127.0.0.1:5520
mkdir -p "$T/keys"
for k in k1 old future k9; do
	make_key "$T/keys/$k.key"
done
K1="$T/keys/k1.key"
NOW=$(now_s)

rd_backend backend 127.0.0.1:0 --backend-id lobby-1 --pool lobby \
    --ticket-key "k1=file:$K1" \
    --ticket-key "old=file:$T/keys/old.key@$((NOW - 1000))..$((NOW - 500))" \
    --ticket-key "future=file:$T/keys/future.key@$((NOW + 1000)).."
BP=$BPORT
B1=$BPID
expect_grep "^ticket-key kid=old from=$((NOW - 1000)) to=$((NOW - 500))\$" \
    "$T/backend.out" "backend: window of key old"

# Sign with key k1 (or --key-id/--key given after) for uuid U: sign ARGS...
sign()
{
	"$HYPROXCTL" ticket sign --key-id k1 --key "file:$K1" --target lobby-1 \
	    --uuid "$U" "$@" 2>"$T/sign.err" ||
	    fail "ticket sign $*: $(cat "$T/sign.err")"
}

# Present a ticket: present NAME HEX [probe args...]; sets RC and N0.
present()
{
	pr_name=$1
	pr_hex=$2
	shift 2
	N0=$(nlines "$T/backend.out")
	run_probe "$pr_name" --json -t 10s --uuid "$U" \
	    --referral-data "$pr_hex" --referral-source "$SRC" "$@" \
	    "127.0.0.1:$BP"
}

# Expect acceptance: accept NAME HEX KID [probe args...].
accept()
{
	ac_name=$1
	ac_hex=$2
	ac_kid=$3
	shift 3
	present "$ac_name" "$ac_hex" "$@"
	[ "$RC" -eq 0 ] || fail "$ac_name: probe exit $RC, expected 0 (accepted): $(probe_reason "$T/$ac_name.out")"
	wait_after "^referral conn=[0-9]+ verify=ok kid=$ac_kid " \
	    "$T/backend.out" "$N0" 5 ||
	    fail "$ac_name: no verify=ok kid=$ac_kid line"
	ok "$ac_name: accepted (kid $ac_kid)"
}

# Expect a rejection: reject NAME HEX CODE MESSAGE [probe args...].  Also
# checks that hyproxctl ticket verify (no replay cache) agrees, unless the
# code is about the replay cache.
reject()
{
	rj_name=$1
	rj_hex=$2
	rj_code=$3
	rj_msg=$4
	shift 4
	present "$rj_name" "$rj_hex" "$@"
	[ "$RC" -eq 11 ] || fail "$rj_name: probe exit $RC, expected 11 (Disconnect)"
	rj_got=$(probe_reason "$T/$rj_name.out")
	[ "$rj_got" = "$rj_msg" ] ||
	    fail "$rj_name: Disconnect reason '$rj_got', expected '$rj_msg'"
	wait_after "^referral conn=[0-9]+ verify=$rj_code reason=$(re_quote "$rj_msg")\$" \
	    "$T/backend.out" "$N0" 5 ||
	    fail "$rj_name: no 'verify=$rj_code reason=$rj_msg' line"
	after_grep '^accept conn=' "$T/backend.out" "$N0" | grep -q . &&
	    fail "$rj_name: the backend accepted too"
	case $rj_code in
	HYP_ETICKET_REPLAY*) ;;
	*)
		rv=0
		"$HYPROXCTL" ticket verify --key "k1=file:$K1" \
		    --key "old=file:$T/keys/old.key" \
		    --valid "old=$((NOW - 1000))..$((NOW - 500))" \
		    --key "future=file:$T/keys/future.key" \
		    --valid "future=$((NOW + 1000)).." \
		    --backend lobby-1 --pool lobby --uuid "$U" --peer 127.0.0.1 \
		    "$rj_hex" >"$T/$rj_name.verify" 2>&1 || rv=$?
		[ "$rv" -eq 3 ] && grep -Fxq -- "$rj_code $rj_msg" \
		    "$T/$rj_name.verify" ||
		    fail "$rj_name: hyproxctl ticket verify disagrees (exit $rv): $(cat "$T/$rj_name.verify")"
		;;
	esac
	ok "$rj_name: $rj_code \"$rj_msg\""
}

# ---- good tickets ----
accept good "$(sign)" k1
# Within the 5 s skew: expired 1 s ago; issued 2 s ahead.
accept skew-past "$(sign --now $(($(now_s) - 31)) --ttl 30)" k1
accept skew-future "$(sign --now $(($(now_s) + 2)))" k1
accept pool-scope "$(sign --scope pool --scope-id lobby --target lobby-2)" k1
accept global-scope "$(sign --scope global --target lobby-9)" k1
accept addr-bound "$(sign --addr 127.0.0.1)" k1

# ---- tampering: key id k1 → the nonce starts at byte 21 ----
T0=$(sign)
reject tampered-body "$(flip_byte "$T0" 25)" HYP_ETICKET_MAC \
    "Ticket signature mismatch (tampered or wrong key)"
reject tampered-mac "$(flip_byte "$T0" $((${#T0} / 2 - 1)))" HYP_ETICKET_MAC \
    "Ticket signature mismatch (tampered or wrong key)"
T0=$(sign --key-id k1 --key "file:$T/keys/k9.key")
reject wrong-key "$T0" HYP_ETICKET_MAC \
    "Ticket signature mismatch (tampered or wrong key)"
accept untampered "$(sign)" k1

# ---- time ----
reject expired "$(sign --now $((NOW - 100)) --ttl 30)" HYP_ETICKET_EXPIRED \
    "Ticket expired"
reject not-yet "$(sign --now $((NOW + 100)))" HYP_ETICKET_NOT_YET \
    "Ticket issued in the future beyond the clock skew"

# ---- wrong backend, scope, uuid, address ----
reject other-backend "$(sign --target lobby-2)" HYP_ETICKET_SCOPE \
    "Ticket scope does not include this backend or pool"
reject other-target "$(sign --scope-id lobby-1 --target lobby-2)" \
    HYP_ETICKET_TARGET "Ticket issued for another backend"
reject other-pool "$(sign --scope pool --scope-id arena)" HYP_ETICKET_SCOPE \
    "Ticket scope does not include this backend or pool"
reject other-uuid "$(sign --uuid "$U2")" HYP_ETICKET_UUID \
    "Ticket issued for another player"
reject other-addr "$(sign --addr 10.1.2.3)" HYP_ETICKET_ADDRESS \
    "Ticket bound to another client address"

# ---- keys ----
reject unknown-kid "$(sign --key-id k9 --key "file:$T/keys/k9.key")" \
    HYP_ETICKET_KEY_UNKNOWN "Ticket key id not in the keyring"
reject retired-key "$(sign --key-id old --key "file:$T/keys/old.key")" \
    HYP_ETICKET_KEY_RETIRED "Ticket key outside its validity window"
reject future-key "$(sign --key-id future --key "file:$T/keys/future.key")" \
    HYP_ETICKET_KEY_RETIRED "Ticket key outside its validity window"

# ---- garbage ----
reject garbage "$(printf '%0200d' 0)" HYP_ETICKET_MAGIC \
    "Not a hyprox ticket (bad magic)"
reject short "48595054" HYP_ETICKET_FORMAT "Ticket malformed or truncated"

# ---- replay ----
T0=$(sign)
accept replay-first "$T0" k1
reject replay-second "$T0" HYP_ETICKET_REPLAYED \
    "Ticket already used (nonce replayed)"
# A rejected ticket does not use up its nonce: fix what was wrong.
T0=$(sign --uuid "$U2" --nonce 00112233445566778899aabbccddeeff)
reject nonce-wrong-uuid "$T0" HYP_ETICKET_UUID \
    "Ticket issued for another player"
accept nonce-right-uuid "$T0" k1 --uuid "$U2"

# ---- no data: refused; --allow-direct accepts ----
N0=$(nlines "$T/backend.out")
run_probe nodata --json -t 10s "127.0.0.1:$BP"
expect_rc 11 "no data: probe"
[ "$(probe_reason "$T/nodata.out")" = "This server only accepts players referred by hyprox" ] ||
    fail "no data: reason '$(probe_reason "$T/nodata.out")'"
wait_after '^referral conn=[0-9]+ verify=absent reason=' "$T/backend.out" \
    "$N0" 5 || fail "no data: no verify=absent line"
ok "no data: refused"

rd_backend small 127.0.0.1:0 --backend-id lobby-1 --replay-capacity 1 \
    --allow-direct --ticket-key "k1=file:$K1"
SP=$BPORT
run_probe direct --json -t 10s "127.0.0.1:$SP"
expect_rc 0 "--allow-direct: probe without data"
wait_for_log '^referral conn=[0-9]+ verify=absent action=accept$' \
    "$T/small.out" 5 || fail "--allow-direct: no verify=absent action=accept"
ok "--allow-direct: a player without referral data is accepted"

# ---- replay cache full: capacity 1, fail closed ----
run_probe full1 --json -t 10s --uuid "$U" --referral-data "$(sign)" \
    --referral-source "$SRC" "127.0.0.1:$SP"
expect_rc 0 "replay cache: first ticket"
run_probe full2 --json -t 10s --uuid "$U" --referral-data "$(sign)" \
    --referral-source "$SRC" "127.0.0.1:$SP"
expect_rc 11 "replay cache full: second ticket"
[ "$(probe_reason "$T/full2.out")" = "Replay cache full: ticket refused" ] ||
    fail "replay cache full: reason '$(probe_reason "$T/full2.out")'"
wait_for_log '^referral conn=[0-9]+ verify=HYP_ETICKET_REPLAY_FULL reason=' \
    "$T/small.out" 5 || fail "replay cache full: no REPLAY_FULL line"
stop_peer "$BPID"
ok "replay cache full: refused (HYP_ETICKET_REPLAY_FULL)"

# ---- rotation through hyproxd: k1, then SIGHUP adds k2 ----
K2="$T/keys/k2.key"
make_key "$K2"
rd_backend rot 127.0.0.1:0 --backend-id lobby-1 --pool lobby \
    --ticket-key "k1=file:$K1@$((NOW - 3600))..$((NOW + 3600))" \
    --ticket-key "k2=file:$K2@$((NOW - 60)).."
RP=$BPORT
C="$T/proxy"
rd_conf "$C"
cat >"$C/conf.d/20-router.yaml" <<EOF
pools:
  - id: lobby
    backends:
      - {id: lobby-1, host: 127.0.0.1, port: $RP}
routes:
  - pool: lobby
health: {enabled: false}
EOF
K1_FROM=$(rfc3339 $((NOW - 3600)))
K1_TO=$(rfc3339 $((NOW + 3600)))
cat >"$C/conf.d/30-referral-hmac.yaml" <<EOF
keys:
  - id: k1
    secret: file:$K1
    valid_from: $K1_FROM
    valid_to: $K1_TO
EOF
start_proxy proxy "$C"
P=$PORT
run_probe rot-k1 --json -t 10s --follow --uuid "$U" "127.0.0.1:$P"
expect_rc 0 "rotation: k1 ticket followed"
wait_for_log '^referral conn=[0-9]+ verify=ok kid=k1 ' "$T/rot.out" 5 ||
    fail "rotation: the backend did not accept a k1 ticket"
run_probe rot-k1-keep --json -t 10s --uuid "$U" "127.0.0.1:$P"
expect_rc 10 "rotation: k1 ticket kept for later"
T1=$(probe_ref_data "$T/rot-k1-keep.out")
[ -n "$T1" ] || fail "rotation: no ticket in $(cat "$T/rot-k1-keep.out")"

cat >>"$C/conf.d/30-referral-hmac.yaml" <<EOF
  - id: k2
    secret: file:$K2
    valid_from: $(rfc3339 $((NOW - 30)))
EOF
kill -HUP "$DPID"
wait_for_log "\\[referral-hmac\\] 2 keys loaded; signing with 'k2'" \
    "$T/proxy.log" 10 || fail "rotation: the reload did not switch to k2"
n0=$(nlines "$T/rot.out")
run_probe rot-k2 --json -t 10s --follow --uuid "$U" "127.0.0.1:$P"
expect_rc 0 "rotation: k2 ticket followed"
wait_after '^referral conn=[0-9]+ verify=ok kid=k2 ' "$T/rot.out" "$n0" 5 ||
    fail "rotation: the backend did not accept a k2 ticket"
n0=$(nlines "$T/rot.out")
run_probe rot-k1-late --json -t 10s --uuid "$U" --referral-data "$T1" \
    --referral-source "127.0.0.1:$P" "127.0.0.1:$RP"
expect_rc 0 "rotation: the k1 ticket issued before the reload"
wait_after '^referral conn=[0-9]+ verify=ok kid=k1 ' "$T/rot.out" "$n0" 5 ||
    fail "rotation: the earlier k1 ticket was not accepted after the rotation"
stop_daemon "$DPID" 10
ok "rotation: k1 tickets, SIGHUP adds k2 (later valid_from) → k2 tickets; both accepted"

stop_peer "$BPID"
stop_peer "$B1"
it_done

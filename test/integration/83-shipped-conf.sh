#!/bin/sh
# 83-shipped-conf: the conf.d/ shipped in the source tree runs redirect mode.
#
# The shipped conf.d files of redirect mode (10-transport, 20-router,
# 30-referral-hmac, README) are copied as they are; only the transport
# listener port and the router backend port are rewritten (sed), and the
# key is created as build.sh does (64 random bytes, mode 600,
# conf.d/keys/ticket-k1.key).  Covers:
#  - the copy differs from the shipped files in exactly those two lines
#  - hyproxd --check -C <copy> passes
#  - hyproxd starts on the copy with the three plugins of the build tree
#  - a mock backend with the router's backend id and pool, verifying with
#    the same key, accepts probe --follow (exit 0, verify=ok kid=k1)
#  - a player without a ticket is refused by that backend
set -eu
. "$top_srcdir/test/integration/lib.sh"
it_setup
. "$top_srcdir/test/peers/transport-lib.sh"
. "$top_srcdir/test/integration/redirect-lib.sh"
need_redirect

SHIPPED="$top_srcdir/conf.d"
for f in 10-transport.yaml 20-router.yaml 30-referral-hmac.yaml; do
	[ -f "$SHIPPED/$f" ] || fail "the shipped conf.d has no $f"
done

# The backend's id and pool, as the shipped router file names them:
# "  - id: POOL" under pools, "      - id: BACKEND" under backends.
POOL=$(sed -n 's/^  - id: *\([A-Za-z0-9._-]*\) *$/\1/p' \
    "$SHIPPED/20-router.yaml" | head -n 1)
BACKEND=$(sed -n 's/^      - id: *\([A-Za-z0-9._-]*\) *$/\1/p' \
    "$SHIPPED/20-router.yaml" | head -n 1)
[ -n "$POOL" ] && [ -n "$BACKEND" ] ||
    fail "cannot find the pool and backend ids in the shipped 20-router.yaml"
grep -q '^    port: 5520$' "$SHIPPED/10-transport.yaml" ||
    fail "the shipped transport does not listen on port 5520"
grep -q '^        port: 5521$' "$SHIPPED/20-router.yaml" ||
    fail "the shipped router backend is not on port 5521"
grep -q '^    secret: file:keys/ticket-k1.key$' \
    "$SHIPPED/30-referral-hmac.yaml" ||
    fail "the shipped referral-hmac key is not file:keys/ticket-k1.key"

# ---- the copy ----
D="$T/conf.d"
mkdir -p "$D" "$T/plugins"
# The redirect-mode files (files of other plugins, like metrics, are left
# out: their plugins are not under test here).
cp "$SHIPPED/10-transport.yaml" "$SHIPPED/20-router.yaml" \
    "$SHIPPED/30-referral-hmac.yaml" "$SHIPPED/README" "$D/" ||
    fail "cannot copy conf.d"
mkdir -p "$D/keys"
chmod 700 "$D/keys"
make_key "$D/keys/ticket-k1.key"
[ "$(stat -c %a "$D/keys/ticket-k1.key")" = 600 ] || fail "key mode"
ln -sf "$TRANSPORT_SO" "$T/plugins/transport.so"
ln -sf "$ROUTER_SO" "$T/plugins/router.so"
ln -sf "$REFERRAL_SO" "$T/plugins/referral-hmac.so"
cat >"$T/hyproxd.yaml" <<EOF
plugin_dir: $T/plugins
EOF

# ---- the backend on a free port, verifying with the same key ----
rd_backend backend 127.0.0.1:0 --backend-id "$BACKEND" --pool "$POOL" \
    --ticket-key "k1=file:$D/keys/ticket-k1.key"
BP=$BPORT
B1=$BPID
sed "s/^        port: 5521\$/        port: $BP/" "$SHIPPED/20-router.yaml" \
    >"$D/20-router.yaml" || fail "cannot rewrite the router port"

# ---- check and start, moving the listener port when it is taken ----
try=0
while :; do
	next_port
	P=$PORT
	sed "s/^    port: 5520\$/    port: $P/" "$SHIPPED/10-transport.yaml" \
	    >"$D/10-transport.yaml" || fail "cannot rewrite the listener port"
	# Only the two port lines differ (each shows as one < and one >).
	cat "$SHIPPED/10-transport.yaml" "$SHIPPED/20-router.yaml" \
	    "$SHIPPED/30-referral-hmac.yaml" >"$T/shipped.cat"
	cat "$D/10-transport.yaml" "$D/20-router.yaml" \
	    "$D/30-referral-hmac.yaml" >"$T/copy.cat"
	ndiff=$(diff "$T/shipped.cat" "$T/copy.cat" | grep -c '^[<>]' || :)
	[ "$ndiff" -eq 4 ] ||
	    fail "the copy differs from conf.d in $ndiff diff lines, expected 4 (two ports): $(diff "$T/shipped.cat" "$T/copy.cat")"
	run_hyproxd check --check -c "$T/hyproxd.yaml" -C "$D"
	expect_rc 0 "hyproxd --check -C <copy of conf.d>: $(cat "$T/check.err")"
	spawn_daemon shipped -c "$T/hyproxd.yaml" -C "$D"
	if wait_for_log 'hyproxd .* started \(pid [0-9]+' "$T/shipped.log" 15
	then
		break
	fi
	is_running "$DPID" && fail "hyproxd did not log 'started' within 15 s"
	wait_exit "$DPID" 2 || :
	if [ "$try" -lt 5 ] && grep -Eqi 'in use|cannot start the QUIC listener' \
	    "$T/shipped.log"; then
		mv "$T/shipped.log" "$T/shipped.try$try.txt"
		try=$((try + 1))
		continue
	fi
	fail "hyproxd exited at start-up on the shipped conf.d"
done
ok "hyproxd --check passes on the shipped conf.d (ports $P, $BP); started"
expect_grep "\\[transport\\] listening on 127\\.0\\.0\\.1 port $P " \
    "$T/shipped.log" "listening line"
expect_grep "\\[core\\] plugin 'router' .* started" "$T/shipped.log" \
    "router started"
expect_grep "\\[referral-hmac\\] 1 key loaded; signing with 'k1'" \
    "$T/shipped.log" "referral-hmac signs with k1"
expect_no_grep 'readable by group or others' "$T/shipped.log" \
    "the key file is private"

# ---- redirect mode ----
run_probe follow --json -t 10s --follow "127.0.0.1:$P"
expect_rc 0 "probe --follow through the shipped conf.d"
expect_fgrep "\"referral\":{\"host\":\"127.0.0.1\",\"port\":$BP," \
    "$T/follow.out" "referred to the backend"
expect_fgrep '"result":"accept"' "$T/follow.out" "accepted by the backend"
wait_for_log "^referral conn=[0-9]+ verify=ok kid=k1 scope=backend:$BACKEND target=$BACKEND trace=[0-9a-f]{16} " \
    "$T/backend.out" 5 || fail "the backend did not verify a k1 ticket"
wait_for_log "session end outcome=referred .*reason=\"route=everyone pool=$POOL .*backend=$BACKEND .*ticket=k1\"" \
    "$T/shipped.log" 5 || fail "no referred session with ticket=k1"
ok "probe --follow → $BACKEND ($POOL) verified the k1 ticket and accepted"

run_probe direct --json -t 10s "127.0.0.1:$BP"
expect_rc 11 "a player without a ticket"
expect_fgrep '"reason":"This server only accepts players referred by hyprox"' \
    "$T/direct.out" "the backend refuses players without a ticket"
ok "the backend refuses a player who did not come through hyprox"

stop_daemon "$DPID" 10
stop_peer "$B1"
it_done

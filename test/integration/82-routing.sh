#!/bin/sh
# 82-routing: the router plugin through the real daemon.
#
# Part 1 (health checks off): pools of one backend each on distinct port
# numbers; which route matched is read from the referral port the probe
# gets (and from the session-end reason).  Covers, first match wins: SNI
# exact (any case, trailing dot) and "*." wildcard (not the bare domain),
# client type editor, protocol CRC, build range (inclusive, outside), ALPN
# hytale/1 vs hytale/2, referral source (host:port, host only, any case,
# other port), uuid list (any case), username list (any case), client
# address CIDR 127.0.0.0/8 vs ::1 (skipped without IPv6 loopback), deny
# route message, default pool; pool full (max_players 1, reservations of
# 1 h) → fallback pool; full pool without fallback → full_message;
# drained pool → unavailable_message.
# Part 2 (health checks every 200 ms, fall 3, rise 2): two live mock
# backends in a round-robin pool; one killed is logged down within 3 s and
# new players go to the other; both killed → unavailable_message; one
# restarted on its port is logged up within 3 s and takes players again.
set -eu
. "$top_srcdir/test/integration/lib.sh"
it_setup
. "$top_srcdir/test/peers/transport-lib.sh"
. "$top_srcdir/test/integration/redirect-lib.sh"
need_redirect

VIP_UUID=0123abcd-4567-49ab-8def-0123456789ab
DENY_MSG="You are banned from this network."
FULL_MSG="Everything is full (test)."
DOWN_MSG="Nothing is up (test)."

HAVE_V6=0
if grep -q '^00000000000000000000000000000001 ' /proc/net/if_inet6 2>/dev/null
then
	HAVE_V6=1
fi

mkdir -p "$T/keys"
make_key "$T/keys/k1.key"

# ---- part 1: matching ----
C="$T/route"
rd_conf "$C"
if [ "$HAVE_V6" -eq 1 ]; then
	cat >"$C/transport.in" <<EOF
listeners:
  - address: 127.0.0.1
    port: @PORT@
  - address: "::1"
    port: @PORT@
certificate: auto
alpn: [hytale/2, hytale/1]
EOF
fi
cat >"$C/conf.d/20-router.yaml" <<EOF
pools:
  - {id: p-default, backends: [{id: b-default, host: 127.0.0.1, port: 1000}]}
  - {id: p-sni, backends: [{id: b-sni, host: 127.0.0.1, port: 1001}]}
  - {id: p-wild, backends: [{id: b-wild, host: 127.0.0.1, port: 1002}]}
  - {id: p-editor, backends: [{id: b-editor, host: 127.0.0.1, port: 1003}]}
  - {id: p-crc, backends: [{id: b-crc, host: 127.0.0.1, port: 1004}]}
  - {id: p-build, backends: [{id: b-build, host: 127.0.0.1, port: 1005}]}
  - {id: p-alpn, backends: [{id: b-alpn, host: 127.0.0.1, port: 1006}]}
  - {id: p-rsrc, backends: [{id: b-rsrc, host: 127.0.0.1, port: 1007}]}
  - {id: p-uuid, backends: [{id: b-uuid, host: 127.0.0.1, port: 1008}]}
  - {id: p-user, backends: [{id: b-user, host: 127.0.0.1, port: 1009}]}
  - {id: p-v6, backends: [{id: b-v6, host: 127.0.0.1, port: 1010}]}
  - {id: p-v4, backends: [{id: b-v4, host: 127.0.0.1, port: 1011}]}
  - {id: p-ten, backends: [{id: b-ten, host: 127.0.0.1, port: 1012}]}
  - id: small
    fallback: [spill]
    backends: [{id: small-1, host: 127.0.0.1, port: 1013, max_players: 1}]
  - {id: spill, backends: [{id: spill-1, host: 127.0.0.1, port: 1014}]}
  - id: tiny
    backends: [{id: tiny-1, host: 127.0.0.1, port: 1015, max_players: 1}]
  - id: drained
    backends: [{id: d-1, host: 127.0.0.1, port: 1016, drain: true}]
routes:
  - name: banned
    match: {username: [Banned]}
    deny: "$DENY_MSG"
  - name: sni-exact
    match: {sni: [play.example.com]}
    pool: p-sni
  - name: sni-wild
    match: {sni: ["*.mini.example.com"]}
    pool: p-wild
  - name: editor
    match: {client_type: editor}
    pool: p-editor
  - name: crc
    match: {protocol_crc: [12345, -42]}
    pool: p-crc
  - name: build
    match: {build: {min: 100, max: 200}}
    pool: p-build
  - name: alpn
    match: {alpn: [hytale/1]}
    pool: p-alpn
  - name: rsrc
    match: {referral_source: ["lobby.example.com:5520", hub.example.com]}
    pool: p-rsrc
  - name: uuid
    match: {uuid: ["$(echo "$VIP_UUID" | tr a-f A-F)"]}
    pool: p-uuid
  - name: user
    match: {username: [VipUser, other]}
    pool: p-user
  - name: cidr6
    match: {cidr: ["::1/128"], username: [Cidr]}
    pool: p-v6
  - name: cidr4
    match: {cidr: [127.0.0.0/8], username: [Cidr]}
    pool: p-v4
  - name: ten
    match: {cidr: [10.0.0.0/8]}
    pool: p-ten
  - name: small
    match: {username: [Filler]}
    pool: small
  - name: tiny
    match: {username: [Tiny]}
    pool: tiny
  - name: drained
    match: {username: [Drained]}
    pool: drained
default_pool: p-default
capacity: {reservation_ttl: 1h}
full_message: "$FULL_MSG"
unavailable_message: "$DOWN_MSG"
health: {enabled: false}
EOF
cat >"$C/conf.d/30-referral-hmac.yaml" <<EOF
keys:
  - id: k1
    secret: file:$T/keys/k1.key
EOF
start_proxy route "$C"
P=$PORT
NCASE=0

# Expect a referral to PORT: route_to NAME PORT PROBE-ARGS... [TARGET]
# (the target is the last argument: 127.0.0.1:$P unless given).
route_to()
{
	rt_name=$1
	rt_port=$2
	shift 2
	NCASE=$((NCASE + 1))
	run_probe "$rt_name" --json -t 10s "$@"
	[ "$RC" -eq 10 ] ||
	    fail "$rt_name: probe exit $RC, expected 10 (referral): $(cat "$T/$rt_name.out")"
	rt_got=$(probe_ref_port "$T/$rt_name.out")
	[ "$rt_got" = "$rt_port" ] ||
	    fail "$rt_name: referred to port $rt_got, expected $rt_port"
}

# Expect Disconnect with MESSAGE: denied NAME MESSAGE PROBE-ARGS...
denied()
{
	dn_name=$1
	dn_msg=$2
	shift 2
	NCASE=$((NCASE + 1))
	run_probe "$dn_name" --json -t 10s "$@"
	[ "$RC" -eq 11 ] ||
	    fail "$dn_name: probe exit $RC, expected 11 (Disconnect): $(cat "$T/$dn_name.out")"
	[ "$(probe_reason "$T/$dn_name.out")" = "$dn_msg" ] ||
	    fail "$dn_name: reason '$(probe_reason "$T/$dn_name.out")', expected '$dn_msg'"
}

A="127.0.0.1:$P"
route_to default 1000 "$A"
route_to sni-exact 1001 --sni play.example.com "$A"
route_to sni-case 1001 --sni PLAY.Example.COM "$A"
route_to sni-dot 1001 --sni play.example.com. "$A"
route_to sni-other 1000 --sni other.example.com "$A"
ok "SNI exact: any case, trailing dot; another name → default"
route_to wild-1 1002 --sni a.mini.example.com "$A"
route_to wild-2 1002 --sni x.y.MINI.example.com "$A"
route_to wild-bare 1000 --sni mini.example.com "$A"
ok "SNI wildcard *.mini.example.com: one or more labels, not the bare name"
route_to editor 1003 --editor "$A"
route_to crc 1004 --crc 12345 "$A"
route_to crc-neg 1004 --crc -42 "$A"
route_to crc-other 1000 --crc 12346 "$A"
ok "client type editor; protocol CRC list (12345, -42; 12346 no)"
route_to build-in 1005 --build 150 "$A"
route_to build-min 1005 --build 100 "$A"
route_to build-max 1005 --build 200 "$A"
route_to build-out 1000 --build 201 "$A"
ok "build range 100..200 inclusive; 201 outside"
route_to alpn-1 1006 --alpn hytale/1 "$A"
expect_fgrep '"alpn":"hytale/1"' "$T/alpn-1.out" "alpn: hytale/1 negotiated"
route_to alpn-2 1000 --alpn hytale/2 "$A"
expect_fgrep '"alpn":"hytale/2"' "$T/alpn-2.out" "alpn: hytale/2 negotiated"
ok "ALPN hytale/1 → its pool; hytale/2 → default"
route_to rsrc 1007 --referral-source lobby.example.com:5520 "$A"
route_to rsrc-case 1007 --referral-source LOBBY.Example.com:5520 "$A"
route_to rsrc-port 1000 --referral-source lobby.example.com:5521 "$A"
route_to rsrc-any 1007 --referral-source hub.example.com:7777 "$A"
ok "referral source: host:port (any case), other port no, host-only any port"
route_to uuid 1008 --uuid "$VIP_UUID" "$A"
route_to user 1009 --user vipuser "$A"
route_to user-2 1009 --user OTHER "$A"
ok "uuid list (upper case in the file); username list, any case"
route_to cidr4 1011 --user Cidr "$A"
if [ "$HAVE_V6" -eq 1 ]; then
	expect_grep "\\[transport\\] listening on ::1 port $P " "$T/route.log" \
	    "IPv6 listener"
	route_to cidr6 1010 --user Cidr "[::1]:$P"
	route_to v6-default 1000 "[::1]:$P"
	ok "CIDR: 127.0.0.0/8 vs ::1/128 (probe via [::1])"
else
	ok "CIDR: 127.0.0.0/8 (SKIP ::1: no IPv6 loopback)"
fi
denied banned "$DENY_MSG" --user Banned "$A"
ok "deny route: \"$DENY_MSG\""

# ---- capacity ----
route_to fill-1 1013 --user Filler "$A"
route_to fill-2 1014 --user Filler "$A"
route_to fill-3 1014 --user Filler "$A"
wait_for_log 'session end outcome=referred .* user=Filler .*reason="route=small pool=spill .*backend=spill-1 .*fallback=small>spill' \
    "$T/route.log" 5 ||
    fail "fallback: the session reason does not record fallback=small>spill"
ok "pool full (max_players 1, reservation) → fallback pool spill"
route_to tiny-1 1015 --user Tiny "$A"
denied tiny-2 "$FULL_MSG" --user Tiny "$A"
denied drained "$DOWN_MSG" --user Drained "$A"
ok "full pool without fallback → full_message; drained → unavailable_message"

# Every referral also carried a ticket for the chosen backend.
T1=$(probe_ref_data "$T/crc.out")
"$HYPROXCTL" ticket inspect --json "$T1" >"$T/crc.inspect" 2>&1 ||
    fail "ticket inspect: $(cat "$T/crc.inspect")"
expect_fgrep '"target":"b-crc"' "$T/crc.inspect" "the ticket targets b-crc"
wait_for_log 'session end outcome=referred .*reason="route=crc pool=p-crc strategy=least_loaded backend=b-crc ' \
    "$T/route.log" 5 || fail "session reason of the crc route"
stop_daemon "$DPID" 10
ok "$NCASE routing cases through hyproxd"

# ---- part 2: health ----
rd_backend hb1 127.0.0.1:0
HP1=$BPORT
HB1=$BPID
rd_backend hb2 127.0.0.1:0
HP2=$BPORT
HB2=$BPID
C="$T/health"
rd_conf "$C"
cat >"$C/conf.d/20-router.yaml" <<EOF
pools:
  - id: main
    strategy: round_robin
    backends:
      - {id: m-1, host: 127.0.0.1, port: $HP1}
      - {id: m-2, host: 127.0.0.1, port: $HP2}
routes:
  - pool: main
unavailable_message: "$DOWN_MSG"
health:
  enabled: true
  interval: 200ms
  timeout: 400ms
  rise: 2
  fall: 3
EOF
cat >"$C/conf.d/30-referral-hmac.yaml" <<EOF
keys:
  - id: k1
    secret: file:$T/keys/k1.key
EOF
start_proxy health "$C"
P=$PORT
A="127.0.0.1:$P"
# Both are probed (health probes are QUIC handshakes closed with "probe").
wait_for_log 'closed conn=[0-9]+ .*reason=probe ' "$T/hb1.out" 5 ||
    fail "health: m-1 was not probed"
wait_for_log 'closed conn=[0-9]+ .*reason=probe ' "$T/hb2.out" 5 ||
    fail "health: m-2 was not probed"
route_to h-a "$HP1" "$A"
route_to h-b "$HP2" "$A"
expect_no_grep 'backend m-[12] down' "$T/health.log" "health: no flapping"
ok "health: both backends probed and used in turn"

# Kill m-1: down within 3 s (interval 200 ms × fall 3 + timeout 400 ms).
t0=$(now_ms)
kill -KILL "$HB1"
wait_exit "$HB1" 5 || fail "m-1 did not die"
wait_for_log '\[router\] backend m-1 down: 3 probes failed' "$T/health.log" 3 ||
    fail "health: m-1 not marked down within 3 s of being killed"
dt=$(($(now_ms) - t0))
for i in 1 2 3 4; do
	route_to "h-after-down-$i" "$HP2" "$A"
done
expect_no_grep 'backend m-2 down' "$T/health.log" "health: m-2 stays up"
ok "health: m-1 killed → down after ${dt} ms; 4 new players all went to m-2"

# Kill m-2 as well: everything down → unavailable_message.
t0=$(now_ms)
stop_peer "$HB2"
wait_for_log '\[router\] backend m-2 down: 3 probes failed' "$T/health.log" 3 ||
    fail "health: m-2 not marked down within 3 s of stopping"
dt=$(($(now_ms) - t0))
denied h-all-down "$DOWN_MSG" "$A"
ok "health: m-2 stopped → down after ${dt} ms; all down → \"$DOWN_MSG\""

# Restart m-1 on its port: up after rise 2 within 3 s; players return.
t0=$(now_ms)
rd_backend hb1 "127.0.0.1:$HP1"
HB1=$BPID
[ "$BPORT" = "$HP1" ] || fail "m-1 restarted on port $BPORT, not $HP1"
wait_for_log '\[router\] backend m-1 up: 2 probes succeeded' "$T/health.log" 3 ||
    fail "health: m-1 not marked up within 3 s of its restart"
dt=$(($(now_ms) - t0))
route_to h-back-1 "$HP1" "$A"
route_to h-back-2 "$HP1" "$A"
ok "health: m-1 restarted → up after ${dt} ms; new players go to m-1 again"
stop_daemon "$DPID" 10
stop_peer "$HB1"
it_done

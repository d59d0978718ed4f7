#!/bin/sh
# 87-registry.sh: the registry-http plugin end to end: hyproxd with the
# transport, router (a pool with no configured backends) and registry-http
# plugins; a mock backend on loopback.
#
#  - "hyproxctl registry register" -> "hyproxctl probe" gets a
#    ClientReferral to the new backend; list shows it
#  - drain is respected (probe denied while players remain), an empty
#    heartbeat removes the draining entry
#  - heartbeat expiry (ttl 1s + grace 1s) removes a backend
#  - restart (SIGTERM, start with the same state_file) keeps registrations
#    and their expiry
#  - one request signed with openssl dgst and sent with curl, exactly as
#    hyprox-registry-http(5) shows
#  - activation: a new backend stays quarantined until a probe through the
#    transport's connector sees a certificate whose SAN is allowed
#  - every rejection with its status and JSON error: bad signature, old
#    timestamp, replayed nonce, oversized body, malformed and deeply nested
#    JSON, wrong types, unknown fields, disallowed pool, prefix, port and
#    address, unknown key, rate limit
#
# Nothing is sent to a non-loopback address: refused addresses are refused
# before any probe or referral.

. "$top_srcdir/test/integration/lib.sh"
it_setup
. "$top_srcdir/test/peers/transport-lib.sh"
need_transport
ROUTER_SO="$top_builddir/plugins/router/.libs/router.so"
REGISTRY_SO="$top_builddir/plugins/registry-http/.libs/registry-http.so"
for so in "$ROUTER_SO" "$REGISTRY_SO"; do
	[ -f "$so" ] || fail "plugin $so was not built"
done
command -v curl >/dev/null 2>&1 || skip "curl is not installed"
command -v openssl >/dev/null 2>&1 || skip "openssl is not installed"

C="$T/reg"
mkdir -p "$C/conf.d/keys" "$C/plugins" || fail "cannot create $C"
ln -sf "$TRANSPORT_SO" "$C/plugins/transport.so"
ln -sf "$ROUTER_SO" "$C/plugins/router.so"
ln -sf "$REGISTRY_SO" "$C/plugins/registry-http.so"
(umask 077 && openssl rand -hex 32 >"$C/conf.d/keys/op1.secret" &&
    openssl rand -hex 32 >"$C/conf.d/keys/op2.secret") || fail "cannot make keys"
K1=$(cat "$C/conf.d/keys/op1.secret")
K2=$(cat "$C/conf.d/keys/op2.secret")
cat >"$C/hyproxd.yaml" <<EOF
plugin_dir: $C/plugins
conf_dir: conf.d
EOF
cat >"$C/transport.in" <<EOF
listeners:
  - address: 127.0.0.1
    port: @PORT@
certificate: auto
EOF
cat >"$C/conf.d/20-router.yaml" <<EOF
pools:
  - id: lobby
  - id: other
default_pool: lobby
health: {enabled: false}
unavailable_message: "registry test: no backend"
EOF
cat >"$C/registry.in" <<EOF
listen: "127.0.0.1:@PORT@"
orchestrators:
  - id: op1
    secret: file:keys/op1.secret
    cidrs: [127.0.0.1/32]
    pools: [lobby]
    id_prefixes: [mc-]
    ports: ["1024-65000"]
    allow_loopback: true
    rate: {per_second: 1000, burst: 1000}
  - id: op2
    secret: file:keys/op2.secret
    cidrs: [127.0.0.0/8]
    pools: [lobby]
    allow_loopback: true
    rate: {per_second: 1, burst: 3}
max_body: 16384
default_ttl: 30s
grace: 1s
skew: 30s
state_file: state.json
state_delay: 100ms
EOF

# Start hyproxd on $C with the UDP and TCP port $PORT (moved up when taken).
start_reg()
{
	sr_try=0
	while :; do
		next_port
		sed "s/@PORT@/$PORT/" "$C/transport.in" \
		    >"$C/conf.d/10-transport.yaml" || fail "cannot write conf"
		sed "s/@PORT@/$PORT/" "$C/registry.in" \
		    >"$C/conf.d/30-registry-http.yaml" || fail "cannot write conf"
		spawn_daemon "$1" -c "$C/hyproxd.yaml"
		if wait_for_log 'hyproxd .* started \(pid [0-9]+' \
		    "$T/$1.log" 15; then
			break
		fi
		is_running "$DPID" && fail "$1: hyproxd did not start in 15 s"
		wait_exit "$DPID" 2 || :
		if [ "$sr_try" -lt 5 ] && grep -Eqi 'in use|cannot listen|cannot start the QUIC listener' "$T/$1.log"; then
			mv "$T/$1.log" "$T/$1.try$sr_try.txt"
			sr_try=$((sr_try + 1))
			continue
		fi
		fail "$1: hyproxd exited at start-up"
	done
	URL="http://127.0.0.1:$PORT"
	expect_grep "\\[registry-http\\] listening on 127\\.0\\.0\\.1 port $PORT " \
	    "$T/$1.log" "$1: registry listening line"
}

# hyproxctl registry as op1: ctl NAME ARGS...; sets RC, output in $T/NAME.out.
ctl()
{
	ctl_name=$1
	shift
	RC=0
	HYPROX_REGISTRY_SECRET=$K1 timeout 20 "$HYPROXCTL" registry --url "$URL" \
	    --key-id op1 "$@" >"$T/$ctl_name.out" 2>"$T/$ctl_name.err" ||
	    RC=$?
	[ "$RC" -ne 124 ] || fail "$ctl_name: hyproxctl registry hung"
	san_check
}

# Probe the proxy: probe NAME; sets RC.
probe()
{
	run_probe "$1" --json -t 5s "127.0.0.1:$PORT"
}

# Expect a referral to the mock backend: expect_referral NAME WHAT.
expect_referral()
{
	probe "$1"
	expect_rc 10 "$2: probe"
	expect_fgrep "\"referral\":{\"host\":\"127.0.0.1\",\"port\":$BPORT," \
	    "$T/$1.out" "$2: referral to the registered backend"
}

# Expect the router to deny: expect_denied NAME WHAT.
expect_denied()
{
	probe "$1"
	expect_rc 11 "$2: probe"
	expect_fgrep "registry test: no backend" "$T/$1.out" "$2: reason"
}

# Lowercase hex SHA-256 of stdin.
sha256hex()
{
	openssl dgst -sha256 -hex | sed 's/^.*= //'
}

# A hand-signed request, the way hyprox-registry-http(5) shows it:
# signed NAME METHOD TARGET BODY; variables KEY (op1), SECRET ($K1), TS
# (now), NONCE (random) and SIG (computed) override.  Sets CODE and leaves
# the body in $T/NAME.out.
signed()
{
	sg_name=$1
	sg_method=$2
	sg_target=$3
	sg_body=$4
	sg_key=${KEY:-op1}
	sg_secret=${SECRET:-$K1}
	sg_ts=${TS:-$(date +%s)}
	sg_nonce=${NONCE:-$(openssl rand -hex 16)}
	sg_hash=$(printf '%s' "$sg_body" | sha256hex)
	sg_sig=${SIG:-$(printf 'HYPROX-HMAC-SHA256\n%s\n%s\n%s\n%s\n%s' \
	    "$sg_method" "$sg_target" "$sg_ts" "$sg_nonce" "$sg_hash" |
	    openssl dgst -sha256 -hmac "$sg_secret" -hex | sed 's/^.*= //')}
	printf '%s' "$sg_body" >"$T/$sg_name.body"
	CODE=$(curl -sS -o "$T/$sg_name.out" -w '%{http_code}' -X "$sg_method" \
	    -H 'Content-Type: application/json' \
	    -H "X-Hyprox-Key: $sg_key" \
	    -H "X-Hyprox-Timestamp: $sg_ts" \
	    -H "X-Hyprox-Nonce: $sg_nonce" \
	    -H "X-Hyprox-Signature: $sg_sig" \
	    --data-binary "@$T/$sg_name.body" \
	    "$URL$sg_target" 2>"$T/$sg_name.err") ||
	    fail "$sg_name: curl failed"
}

# Expect status and error code: reject NAME STATUS ERROR.
reject()
{
	[ "$CODE" = "$2" ] || fail "$1: HTTP $CODE, expected $2 ($(cat "$T/$1.out"))"
	expect_fgrep "{\"error\":\"$3\",\"message\":\"" "$T/$1.out" "$1: JSON error"
}

start_backend backend
start_reg reg1
P1=$DPID

# ---- nothing registered: denied ----
expect_denied p0 "empty pool"
ok "empty pool: denied"

# ---- register -> referral ----
ctl r1 register --id mc-1 --pool lobby --host 127.0.0.1 --port "$BPORT" \
    --max-players 50 --tag eu --ttl 60
expect_rc 0 "register mc-1"
expect_fgrep '"id":"mc-1","pool":"lobby","host":"127.0.0.1"' "$T/r1.out" \
    "register mc-1: entry"
expect_fgrep '"state":"active"' "$T/r1.out" "register mc-1: state"
expect_referral p1 "registered"
ctl l1 list --pool lobby
expect_rc 0 "list"
expect_fgrep '"count":1' "$T/l1.out" "list: one entry"
expect_grep 'register mc-1 applied by op1@127\.0\.0\.1' "$T/reg1.log" \
    "audit line of the registration"
ok "register: probe referred to 127.0.0.1:$BPORT"

# ---- drain is respected ----
ctl h1 heartbeat mc-1 --players 3
expect_rc 0 "heartbeat mc-1"
ctl d1 drain mc-1
expect_rc 0 "drain mc-1"
expect_fgrep '"state":"draining"' "$T/d1.out" "drain: state"
expect_denied p2 "draining"
ctl h2 heartbeat mc-1 --players 0
expect_rc 0 "empty heartbeat"
expect_fgrep '"state":"removed"' "$T/h2.out" "drained entry removed"
ctl l2 list
expect_fgrep '"count":0' "$T/l2.out" "list after drain"
ok "drain: no new players, removed when empty"

# ---- heartbeat expiry (ttl 1s + grace 1s) ----
ctl r2 register --id mc-2 --pool lobby --host 127.0.0.1 --port "$BPORT" \
    --ttl 1
expect_rc 0 "register mc-2"
expect_referral p3 "short ttl, fresh"
wait_for_log 'expire mc-2 applied by registry' "$T/reg1.log" 5 ||
    fail "mc-2 did not expire within 5 s"
expect_denied p4 "expired"
ctl h3 heartbeat mc-2 --players 1
expect_rc 3 "heartbeat after expiry"
expect_fgrep '"error":"not_found"' "$T/h3.out" "heartbeat after expiry: error"
ok "expiry: gone after ttl + grace"

# ---- a request signed with openssl and sent with curl ----
signed ssl POST /v1/backends \
    "{\"id\":\"mc-ssl\",\"pool\":\"lobby\",\"host\":\"127.0.0.1\",\"port\":$BPORT,\"ttl_seconds\":120}"
[ "$CODE" = 201 ] || fail "openssl+curl register: HTTP $CODE ($(cat "$T/ssl.out"))"
expect_fgrep '"id":"mc-ssl"' "$T/ssl.out" "openssl+curl: entry"
expect_referral p5 "openssl-signed registration"
ok "openssl dgst + curl signing as documented"

# ---- restart keeps registrations and their expiry ----
ctl l3 list
E1=$(sed -n 's/.*"id":"mc-ssl".*"expires_in_ms":\([0-9]*\).*/\1/p' "$T/l3.out")
[ -n "$E1" ] || fail "no expires_in_ms for mc-ssl"
stop_daemon "$P1" 10
expect_fgrep '"id":"mc-ssl"' "$C/conf.d/state.json" "state file holds mc-ssl"
[ "$(stat -c %a "$C/conf.d/state.json")" = 600 ] || fail "state file mode is not 600"
sleep 1
spawn_daemon reg2 -c "$C/hyproxd.yaml"
P2=$DPID
wait_for_log 'hyproxd .* started \(pid [0-9]+' "$T/reg2.log" 15 ||
    fail "reg2: hyproxd did not start"
expect_grep 'state file .*: 1 entries restored, 0 dropped' "$T/reg2.log" \
    "restart: restored"
expect_referral p6 "after restart"
ctl l4 list
E2=$(sed -n 's/.*"id":"mc-ssl".*"expires_in_ms":\([0-9]*\).*/\1/p' "$T/l4.out")
[ -n "$E2" ] && [ "$E2" -lt "$E1" ] ||
    fail "restart: expiry not kept ($E1 before, $E2 after)"
ok "restart: registration kept, expiry kept ($E1 -> $E2 ms)"

# ---- rejections: status and JSON error each ----
REG='{"id":"mc-x","pool":"lobby","host":"127.0.0.1","port":5520}'
SIG=0000000000000000000000000000000000000000000000000000000000000000 \
    signed bad-sig POST /v1/backends "$REG"
reject bad-sig 401 bad_signature
SECRET=$K2 signed wrong-key POST /v1/backends "$REG"
reject wrong-key 401 bad_signature
TS=$(($(date +%s) - 3600)) signed old-ts POST /v1/backends "$REG"
reject old-ts 401 stale_timestamp
N=$(openssl rand -hex 16)
NONCE=$N signed nonce1 GET /v1/backends ""
[ "$CODE" = 200 ] || fail "nonce1: HTTP $CODE"
NONCE=$N signed nonce2 GET /v1/backends ""
reject nonce2 401 replayed_nonce
KEY=nobody signed unknown-key GET /v1/backends ""
reject unknown-key 401 unknown_key
BIG=$(head -c 17000 /dev/zero | tr '\0' ' ')
signed big POST /v1/backends "{\"id\":\"mc-big\"$BIG}"
reject big 413 body_too_large
signed malformed POST /v1/backends '{"id":"mc-x","pool":'
reject malformed 400 malformed_json
signed yaml POST /v1/backends '{id: mc-x, pool: &p lobby, host: *p, port: 5520}'
reject yaml 400 malformed_json
DEEP=$(printf '%0100d' 0 | tr 0 '[')$(printf '%0100d' 0 | tr 0 ']')
signed deep POST /v1/backends "{\"tags\":$DEEP}"
reject deep 400 too_deep
signed wrong-type POST /v1/backends \
    '{"id":"mc-x","pool":"lobby","host":"127.0.0.1","port":"5520"}'
reject wrong-type 400 bad_type
signed unknown-field POST /v1/backends \
    '{"id":"mc-x","pool":"lobby","host":"127.0.0.1","port":5520,"admin":true}'
reject unknown-field 400 unknown_field
signed pool POST /v1/backends \
    '{"id":"mc-x","pool":"other","host":"127.0.0.1","port":5520}'
reject pool 403 forbidden_pool
signed prefix POST /v1/backends \
    '{"id":"evil-x","pool":"lobby","host":"127.0.0.1","port":5520}'
reject prefix 403 forbidden_prefix
signed port POST /v1/backends \
    '{"id":"mc-x","pool":"lobby","host":"127.0.0.1","port":65001}'
reject port 403 forbidden_port
signed public POST /v1/backends \
    '{"id":"mc-x","pool":"lobby","host":"8.8.8.8","port":5520}'
reject public 403 forbidden_address
signed linklocal POST /v1/backends \
    '{"id":"mc-x","pool":"lobby","host":"169.254.169.254","port":5520}'
reject linklocal 403 forbidden_address
signed name POST /v1/backends \
    '{"id":"mc-x","pool":"lobby","host":"localhost","port":5520}'
reject name 403 forbidden_address
signed missing GET /v1/backends/mc-none/drain ""
reject missing 405 method_not_allowed
# op2: burst 3, one per second.
n429=0
for i in 1 2 3 4 5 6; do
	KEY=op2 SECRET=$K2 signed "rate$i" GET /v1/backends ""
	case $CODE in
	200) ;;
	429)	reject "rate$i" 429 rate_limited
		n429=$((n429 + 1)) ;;
	*)	fail "rate$i: HTTP $CODE" ;;
	esac
done
[ "$n429" -ge 2 ] || fail "rate limit: only $n429 of 6 requests refused"
# hyproxctl reports a refusal with exit status 3 and the JSON error.
ctl bad-ctl register --id mc-y --pool other --host 127.0.0.1 --port 5520
expect_rc 3 "hyproxctl: refused registration"
expect_fgrep '"error":"forbidden_pool"' "$T/bad-ctl.out" "hyproxctl: error"
expect_grep 'register mc-y refused by op1@127\.0\.0\.1: status=403 error=forbidden_pool' \
    "$T/reg2.log" "audit line of the refusal"
# Nothing refused reached the router.
ctl l5 list
expect_fgrep '"count":1' "$T/l5.out" "only mc-ssl is registered"
ok "rejections: 401 x5, 413, 400 x5, 403 x6, 405, 429"

stop_daemon "$P2" 10

# ---- activation: quarantined until the certificate's SAN matches ----
# The mock backend's certificate names "localhost".
echo 'activation: {enabled: true, sans: [nomatch.example.net], timeout: 2s, retry: 500ms}' \
    >>"$C/registry.in"
start_reg reg3
P3=$DPID
ctl q1 register --id mc-q --pool lobby --host 127.0.0.1 --port "$BPORT" \
    --ttl 120
expect_rc 0 "register under activation"
expect_fgrep '"state":"quarantined"' "$T/q1.out" "new backend quarantined"
wait_for_log 'activate mc-q refused by registry' "$T/reg3.log" 10 ||
    fail "activation: no refused probe logged"
ctl q2 list --state quarantined
expect_fgrep '"id":"mc-q"' "$T/q2.out" "still quarantined"
stop_daemon "$P3" 10
sed -i 's/nomatch\.example\.net/localhost/' "$C/registry.in"
start_reg reg4
P4=$DPID
wait_for_log 'activate mc-q applied by registry' "$T/reg4.log" 10 ||
    fail "activation: the matching certificate did not release mc-q"
ctl q3 list --state active
expect_fgrep '"id":"mc-q"' "$T/q3.out" "active after the SAN matched"
ok "activation: quarantined on a SAN mismatch, released on a match"
stop_daemon "$P4" 10

stop_peer "$BPID"
it_done

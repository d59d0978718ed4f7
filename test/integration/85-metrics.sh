#!/bin/sh
# 85-metrics: the metrics plugin over real HTTP (curl) against a real
# hyproxd with the transport, testroute (refer) or router, and metrics.
#
# Covers:
#  - an exposition-format 0.0.4 parser (awk, below) that fails on broken
#    input: a good sample passes, 15 broken ones are rejected;
#  - /metrics: status, Content-Type, valid output; hyprox_build_info and
#    the process_* metrics; after N probes handshakes_total{outcome="ok"},
#    sessions_total{outcome="referred"}, the handshake and decision
#    histograms' _count and +Inf bucket grow by exactly N, buckets are
#    cumulative; datagram counters are exact at scrape time (no tick);
#    scrapes_total counts scrapes; HEAD has no body;
#  - /healthz 200 JSON; /readyz 200 JSON naming transport/listener;
#    404 and 405 JSON (with Allow); max_connections: slots are released
#    (20 sequential connections under a cap of 4) and enforced (four held
#    open, a fifth gets 503 and Connection: close);
#  - bearer token: 401 + WWW-Authenticate without or with a wrong token,
#    200 with it, /healthz open; reload moves the listener to a new port
#    and a new token (old port closed, old token refused);
#  - router variant: /readyz 200 with a live mock backend, 503 naming
#    router/backends within interval x fall (+ slack) once it is killed.
set -eu
. "$top_srcdir/test/integration/lib.sh"
it_setup
. "$top_srcdir/test/peers/transport-lib.sh"
need_transport

METRICS_SO="$top_builddir/plugins/metrics/.libs/metrics.so"
ROUTER_SO="$top_builddir/plugins/router/.libs/router.so"
[ -f "$METRICS_SO" ] || fail "metrics plugin $METRICS_SO was not built"
[ -f "$ROUTER_SO" ] || fail "router plugin $ROUTER_SO was not built"
command -v curl >/dev/null 2>&1 ||
    skip "curl is not installed (apt-get install curl)"
N=5

# ---- the exposition-format parser ----
PARSER="$T/expo.awk"
cat >"$PARSER" <<'EOF'
# Validate the Prometheus text format 0.0.4, plus hyprox's naming rules:
# counters end in _total, every family has a TYPE, no per-player label.
function bad(msg) { printf "line %d: %s: %s\n", NR, msg, $0; failed = 1; exit 1 }
function valid_name(s) { return s ~ /^[a-zA-Z_:][a-zA-Z0-9_:]*$/ }
function valid_value(s) {
	return s ~ /^[+-]?(Inf|NaN)$/ ||
	    s ~ /^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$/
}
# Family a sample belongs to (histogram suffixes folded).
function family_of(n,   b) {
	if (n ~ /_bucket$/) { b = substr(n, 1, length(n) - 7); if (type[b] == "histogram") return b }
	if (n ~ /_count$/) { b = substr(n, 1, length(n) - 6); if (type[b] == "histogram") return b }
	if (n ~ /_sum$/) { b = substr(n, 1, length(n) - 4); if (type[b] == "histogram") return b }
	return n
}
# Parse {a="x",b="y"} at the start of s; sets LBL (canonical, le removed),
# LE (le's value or ""), REST (what follows); 0 on a syntax error.
function parse_labels(s,   c, name, val, i, out, seen) {
	LBL = ""; LE = ""; REST = s; split("", seen)
	if (substr(s, 1, 1) != "{") return 1
	s = substr(s, 2)
	while (1) {
		if (substr(s, 1, 1) == "}") { REST = substr(s, 2); return 1 }
		if (!match(s, /^[a-zA-Z_][a-zA-Z0-9_]*/)) return 0
		name = substr(s, 1, RLENGTH); s = substr(s, RLENGTH + 1)
		if (name in seen) return 0
		seen[name] = 1
		if (name ~ /^(user|username|uuid|player|player_id|client_ip|ip|addr|address)$/) { PLAYER = name }
		if (substr(s, 1, 2) != "=\"") return 0
		s = substr(s, 3); val = ""
		while (1) {
			c = substr(s, 1, 1)
			if (c == "") return 0
			if (c == "\"") { s = substr(s, 2); break }
			if (c == "\\") {
				c = substr(s, 2, 1)
				if (c != "\\" && c != "\"" && c != "n") return 0
				val = val "\\" c; s = substr(s, 3); continue
			}
			val = val c; s = substr(s, 2)
		}
		if (name == "le") LE = val
		else LBL = LBL name "=\"" val "\","
		c = substr(s, 1, 1)
		if (c == ",") { s = substr(s, 2); continue }
		if (c == "}") { REST = substr(s, 2); return 1 }
		return 0
	}
}
/^[ \t]*$/ { next }
/^#/ {
	if ($2 == "HELP" || $2 == "TYPE") {
		if (!valid_name($3)) bad("bad metric name in " $2)
		if ($3 in sampled) bad($2 " after the family's samples")
		if ($2 == "HELP") { if ($3 in help) bad("second HELP"); help[$3] = 1; next }
		if (NF != 4) bad("TYPE needs exactly one type")
		if ($4 !~ /^(counter|gauge|histogram|summary|untyped)$/) bad("unknown type " $4)
		if ($3 in type) bad("second TYPE")
		type[$3] = $4
	}
	next
}
{
	if (!match($0, /^[a-zA-Z_:][a-zA-Z0-9_:]*/)) bad("bad metric name")
	name = substr($0, 1, RLENGTH)
	PLAYER = ""
	if (!parse_labels(substr($0, RLENGTH + 1))) bad("bad label set")
	if (PLAYER != "") bad("per-player label " PLAYER)
	rest = REST
	if (rest !~ /^ /) bad("no space before the value")
	sub(/^ +/, "", rest)
	nv = split(rest, f, / +/)
	if (nv < 1 || nv > 2) bad("expected a value and an optional timestamp")
	if (!valid_value(f[1])) bad("bad value " f[1])
	if (nv == 2 && f[2] !~ /^-?[0-9]+$/) bad("bad timestamp")
	fam = family_of(name)
	if (!(fam in type)) bad("sample without a TYPE for " fam)
	if (fam != last_fam && (fam in sampled)) bad("family " fam " is not contiguous")
	sampled[fam] = 1; last_fam = fam
	key = name "{" LBL "le=" LE "}"
	if (key in series) bad("duplicate series")
	series[key] = 1
	v = f[1] + 0
	if (type[fam] == "counter") {
		if (name !~ /_total$/) bad("counter " name " does not end in _total")
		if (f[1] ~ /^-/ || f[1] ~ /NaN/) bad("negative counter")
	}
	if (type[fam] == "histogram") {
		s = fam "{" LBL "}"
		if (name == fam "_bucket") {
			if (LE == "") bad("bucket without le")
			if (!valid_value(LE)) bad("bad le " LE)
			if (s in inf) bad("bucket after +Inf")
			if ((s in lastle) && !(LE + 0 > lastle[s] + 0) && LE != "+Inf") bad("le not increasing")
			if ((s in lastcnt) && v < lastcnt[s]) bad("buckets not cumulative")
			lastle[s] = LE; lastcnt[s] = v
			if (LE == "+Inf") inf[s] = v
		} else if (LE != "") bad("le outside a bucket")
		if (name == fam "_count") {
			if (!(s in inf)) bad("no +Inf bucket before _count")
			if (v != inf[s]) bad("_count differs from the +Inf bucket")
			counted[s] = 1
		}
	}
}
END {
	if (failed) exit 1
	for (s in inf) if (!(s in counted)) { print "histogram " s " has no _count"; exit 1 }
	if (NR == 0) { print "empty exposition"; exit 1 }
}
EOF

# Validate an exposition file: expo_ok FILE (prints the reason on failure).
expo_ok()
{
	[ -s "$1" ] || { echo "empty"; return 1; }
	[ -z "$(tail -c 1 "$1")" ] || { echo "no final newline"; return 1; }
	awk -f "$PARSER" "$1"
}

good="$T/good.prom"
cat >"$good" <<'EOF'
# HELP a_total A counter with "quotes" and \\ in HELP.
# TYPE a_total counter
a_total{x="1",y="q\"u\\o\nte"} 3
a_total{x="2",y=""} 0
# TYPE g gauge
g -1.5e3
g{k="v"} NaN
# TYPE h_seconds histogram
h_seconds_bucket{le="0.0005"} 0
h_seconds_bucket{le="0.1"} 2
h_seconds_bucket{le="+Inf"} 3
h_seconds_sum 0.35
h_seconds_count 3
EOF
msg=$(expo_ok "$good") || fail "parser rejects a valid exposition: $msg"
i=0
while IFS='|' read -r why text; do
	i=$((i + 1))
	printf '%b' "$text" >"$T/bad$i.prom"
	if msg=$(expo_ok "$T/bad$i.prom"); then
		fail "parser accepts broken sample $i ($why)"
	fi
done <<'EOF'
no TYPE|x_total 1\n
bad name|# TYPE 9x gauge\n9x 1\n
unterminated label|# TYPE g gauge\ng{a="b} 1\n
bad value|# TYPE g gauge\ng 1x\n
second TYPE|# TYPE g gauge\n# TYPE g gauge\ng 1\n
not cumulative|# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n
no +Inf|# TYPE h histogram\nh_bucket{le="1"} 1\nh_sum 1\nh_count 1\n
count mismatch|# TYPE h histogram\nh_bucket{le="1"} 1\nh_bucket{le="+Inf"} 2\nh_sum 1\nh_count 3\n
not contiguous|# TYPE a gauge\n# TYPE b gauge\na 1\nb 1\na{x="1"} 2\n
duplicate|# TYPE g gauge\ng{a="1"} 1\ng{a="1"} 2\n
counter name|# TYPE c counter\nc 1\n
per-player label|# TYPE s_total counter\ns_total{user="bob"} 1\n
no final newline|# TYPE g gauge\ng 1
bad escape|# TYPE g gauge\ng{a="\\q"} 1\n
HELP after samples|# TYPE g gauge\ng 1\n# HELP g late\n
EOF
[ "$i" -eq 15 ] || fail "expected 15 broken samples, read $i"
ok "exposition parser: accepts a valid sample, rejects 15 broken ones"

# ---- helpers ----
# HTTP request: http NAME URL [CURL ARGS...]; body in $T/NAME.body,
# headers in $T/NAME.hdr, status in CODE.
http()
{
	h_name=$1 h_url=$2
	shift 2
	CODE=$(curl -sS --max-time 10 -o "$T/$h_name.body" -D "$T/$h_name.hdr" \
	    -w '%{http_code}' "$@" "$h_url" 2>"$T/$h_name.curlerr") || CODE=000
}

# Expect a status: expect_code WANT WHAT.
expect_code()
{
	[ "$CODE" = "$1" ] || fail "$2: HTTP status $CODE, expected $1"
}

# The port the metrics plugin logs it listens on: metrics_port LOG.
metrics_port()
{
	MPORT=""
	wait_for_log '\[metrics\] listening on http://' "$1" 10 ||
	    fail "the metrics plugin did not log its listener"
	MPORT=$(sed -n 's|.*\[metrics\] listening on http://127\.0\.0\.1:\([0-9]*\) .*|\1|p' \
	    "$1" | tail -n 1)
	[ -n "$MPORT" ] || fail "no metrics port in the log"
}

# Scrape /metrics into $T/NAME.body and validate it: scrape NAME [ARGS].
scrape()
{
	s_name=$1
	shift
	http "$s_name" "http://127.0.0.1:$MPORT/metrics" "$@"
	expect_code 200 "$s_name: /metrics"
	msg=$(expo_ok "$T/$s_name.body") ||
	    fail "$s_name: invalid exposition: $msg"
}

# Difference of one sample between two scrapes: delta A B 'NAME{LABELS}'.
delta()
{
	d_a=$(metric "$T/$1.body" "$3")
	d_b=$(metric "$T/$2.body" "$3")
	awk -v a="$d_a" -v b="$d_b" 'BEGIN { printf "%.0f\n", b - a }'
}

# Expect a delta: expect_delta A B 'NAME{LABELS}' WANT.
expect_delta()
{
	d=$(delta "$1" "$2" "$3")
	[ "$d" = "$4" ] || fail "$3 grew by $d, expected $4"
}

# Link the plugins a test needs into DIR/plugins and write 50-metrics.yaml.
metrics_conf()
{
	ln -sf "$METRICS_SO" "$1/plugins/metrics.so"
	ln -sf "$ROUTER_SO" "$1/plugins/router.so"
	printf 'listen: "127.0.0.1:0"\nmax_connections: 4\ntimeout: 5s\n' \
	    >"$1/conf.d/50-metrics.yaml"
}

# ---- /metrics before and after N probes ----
start_backend backend
B1=$BPID
BP=$BPORT
C="$T/refer"
tp_conf "$C" refer
printf 'backend_host: 127.0.0.1\nbackend_port: %s\n' "$BP" \
    >>"$C/conf.d/20-testroute.yaml"
metrics_conf "$C"
start_proxy refer "$C"
P=$PORT
metrics_port "$T/refer.log"

scrape before
expect_fgrep 'Content-Type: text/plain; version=0.0.4; charset=utf-8' \
    "$T/before.hdr" "/metrics Content-Type"
expect_grep '^hyprox_build_info\{version="[^"]+",abi="1\.2"\} 1$' \
    "$T/before.body" "build info"
for m in process_cpu_seconds_total process_resident_memory_bytes \
    process_open_fds process_max_fds process_start_time_seconds; do
	expect_grep "^$m [0-9.e+]+\$" "$T/before.body" "process metric $m"
done
expect_grep '^# TYPE process_cpu_seconds_total counter$' "$T/before.body" \
    "process_cpu_seconds_total is a counter"
[ "$(metric "$T/before.body" process_open_fds)" -gt 3 ] ||
    fail "process_open_fds is implausible"
now=$(date +%s)
awk -v s="$(metric "$T/before.body" process_start_time_seconds)" -v n="$now" \
    'BEGIN { exit !(s > n - 600 && s <= n + 1) }' ||
    fail "process_start_time_seconds is not within the last 10 minutes"
awk -v r="$(metric "$T/before.body" process_resident_memory_bytes)" \
    'BEGIN { exit !(r > 1000000) }' || fail "process RSS is implausible"
expect_grep '^# TYPE hyprox_transport_handshake_duration_seconds histogram$' \
    "$T/before.body" "handshake histogram"
expect_grep '^hyprox_transport_handshake_duration_seconds_bucket\{le="0\.0005"\} ' \
    "$T/before.body" "handshake histogram starts at 0.5 ms"
expect_grep '^hyprox_transport_handshake_duration_seconds_bucket\{le="10"\} ' \
    "$T/before.body" "handshake histogram reaches 10 s"
ok "/metrics: 200, text format 0.0.4, valid, build info and process metrics"

i=0
while [ "$i" -lt "$N" ]; do
	i=$((i + 1))
	run_probe "probe$i" --json -t 5s "127.0.0.1:$P"
	expect_rc 10 "probe $i"
done
wait_for_count 'session end outcome=referred' "$N" "$T/refer.log" 10 ||
    fail "$N referred session ends not logged"
scrape after
expect_delta before after 'hyprox_transport_handshakes_total{outcome="ok"}' "$N"
expect_delta before after 'hyprox_transport_sessions_total{outcome="referred"}' "$N"
expect_delta before after 'hyprox_transport_handshake_duration_seconds_count' "$N"
expect_delta before after 'hyprox_transport_handshake_duration_seconds_bucket{le="+Inf"}' "$N"
expect_delta before after 'hyprox_transport_decision_duration_seconds_count' "$N"
expect_delta before after 'hyprox_metrics_scrapes_total{code="200"}' 1
d=$(delta before after 'hyprox_transport_datagrams_total{direction="in"}')
[ "$d" -ge $((N * 2)) ] ||
    fail "datagrams in grew by $d at scrape time, expected at least $((N * 2))"
ok "after $N probes: handshakes, sessions, histogram _count and +Inf +$N; datagrams exact at scrape"

# HEAD, healthz, readyz, 404, 405.
http head "http://127.0.0.1:$MPORT/metrics" -I
expect_code 200 "HEAD /metrics"
# curl -I writes the headers where the body would go: no sample may follow.
expect_no_grep '^# TYPE' "$T/head.body" "HEAD /metrics sent a body"
http health "http://127.0.0.1:$MPORT/healthz"
expect_code 200 "/healthz"
expect_grep '^\{"status":"ok","uptime_seconds":[0-9]+\.[0-9]+\}$' \
    "$T/health.body" "/healthz body"
expect_fgrep 'Content-Type: application/json' "$T/health.hdr" "/healthz type"
http ready "http://127.0.0.1:$MPORT/readyz"
expect_code 200 "/readyz"
expect_fgrep '"ready":true' "$T/ready.body" "/readyz ready"
expect_fgrep '{"plugin":"transport","name":"listener","ok":true,"reason":""}' \
    "$T/ready.body" "/readyz names the transport's listener check"
expect_fgrep '{"plugin":"metrics","name":"started","ok":true,"reason":""}' \
    "$T/ready.body" "/readyz reports plugin states"
http nf "http://127.0.0.1:$MPORT/nope?x=1"
expect_code 404 "/nope"
expect_grep '^\{"error":"not_found","message":"[^"]+"\}$' "$T/nf.body" "404 body"
http post "http://127.0.0.1:$MPORT/metrics" -X POST -d x=1
expect_code 405 "POST /metrics"
expect_grep '^\{"error":"method_not_allowed",' "$T/post.body" "405 body"
expect_grep '^Allow: GET, HEAD' "$T/post.hdr" "405 Allow header"
scrape counts
expect_grep '^hyprox_metrics_http_requests_total\{endpoint="other",code="404"\} 1$' \
    "$T/counts.body" "404 counted"
expect_grep '^hyprox_metrics_scrapes_total\{code="405"\} 1$' \
    "$T/counts.body" "405 scrape counted"
# Many sequential connections: the connection cap (4) must not leak.
i=0
while [ "$i" -lt 20 ]; do
	i=$((i + 1))
	http "loop" "http://127.0.0.1:$MPORT/healthz"
	expect_code 200 "sequential request $i (connection slots leak?)"
done
# Four connections held open (curl --rate keeps one connection between
# its transfers) fill the cap: a fifth is answered 503 and closed.
u="http://127.0.0.1:$MPORT/healthz"
holders=""
for k in 1 2 3 4; do
	curl -sS --max-time 10 --rate 2/s "$u" "$u" "$u" "$u" "$u" \
	    >/dev/null 2>"$T/hold$k.curlerr" &
	holders="$holders $!"
done
n=0
while :; do
	http cap "$u"
	[ "$CODE" = 503 ] && break
	n=$((n + 1))
	[ "$n" -lt 40 ] || fail "max_connections: a fifth connection got $CODE"
	sleep 0.05
done
expect_grep '^\{"error":"too_many_connections",' "$T/cap.body" "503 body"
expect_grep '^Connection: close' "$T/cap.hdr" "503 closes the connection"
for pid in $holders; do
	wait "$pid" || fail "a connection holder failed: $(cat "$T"/hold*.curlerr)"
done
http afterhold "$u"
expect_code 200 "max_connections: slots free again"
scrape capcount
[ "$(metric "$T/capcount.body" hyprox_metrics_http_connections_refused_total)" -ge 1 ] ||
    fail "refused connections not counted"
stop_daemon "$DPID" 10
ok "HEAD, /healthz, /readyz, 404, 405 (JSON); 20 connections under a cap of 4; a fifth open one gets 503"

# ---- bearer token, and reload to a new port and token ----
C="$T/token"
tp_conf "$C" refer
printf 'backend_host: 127.0.0.1\nbackend_port: %s\n' "$BP" \
    >>"$C/conf.d/20-testroute.yaml"
metrics_conf "$C"
(umask 077 && printf 'tok-%s-one\n' "$$" >"$C/conf.d/token1" &&
    printf 'tok-%s-two\n' "$$" >"$C/conf.d/token2")
printf 'bearer_token: file:token1\n' >>"$C/conf.d/50-metrics.yaml"
start_proxy token "$C"
metrics_port "$T/token.log"
expect_grep '\[metrics\] listening on .*bearer token required' "$T/token.log" \
    "token: logged"
http noauth "http://127.0.0.1:$MPORT/metrics"
expect_code 401 "no token"
expect_grep '^WWW-Authenticate: Bearer realm="hyprox"' "$T/noauth.hdr" \
    "401 WWW-Authenticate"
expect_grep '^\{"error":"unauthorized",' "$T/noauth.body" "401 body"
http wrong "http://127.0.0.1:$MPORT/metrics" -H "Authorization: Bearer tok-$$-onf"
expect_code 401 "wrong token"
http short "http://127.0.0.1:$MPORT/metrics" -H "Authorization: Bearer tok"
expect_code 401 "short token"
http basic "http://127.0.0.1:$MPORT/metrics" -H "Authorization: Basic tok-$$-one"
expect_code 401 "Basic scheme"
http rnoauth "http://127.0.0.1:$MPORT/readyz"
expect_code 401 "/readyz without a token"
http hnoauth "http://127.0.0.1:$MPORT/healthz"
expect_code 200 "/healthz without a token"
scrape authed -H "Authorization: Bearer tok-$$-one"
expect_grep '^hyprox_metrics_scrapes_total\{code="401"\} 4$' "$T/authed.body" \
    "401 scrapes counted"
ok "bearer token: 401 without, wrong, short or Basic; 200 with it; /healthz open"

OLD=$MPORT
try=0
while :; do
	next_port
	NEWP=$((PORT + 1000))
	printf 'listen: "127.0.0.1:%s"\nbearer_token: file:token2\n' "$NEWP" \
	    >"$C/conf.d/50-metrics.yaml"
	n0=$(grep -Ec 'reload complete|reload failed' "$T/token.log" || :)
	kill -HUP "$DPID"
	wait_for_count 'reload complete|reload failed' $((n0 + 1)) \
	    "$T/token.log" 10 || fail "reload did not finish"
	if tail -n 5 "$T/token.log" | grep -q 'reload complete'; then
		break
	fi
	try=$((try + 1))
	[ "$try" -lt 3 ] || fail "reload to a new metrics port failed 3 times"
done
expect_grep "\\[metrics\\] listening on http://127\\.0\\.0\\.1:$NEWP " \
    "$T/token.log" "reload: new listener logged"
MPORT=$NEWP
scrape reloaded -H "Authorization: Bearer tok-$$-two"
http oldtok "http://127.0.0.1:$MPORT/metrics" -H "Authorization: Bearer tok-$$-one"
expect_code 401 "reload: the old token"
http oldport "http://127.0.0.1:$OLD/healthz"
[ "$CODE" = 000 ] || fail "reload: the old port still answers ($CODE)"
stop_daemon "$DPID" 10
ok "reload: listener moved to port $NEWP, new token in force, old port closed"

# ---- router variant: /readyz follows the only backend ----
start_backend rbackend
B2=$BPID
C="$T/router"
tp_conf "$C"
metrics_conf "$C"
cat >"$C/conf.d/20-router.yaml" <<EOF
pools:
  - id: lobby
    backends:
      - id: only-1
        host: 127.0.0.1
        port: $BPORT
routes:
  - name: everyone
    pool: lobby
health:
  enabled: true
  interval: 200ms
  timeout: 300ms
  rise: 1
  fall: 2
EOF
start_proxy router "$C"
metrics_port "$T/router.log"
n=0
while :; do
	http r1 "http://127.0.0.1:$MPORT/readyz"
	[ "$CODE" = 200 ] && break
	n=$((n + 1))
	[ "$n" -lt 50 ] || fail "router: /readyz not 200 with a live backend: $(cat "$T/r1.body")"
	sleep 0.1
done
expect_fgrep '{"plugin":"router","name":"backends","ok":true,"reason":""}' \
    "$T/r1.body" "router: backends check ok"
n=0
while :; do
	scrape rmetrics
	[ "$(metric "$T/rmetrics.body" \
	    'hyprox_router_health_probes_total{result="ok"}')" -ge 2 ] && break
	n=$((n + 1))
	[ "$n" -lt 50 ] || fail "router: no successful health probes"
	sleep 0.1
done
http r1b "http://127.0.0.1:$MPORT/readyz"
expect_code 200 "router: still ready after health probes ran"
expect_grep '^hyprox_router_backend_up\{backend="only-1"\} 1$' \
    "$T/rmetrics.body" "router: backend up gauge"
expect_grep '^hyprox_router_health_probes_total\{result="ok"\} [1-9]' \
    "$T/rmetrics.body" "router: probes counted"
t0=$(now_ms)
stop_peer "$B2"
# interval 200ms x fall 2, plus probe timeouts 2 x 300ms, plus 3 s slack.
limit=4000
while :; do
	http r2 "http://127.0.0.1:$MPORT/readyz"
	[ "$CODE" = 503 ] && break
	[ $(($(now_ms) - t0)) -lt "$limit" ] ||
	    fail "router: /readyz still $CODE ${limit}ms after the backend died"
	sleep 0.05
done
el=$(($(now_ms) - t0))
expect_fgrep '"ready":false' "$T/r2.body" "router: not ready"
expect_grep '\{"plugin":"router","name":"backends","ok":false,"reason":"none of 1 backends is eligible \(only-1: down' \
    "$T/r2.body" "router: the failing check is named"
expect_fgrep '{"plugin":"transport","name":"listener","ok":true' "$T/r2.body" \
    "router: the listener is still fine"
stop_daemon "$DPID" 10
ok "router: /readyz 200 with the backend, 503 naming router/backends ${el}ms after it died"

stop_peer "$B1"
it_done

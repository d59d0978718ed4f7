#!/bin/sh
# bench/run.sh [BUILD_DIR]: hyprox's benchmark, in one go, on a built tree.
#
# Runs hyproxd (transport + the testroute plugin in refer mode) beside
# Debian's ngtcp2 example server gtlsserver (same ngtcp2 0.12 and GnuTLS),
# drives both with hyprox-bench, prints one table of ratios and appends it,
# with the date and the machine, to bench/RESULTS.md.  See bench/README.md.
#
# BUILD_DIR (default ../_build next to this script's directory) must hold a
# built tree with the test helpers:
#   make && make test-peers test/plugins/testroute.la
# Nothing is built here.  Servers are pinned to core 1 and the generator to
# core 0 with taskset when there are 2 cores or more.
#
# Environment:
#   BENCH_DURATION  seconds per measurement window (default 8)
#   BENCH_REPEAT    repeats of the interleaved ratio runs (default 3)
#   BENCH_CONC      closed-loop concurrency of the max-rate runs (default 32)
#   BENCH_N         connections of the memory figures (default 1000)
#   BENCH_RATE_CPU  fixed rate of the CPU-per-referral runs (default 200)
#   BENCH_RESULTS   file to append to (default bench/RESULTS.md; "-" = none)
#   BENCH_NOTE      one line added to the record (e.g. what else ran)
#   BENCH_KEEP      when set, keep the work directory (logs, raw JSON)
set -eu

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
B=${1:-$top/_build}
[ -d "$B" ] || { echo "run.sh: build directory $B not found" >&2; exit 2; }
B=$(cd "$B" && pwd)

DUR=${BENCH_DURATION:-8}
REPEAT=${BENCH_REPEAT:-3}
CONC=${BENCH_CONC:-32}
N=${BENCH_N:-1000}
RATE_CPU=${BENCH_RATE_CPU:-200}
RESULTS=${BENCH_RESULTS:-$here/RESULTS.md}
NOTE=${BENCH_NOTE:-}

HYPROXD=$B/hyproxd
BENCH=$B/hyprox-bench
TRANSPORT_SO=$B/plugins/transport/.libs/transport.so
TESTROUTE_SO=$B/test/plugins/.libs/testroute.so
QUIC_JUNK=$B/test/peers/quic-junk
GTLS=${GTLSSERVER:-/usr/sbin/gtlsserver}

missing=""
for f in "$HYPROXD" "$BENCH" "$QUIC_JUNK" "$GTLS"; do
	[ -x "$f" ] || missing="$missing $f"
done
for f in "$TRANSPORT_SO" "$TESTROUTE_SO"; do
	[ -f "$f" ] || missing="$missing $f"
done
for c in taskset certtool ss awk; do
	command -v "$c" >/dev/null 2>&1 || missing="$missing $c"
done
if [ -n "$missing" ]; then
	echo "run.sh: missing:$missing" >&2
	echo "run.sh: build with 'make && make test-peers" \
	    "test/plugins/testroute.la' in $B; Debian packages:" \
	    "ngtcp2-server gnutls-bin util-linux iproute2" >&2
	exit 2
fi

W=$(mktemp -d "${TMPDIR:-/tmp}/hyprox-bench-run.XXXXXX")
PIDS=""
TICK=$(getconf CLK_TCK)
NCPU=$(nproc)
if [ "$NCPU" -ge 2 ]; then
	SRV="taskset -c 1"
	GEN="taskset -c 0"
	PIN="servers on core 1, generator on core 0 (taskset)"
else
	SRV=""
	GEN=""
	PIN="only 1 core: nothing pinned; generator and server share it"
fi

say() { printf '%s\n' "$*" >&2; }

# Stop every process this script started (by pid), remove the work dir.
cleanup()
{
	for p in $PIDS; do
		kill "$p" 2>/dev/null || :
	done
	sleep 0.3
	for p in $PIDS; do
		kill -9 "$p" 2>/dev/null || :
	done
	[ -n "${BENCH_KEEP:-}" ] && say "run.sh: kept $W" || rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- helpers ----

# CPU time (utime + stime) of a pid in clock ticks.
cpu_ticks()
{
	sed 's/^.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'
}

# Resident memory of a pid in KiB.
rss_kb()
{
	sed -n 's/^VmRSS:[ 	]*\([0-9]*\) kB/\1/p' "/proc/$1/status"
}

# A UDP port nobody listens on: free_port START -> PORT.
NEXTPORT=$((30000 + $$ % 20000))
free_port()
{
	while ss -Hlun "sport = :$NEXTPORT" 2>/dev/null | grep -q .; do
		NEXTPORT=$((NEXTPORT + 1))
	done
	PORT=$NEXTPORT
	NEXTPORT=$((NEXTPORT + 1))
}

# Wait until FILE matches the extended regex RE: wait_re RE FILE SECS.
wait_re()
{
	wr_n=$(($3 * 20))
	while [ "$wr_n" -gt 0 ]; do
		grep -Eq -- "$1" "$2" 2>/dev/null && return 0
		sleep 0.05
		wr_n=$((wr_n - 1))
	done
	return 1
}

# A JSON number field of the bench output: jnum FILE KEY.
jnum()
{
	sed -n "s/.*\"$2\":\\([-0-9.]*\\).*/\\1/p" "$1" | head -n 1
}

# Latency percentile (us) of the bench output: jlat FILE p50|p90|p99|max.
jlat()
{
	sed -n "s/.*\"latency_us\":{[^}]*\"$2\":\\([0-9]*\\).*/\\1/p" "$1"
}

# Generator saturation flag of the bench output.
jsat()
{
	grep -q '"generator_saturated":true' "$1" && echo yes || echo no
}

# Median of the numbers given.
median()
{
	printf '%s\n' "$@" | sort -g | awk '{a[NR] = $1}
	    END { if (NR == 0) print "nan"; else if (NR % 2) print a[(NR + 1) / 2];
	    else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

# min-max of the numbers given.
spread()
{
	printf '%s\n' "$@" | sort -g | awk 'NR == 1 {lo = $1} {hi = $1}
	    END {printf "%s-%s", lo, hi}'
}

# Arithmetic: calc EXPR (awk, %.*g output).
calc()
{
	awk "BEGIN { v = $1; if (v >= 1000 || v <= -1000) printf \"%.0f\", v;
	    else printf \"%.3g\", v }"
}

# Snapshot of the decision-duration histogram the testroute plugin writes
# (cumulative bucket counts, "le count" per line): dec_snap METRICS OUT.
dec_snap()
{
	sleep 0.3
	sed -n 's/^hyprox_transport_decision_duration_seconds_bucket{le="\([^"]*\)"} \([0-9]*\).*/\1 \2/p' \
	    "$1" >"$2" 2>/dev/null || :
}

# Server-side p99 of the decisions between two snapshots, as the upper
# bound of its histogram bucket in ms: dec_p99 BEFORE AFTER.
dec_p99()
{
	awk 'NR == FNR { b[$1] = $2; next }
	    { le[++n] = $1; d[n] = $2 - b[$1] }
	    END { if (n == 0 || d[n] <= 0) { print "nan"; exit }
	    for (i = 1; i <= n; i++) if (d[i] >= 0.99 * d[n]) {
	    if (le[i] == "+Inf") print "inf"; else print le[i] * 1000; exit } }' \
	    "$1" "$2"
}

# Self-signed certificate of a key type: mkcert NAME ecdsa|ed25519|rsa.
mkcert()
{
	case $2 in
	ecdsa) set -- "$1" --key-type=ecdsa --curve=secp256r1 ;;
	ed25519) set -- "$1" --key-type=ed25519 ;;
	rsa) set -- "$1" --key-type=rsa --bits=2048 ;;
	esac
	mc_name=$1
	shift
	certtool --generate-privkey "$@" --outfile "$W/$mc_name.key" \
	    >/dev/null 2>&1
	certtool --generate-self-signed --load-privkey "$W/$mc_name.key" \
	    --template "$W/cert.tmpl" --outfile "$W/$mc_name.crt" \
	    >/dev/null 2>&1
}

# Start hyproxd: start_hyproxd NAME [TRANSPORT_YAML_LINES...]; sets SPID
# and PORT.  Transport: no per-address limits, Retry never unless given.
start_hyproxd()
{
	sh_name=$1
	shift
	sh_dir=$W/$sh_name
	mkdir -p "$sh_dir/conf.d" "$sh_dir/plugins"
	ln -sf "$TRANSPORT_SO" "$sh_dir/plugins/transport.so"
	ln -sf "$TESTROUTE_SO" "$sh_dir/plugins/testroute.so"
	free_port
	cat >"$sh_dir/hyproxd.yaml" <<EOF
plugin_dir: $sh_dir/plugins
conf_dir: conf.d
log:
  level: notice
EOF
	{
		printf 'listeners:\n  - address: 127.0.0.1\n    port: %s\n' \
		    "$PORT"
		printf 'alpn: [hytale/2, hytale/1, h3]\n'
		printf 'idle_timeout: 60s\nconnect_timeout: 60s\n'
		printf 'admission:\n  rate: 0\n  max_per_ip: 0\n'
		printf '  max_half_open: 20000\n  max_connections: 20000\n'
		has_retry=no
		has_cert=no
		for l in "$@"; do
			printf '%s\n' "$l"
			case $l in
			retry:*) has_retry=yes ;;
			certificate:*) has_cert=yes ;;
			esac
		done
		[ "$has_retry" = yes ] || printf 'retry: never\n'
		[ "$has_cert" = yes ] || printf 'certificate: auto\n'
	} >"$sh_dir/conf.d/10-transport.yaml"
	cat >"$sh_dir/conf.d/20-testroute.yaml" <<EOF
mode: refer
backend_host: 127.0.0.1
backend_port: 5520
backend_id: bench
metrics_file: $sh_dir/metrics.txt
metrics_interval_ms: 100
EOF
	$SRV "$HYPROXD" -f -c "$sh_dir/hyproxd.yaml" >"$sh_dir/out" \
	    2>"$sh_dir/log" &
	SPID=$!
	PIDS="$PIDS $SPID"
	if ! wait_re 'started \(pid' "$sh_dir/log" 15; then
		say "run.sh: hyproxd $sh_name did not start:"
		cat "$sh_dir/log" >&2
		exit 1
	fi
}

# Start gtlsserver with KEY CERT: start_gtls NAME KEY CERT; sets SPID, PORT.
start_gtls()
{
	free_port
	mkdir -p "$W/$1"
	(cd "$W/$1" && exec $SRV "$GTLS" -q --verify-client \
	    --timeout=60s 127.0.0.1 "$PORT" "$2" "$3" >"$W/$1/log" 2>&1) &
	SPID=$!
	PIDS="$PIDS $SPID"
	gs_n=100
	while ! ss -Hlun "sport = :$PORT" | grep -q .; do
		gs_n=$((gs_n - 1))
		[ "$gs_n" -gt 0 ] || { say "run.sh: gtlsserver did not bind"; \
		    cat "$W/$1/log" >&2; exit 1; }
		kill -0 "$SPID" 2>/dev/null || { say "run.sh: gtlsserver" \
		    "exited"; cat "$W/$1/log" >&2; exit 1; }
		sleep 0.05
	done
}

# Stop a server started above: stop_server PID.
stop_server()
{
	kill "$1" 2>/dev/null || :
	ss_n=50
	while kill -0 "$1" 2>/dev/null && [ "$ss_n" -gt 0 ]; do
		sleep 0.1
		ss_n=$((ss_n - 1))
	done
	kill -9 "$1" 2>/dev/null || :
}

# Run the generator: gen OUT ARGS...; JSON in OUT, stderr in OUT.err.
gen()
{
	g_out=$1
	shift
	$GEN "$BENCH" --json "$@" >"$g_out" 2>"$g_out.err" || :
	if ! grep -q '"completed"' "$g_out"; then
		say "run.sh: hyprox-bench $* produced no result:"
		cat "$g_out.err" >&2
		exit 1
	fi
}

# Generator run with the server's CPU counted: gen_cpu PID OUT ARGS...;
# sets US_OP (server CPU microseconds per completed attempt) and RATE.
gen_cpu()
{
	gc_pid=$1
	gc_out=$2
	shift 2
	gc_t0=$(cpu_ticks "$gc_pid")
	gen "$gc_out" "$@"
	gc_t1=$(cpu_ticks "$gc_pid")
	gc_done=$(jnum "$gc_out" completed)
	RATE=$(jnum "$gc_out" completed_per_s)
	if [ "${gc_done:-0}" -gt 0 ]; then
		US_OP=$(calc "($gc_t1 - $gc_t0) * 1000000 / $TICK / $gc_done")
	else
		US_OP=nan
	fi
	printf '%s cpu_ticks=%s completed=%s us_per_op=%s rate=%s sat=%s\n' \
	    "$gc_out" "$((gc_t1 - gc_t0))" "$gc_done" "$US_OP" "$RATE" \
	    "$(jsat "$gc_out")" >>"$W/raw.txt"
}

# RSS per 1000 connections: rss_per_1000 PID KIND ALPN; sets PER1000 (KiB)
# and NEFF (connections that really held state).
rss_per_1000()
{
	rp_pid=$1
	rp_kind=$2
	rp_alpn=$3
	rp_out=$W/rss-$rp_pid-$rp_kind
	sleep 1
	rp_base=$(rss_kb "$rp_pid")
	if [ "$rp_kind" = halfopen ]; then
		$GEN "$QUIC_JUNK" --hold 6 --alpn "$rp_alpn" "127.0.0.1:$PORT" \
		    --half-open "$N" >"$rp_out" 2>&1 &
		rp_gpid=$!
		PIDS="$PIDS $rp_gpid"
		wait_re '^half-open started=' "$rp_out" 60 ||
		    { say "run.sh: quic-junk did not start"; exit 1; }
		sleep 2
		rp_rss=$(rss_kb "$rp_pid")
		wait "$rp_gpid" || :
		NEFF=$(sed -n 's/.*half-open sent=[0-9]* handshake=\([0-9]*\).*/\1/p' \
		    "$rp_out")
		# With Retry nothing gets a handshake: per Initial sent.
		[ "${NEFF:-0}" -gt 0 ] || NEFF=$(sed -n \
		    's/.*half-open sent=\([0-9]*\) .*/\1/p' "$rp_out")
	else
		$GEN "$BENCH" --json -p -m handshake --alpn "$rp_alpn" \
		    -c "$N" --hold 40s -d 30s -w 0 --timeout 10s \
		    "127.0.0.1:$PORT" >"$rp_out" 2>"$rp_out.err" &
		rp_gpid=$!
		PIDS="$PIDS $rp_gpid"
		wait_re " held=$N " "$rp_out.err" 40 ||
		    { say "run.sh: $N idle connections not established:"; \
		    tail -n 3 "$rp_out.err" >&2; }
		sleep 1
		rp_rss=$(rss_kb "$rp_pid")
		NEFF=$(sed -n 's/.* held=\([0-9]*\) .*/\1/p' "$rp_out.err" |
		    tail -n 1)
		kill -INT "$rp_gpid" 2>/dev/null || :
		wait "$rp_gpid" || :
	fi
	if [ "${NEFF:-0}" -gt 0 ]; then
		PER1000=$(calc "($rp_rss - $rp_base) * 1000 / $NEFF")
	else
		PER1000=nan
	fi
	printf 'rss %s %s pid=%s base_kb=%s loaded_kb=%s n=%s per1000_kib=%s\n' \
	    "$rp_kind" "$rp_alpn" "$rp_pid" "$rp_base" "$rp_rss" "$NEFF" \
	    "$PER1000" >>"$W/raw.txt"
}

# met? GOAL_OP VALUE LIMIT -> yes/no ("ge" or "le").
met()
{
	awk -v v="$2" -v l="$3" -v op="$1" 'BEGIN {
	    if (v == "nan" || v == "") { print "n/a"; exit }
	    if (op == "ge") print (v + 0 >= l + 0) ? "yes" : "NO";
	    else print (v + 0 <= l + 0) ? "yes" : "NO" }'
}

# met? for a histogram bucket bound B (ms) against LIMIT: the bucket below
# B is (previous bound, B], so only B <= LIMIT or previous >= LIMIT decide.
met_bucket()
{
	awk -v b="$1" -v l="$2" 'BEGIN {
	    split("0.5 1 2.5 5 10 25 50 100 250 500 1000 2500 5000 10000", e, " ");
	    if (b == "nan" || b == "") { print "n/a"; exit }
	    if (b == "inf") { print "NO"; exit }
	    if (b + 0 <= l + 0) { print "yes"; exit }
	    lo = 0; for (i = 1; i <= 14; i++) if (e[i] + 0 < b + 0) lo = e[i];
	    print (lo + 0 >= l + 0) ? "NO" : "undecided (bucket " lo "-" b " ms)" }'
}

# ---- the run ----

LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
say "run.sh: build $B; $PIN; load $LOAD0"
say "run.sh: $DUR s windows, $REPEAT interleaved repeats, about" \
    "$((REPEAT * DUR * 6 + DUR * 9 + 90)) s in all"
: >"$W/raw.txt"
printf 'cn = "localhost"\ndns_name = "localhost"\nip_address = "127.0.0.1"\nexpiration_days = 30\nsigning_key\ntls_www_server\n' \
    >"$W/cert.tmpl"
mkcert ecdsa ecdsa
mkcert ed25519 ed25519
mkcert rsa rsa

# Servers: gtlsserver, hyproxd (Retry never), hyproxd (Retry always).
start_gtls gtls "$W/ecdsa.key" "$W/ecdsa.crt"
G_PID=$SPID G_PORT=$PORT
start_hyproxd main "certificate: $W/ecdsa.crt" "key: $W/ecdsa.key"
H_PID=$SPID H_PORT=$PORT
start_hyproxd retry "certificate: $W/ecdsa.crt" "key: $W/ecdsa.key" \
    "retry: always"
R_PID=$SPID R_PORT=$PORT

# A short warm-up of each (page cache, allocator, CPU frequency).
gen "$W/warm1" -m handshake --alpn h3 -c 8 -d 1s -w 0 "127.0.0.1:$G_PORT"
gen "$W/warm2" -m referral -c 8 -d 1s -w 0 "127.0.0.1:$H_PORT"
gen "$W/warm3" -m referral -c 8 -d 1s -w 0 "127.0.0.1:$R_PORT"

# 1 and 2: interleaved A/B/C repeats, closed loop (max) and fixed rate (CPU).
G_RATE="" G_US="" HH_RATE="" HH_US="" HR_RATE="" HR_US="" G_SAT="" H_SAT=""
G_FIX="" HR_FIX="" RT_FIX=""
i=1
while [ "$i" -le "$REPEAT" ]; do
	say "run.sh: ratio runs, repeat $i/$REPEAT"
	gen_cpu "$G_PID" "$W/g-max-$i" -m handshake --alpn h3 -c "$CONC" \
	    -d "${DUR}s" -w 0 "127.0.0.1:$G_PORT"
	G_RATE="$G_RATE $RATE" G_US="$G_US $US_OP"
	G_SAT="$G_SAT $(jsat "$W/g-max-$i")"
	gen_cpu "$H_PID" "$W/hh-max-$i" -m handshake --alpn h3 -c "$CONC" \
	    -d "${DUR}s" -w 0 "127.0.0.1:$H_PORT"
	HH_RATE="$HH_RATE $RATE" HH_US="$HH_US $US_OP"
	gen_cpu "$H_PID" "$W/hr-max-$i" -m referral -c "$CONC" \
	    -d "${DUR}s" -w 0 "127.0.0.1:$H_PORT"
	HR_RATE="$HR_RATE $RATE" HR_US="$HR_US $US_OP"
	H_SAT="$H_SAT $(jsat "$W/hr-max-$i")"
	gen_cpu "$G_PID" "$W/g-fix-$i" -m handshake --alpn h3 \
	    -r "$RATE_CPU" -d "${DUR}s" -w 0 "127.0.0.1:$G_PORT"
	G_FIX="$G_FIX $US_OP"
	gen_cpu "$H_PID" "$W/hr-fix-$i" -m referral -r "$RATE_CPU" \
	    -d "${DUR}s" -w 0 "127.0.0.1:$H_PORT"
	HR_FIX="$HR_FIX $US_OP"
	gen_cpu "$R_PID" "$W/rt-fix-$i" -m referral -r "$RATE_CPU" \
	    -d "${DUR}s" -w 0 "127.0.0.1:$R_PORT"
	RT_FIX="$RT_FIX $US_OP"
	i=$((i + 1))
done
# shellcheck disable=SC2086
{
	g_rate=$(median $G_RATE) g_us=$(median $G_US)
	hh_rate=$(median $HH_RATE) hh_us=$(median $HH_US)
	hr_rate=$(median $HR_RATE) hr_us=$(median $HR_US)
	g_fix=$(median $G_FIX) hr_fix=$(median $HR_FIX) rt_fix=$(median $RT_FIX)
	g_rate_sp=$(spread $G_RATE) hr_rate_sp=$(spread $HR_RATE)
	hh_rate_sp=$(spread $HH_RATE)
	g_fix_sp=$(spread $G_FIX) hr_fix_sp=$(spread $HR_FIX)
	rt_fix_sp=$(spread $RT_FIX)
	g_us_sp=$(spread $G_US) hr_us_sp=$(spread $HR_US)
}
stop_server "$R_PID"

# 5: p99 decision latency at 10/50/80 % of the measured maximum.
P99=""
P50=""
for pct in 10 50 80; do
	r=$(awk -v m="$hr_rate" -v p="$pct" 'BEGIN { r = int(m * p / 100);
	    if (r < 1) r = 1; print r }')
	say "run.sh: p99 at $pct % of $hr_rate/s = $r/s"
	dec_snap "$W/main/metrics.txt" "$W/dec0"
	gen "$W/lat-$pct" -m referral -r "$r" -d "${DUR}s" -w 0 \
	    "127.0.0.1:$H_PORT"
	dec_snap "$W/main/metrics.txt" "$W/dec1"
	SP99="${SP99:-} $(dec_p99 "$W/dec0" "$W/dec1")"
	P99="$P99 $(jlat "$W/lat-$pct" p99)"
	P50="$P50 $(jlat "$W/lat-$pct" p50)"
	grep -q '"generator_behind":true' "$W/lat-$pct" &&
	    BEHIND="${BEHIND:-} $pct%" || :
	printf 'lat %s%% server_p99_le_ms=%s rate=%s p50=%s p90=%s p99=%s max=%s sat=%s behind=%s lag_max=%s\n' \
	    "$pct" "$(dec_p99 "$W/dec0" "$W/dec1")" "$r" \
	    "$(jlat "$W/lat-$pct" p50)" "$(jlat "$W/lat-$pct" p90)" \
	    "$(jlat "$W/lat-$pct" p99)" "$(jlat "$W/lat-$pct" max)" \
	    "$(jsat "$W/lat-$pct")" \
	    "$(grep -q '"generator_behind":true' "$W/lat-$pct" && echo yes ||
	    echo no)" \
	    "$(sed -n 's/.*"start_lag_us":{[^}]*"max":\([0-9]*\).*/\1/p' \
	    "$W/lat-$pct")" >>"$W/raw.txt"
done
stop_server "$H_PID"
stop_server "$G_PID"
set -- $P99
p99_10=$1 p99_50=$2 p99_80=$3
set -- $P50
p50_10=$1 p50_50=$2 p50_80=$3
set -- $SP99
sp99_10=$1 sp99_50=$2 sp99_80=$3

# 3: RSS per 1000 half-open and established-idle, fresh servers each time.
say "run.sh: memory, $N half-open and $N established-idle connections"
start_hyproxd rss1 "handshake_timeout: 20s"
rss_per_1000 "$SPID" halfopen hytale/2
h_half=$PER1000 h_half_n=$NEFF
stop_server "$SPID"
start_hyproxd rss1r "handshake_timeout: 20s" "retry: always"
rss_per_1000 "$SPID" halfopen hytale/2
h_halfr=$PER1000
stop_server "$SPID"
start_hyproxd rss2
rss_per_1000 "$SPID" idle hytale/2
h_idle=$PER1000 h_idle_n=$NEFF
stop_server "$SPID"
start_gtls rss3 "$W/ecdsa.key" "$W/ecdsa.crt"
rss_per_1000 "$SPID" halfopen h3
g_half=$PER1000 g_half_n=$NEFF
stop_server "$SPID"
start_gtls rss4 "$W/ecdsa.key" "$W/ecdsa.crt"
rss_per_1000 "$SPID" idle h3
g_idle=$PER1000 g_idle_n=$NEFF
stop_server "$SPID"

# 4: certificate types, handshakes on hyproxd (closed loop, CPU counted).
for kt in ecdsa ed25519 rsa; do
	say "run.sh: certificate $kt"
	start_hyproxd "cert-$kt" "certificate: $W/$kt.crt" "key: $W/$kt.key"
	gen "$W/warm-$kt" -m handshake -c 8 -d 1s -w 0 "127.0.0.1:$PORT"
	gen_cpu "$SPID" "$W/hs-$kt" -m handshake -c "$CONC" -d "${DUR}s" \
	    -w 0 "127.0.0.1:$PORT"
	eval "c_${kt}_rate=\$RATE c_${kt}_us=\$US_OP"
	eval "c_${kt}_sat=\$(jsat \"\$W/hs-\$kt\")"
	stop_server "$SPID"
done

LOAD1=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- the table ----
cap() { calc "1000000 / $1"; }
g_cap=$(cap "$g_us")
hr_cap=$(cap "$hr_us")
hh_cap=$(cap "$hh_us")
row()
{
	printf '| %s | %s | %s | %s | %s | %s |\n' "$1" "$2" "$3" "$4" "$5" "$6"
}
{
	echo "| figure | measured | baseline | ratio | goal | met? |"
	echo "|---|---|---|---|---|---|"
	r1=$(calc "$hr_cap / $g_cap")
	row "1. referral decisions/s ÷ gtlsserver handshakes/s, server CPU capacity (1e6 ÷ server µs per op, one core)" \
	    "$hr_cap/s" "$g_cap/s" "$r1" "≥ 0.9" "$(met ge "$r1" 0.9)"
	r1m=$(calc "$hr_rate / $g_rate")
	row "1m. same, measured closed-loop rate (c=$CONC; generator saturated: hyproxd$H_SAT, gtls$G_SAT)" \
	    "$hr_rate/s ($hr_rate_sp)" "$g_rate/s ($g_rate_sp)" "$r1m" \
	    "(lower bound when saturated)" "-"
	r1h=$(calc "$hh_cap / $g_cap")
	row "1h. hyproxd h3 handshakes/s ÷ gtlsserver, CPU capacity (transport alone)" \
	    "$hh_cap/s (measured $hh_rate/s, $hh_rate_sp)" "$g_cap/s" "$r1h" "-" "-"
	row "2. server CPU µs per referral at $RATE_CPU/s (baseline: per gtlsserver handshake)" \
	    "$hr_fix ($hr_fix_sp)" "$g_fix ($g_fix_sp)" \
	    "$(calc "$hr_fix / $g_fix")" "-" "-"
	row "2r. server CPU µs per referral with Retry always" \
	    "$rt_fix ($rt_fix_sp)" "$hr_fix (no Retry)" \
	    "$(calc "$rt_fix / $hr_fix")" "-" "-"
	row "2m. server CPU µs per op at max load (referral; baseline gtlsserver)" \
	    "$hr_us ($hr_us_sp)" "$g_us ($g_us_sp)" "$(calc "$hr_us / $g_us")" \
	    "-" "-"
	row "3h. RSS KiB per 1000 half-open (n=$h_half_n; gtls n=$g_half_n)" \
	    "$h_half" "$g_half" "$(calc "$h_half / $g_half")" "≤ 4000 (4 KiB each)" \
	    "$(met le "$h_half" 4000)"
	row "3r. RSS KiB per 1000 half-open, Retry always (token-less Initials get a stateless Retry)" \
	    "$h_halfr" "$h_half (no Retry)" "-" "≤ 4000" "$(met le "$h_halfr" 4000)"
	row "3e. RSS KiB per 1000 established-idle (n=$h_idle_n; gtls n=$g_idle_n)" \
	    "$h_idle" "$g_idle" "$(calc "$h_idle / $g_idle")" "-" "-"
	for kt in ecdsa ed25519 rsa; do
		eval "kr=\$c_${kt}_rate ku=\$c_${kt}_us ks=\$c_${kt}_sat"
		case $kt in
		ecdsa) kn="ECDSA P-256" ;;
		ed25519) kn="Ed25519" ;;
		rsa) kn="RSA-2048" ;;
		esac
		row "4. $kn handshakes/s on hyproxd: CPU capacity (measured, gen. saturated?)" \
		    "$(cap "$ku")/s ($kr/s, $ks)" "$(cap "$c_ecdsa_us")/s (ECDSA)" \
		    "$(calc "$c_ecdsa_us / $ku")" "-" "-"
	done
	row "5. p99 decision latency at 10 % of $hr_rate/s, client-side (p50); server-side p99 bucket; generator behind schedule at:${BEHIND:- none}" \
	    "$(calc "$p99_10 / 1000") ms ($(calc "$p50_10 / 1000") ms); server ≤ $sp99_10 ms" \
	    "-" "-" "-" "-"
	row "5. p99 decision latency at 50 %, client-side (p50); server-side p99 bucket" \
	    "$(calc "$p99_50 / 1000") ms ($(calc "$p50_50 / 1000") ms); server ≤ $sp99_50 ms" \
	    "-" "-" "≤ 2 ms" "client $(met le "$p99_50" 2000), server $(met_bucket "$sp99_50" 2)"
	row "5. p99 decision latency at 80 %, client-side (p50); server-side p99 bucket" \
	    "$(calc "$p99_80 / 1000") ms ($(calc "$p50_80 / 1000") ms); server ≤ $sp99_80 ms" \
	    "-" "-" "-" "-"
} >"$W/table.md"

cpu=$(sed -n 's/^model name[ 	]*: //p' /proc/cpuinfo | head -n 1)
vers=$(dpkg-query -W -f='${Package} ${Version}\n' libngtcp2-9 \
    libngtcp2-crypto-gnutls2 libgnutls30 libnettle8 libevent-2.1-7 \
    ngtcp2-server 2>/dev/null | tr '\n' ';' | sed 's/;$//; s/;/; /g')
rev=$(git -C "$top" rev-parse --short HEAD 2>/dev/null || echo unknown)
{
	echo
	echo "## Run $(date -u '+%Y-%m-%dT%H:%M:%SZ')"
	echo
	echo "- machine: $(uname -r), $cpu, $NCPU cores ($PIN)"
	echo "- load average before/after: $LOAD0 / $LOAD1"
	echo "- packages: $vers"
	echo "- hyprox: $("$HYPROXD" -V 2>/dev/null | head -n 1) (tree $rev)"
	echo "- windows: $DUR s, $REPEAT interleaved repeats (medians, min-max" \
	    "in parentheses), closed loop c=$CONC, memory n=$N"
	[ -z "$NOTE" ] || echo "- note: $NOTE"
	echo
	cat "$W/table.md"
	echo
	echo "<details><summary>raw</summary>"
	echo
	echo '```'
	cat "$W/raw.txt"
	echo '```'
	echo
	echo "</details>"
} >"$W/record.md"

cat "$W/table.md"
say "run.sh: load average before/after: $LOAD0 / $LOAD1"
if [ "$RESULTS" != "-" ]; then
	cat "$W/record.md" >>"$RESULTS"
	say "run.sh: appended to $RESULTS"
fi

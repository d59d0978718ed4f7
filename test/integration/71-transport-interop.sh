#!/bin/sh
# 71-transport-interop: QUIC peers nobody here wrote (Debian's ngtcp2
# examples, HTTP/3 only) against our listener and our client.
#
# Covers:
#  - gtlsclient (ngtcp2-client) against hyproxd's listener configured with
#    ALPN h3 completes the handshake, with "retry: never" and with
#    "retry: always" (gtlsclient logs the handshake and, with always, the
#    Retry it received; the transport's metrics count the handshake as ok
#    and, with always, the Retry it sent); the daemon keeps running
#  - hyproxctl probe --alpn h3 against gtlsserver (ngtcp2-server) completes
#    the handshake (ALPN h3, a handshake time), then ends without a Hytale
#    answer (exit 12 or 13, never 20/21)
# Skips (77) only when the binaries are missing and apt cannot install them.
set -eu
. "$top_srcdir/test/integration/lib.sh"
it_setup
. "$top_srcdir/test/peers/transport-lib.sh"
need_transport

GTLSCLIENT=$(command -v gtlsclient || echo /usr/bin/gtlsclient)
GTLSSERVER=$(command -v gtlsserver || echo /usr/sbin/gtlsserver)
if [ ! -x "$GTLSCLIENT" ] || [ ! -x "$GTLSSERVER" ]; then
	if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
		DEBIAN_FRONTEND=noninteractive timeout 300 apt-get install -y \
		    -qq --no-install-recommends ngtcp2-client ngtcp2-server \
		    >"$T/apt.txt" 2>&1 || :
	fi
	[ -x "$GTLSCLIENT" ] && [ -x "$GTLSSERVER" ] ||
	    skip "gtlsclient/gtlsserver missing (apt-get install ngtcp2-client ngtcp2-server)"
fi

# ---- gtlsclient → hyproxd (ALPN h3), retry never and always ----
for retry in never always; do
	C="$T/h3-$retry"
	tp_conf "$C" deny
	cat >>"$C/transport.in" <<EOF
alpn:
  - h3
retry: $retry
EOF
	cat >>"$C/conf.d/20-testroute.yaml" <<EOF
metrics_file: $C/metrics.txt
metrics_interval_ms: 50
EOF
	start_proxy "h3-$retry" "$C"
	RC=0
	timeout 10 "$GTLSCLIENT" --exit-on-all-streams-close \
	    --timeout=5s 127.0.0.1 "$PORT" "https://localhost:$PORT/" \
	    >"$T/gtlsclient-$retry.txt" 2>&1 || RC=$?
	grep -q 'QUIC handshake has completed' "$T/gtlsclient-$retry.txt" ||
	    fail "gtlsclient ($retry): no completed handshake (exit $RC)"
	if [ "$retry" = always ]; then
		grep -Eq 'type=Retry' "$T/gtlsclient-$retry.txt" ||
		    fail "gtlsclient (always): no Retry received"
	else
		if grep -Eq 'pkt rx .*type=Retry' "$T/gtlsclient-$retry.txt"; then
			fail "gtlsclient (never): received a Retry"
		fi
	fi
	# The transport's own view, from the metrics testroute dumps.
	M="$C/metrics.txt"
	wait_metric "$M" 'hyprox_transport_handshakes_total{outcome="ok"}' 3 ||
	    fail "h3 ($retry): no handshake counted as ok"
	[ "$retry" = never ] ||
	    wait_metric "$M" hyprox_transport_retry_sent_total 3 ||
	    fail "h3 (always): no Retry counted as sent"
	sleep 1.1	# one more tick: a Retry sent under "never" would show
	hs=$(metric "$M" 'hyprox_transport_handshakes_total{outcome="ok"}')
	[ "$hs" = 1 ] || fail "h3 ($retry): handshakes ok = '$hs', expected 1"
	rs=$(metric "$M" hyprox_transport_retry_sent_total)
	if [ "$retry" = always ]; then
		[ "$rs" != 0 ] || fail "h3 (always): no Retry counted as sent"
	else
		[ "$rs" = 0 ] || fail "h3 (never): $rs Retry sent"
	fi
	is_running "$DPID" || fail "h3 ($retry): hyproxd died"
	stop_daemon "$DPID" 10
	ok "gtlsclient → hyproxd (ALPN h3, retry $retry): handshake completed (exit $RC)"
done

# ---- hyproxctl probe --alpn h3 → gtlsserver ----
K="$T/gtls-key.pem"
X="$T/gtls-cert.pem"
if command -v certtool >/dev/null 2>&1; then
	certtool --generate-privkey --key-type ecdsa --outfile "$K" \
	    >"$T/certtool.txt" 2>&1 || fail "certtool: key"
	printf 'cn = localhost\ndns_name = localhost\nexpiration_days = 2\nsigning_key\nencryption_key\n' \
	    >"$T/cert.tmpl"
	certtool --generate-self-signed --load-privkey "$K" \
	    --template "$T/cert.tmpl" --outfile "$X" >>"$T/certtool.txt" 2>&1 ||
	    fail "certtool: certificate"
else
	"$MOCK_BACKEND" --gen-cert "$X" "$K" --cn localhost ||
	    fail "cannot generate a certificate for gtlsserver"
fi
mkdir -p "$T/htdocs"
try=0
while :; do
	next_port
	"$GTLSSERVER" --quiet -d "$T/htdocs" 127.0.0.1 "$PORT" "$K" "$X" \
	    >"$T/gtlsserver.out" 2>&1 &
	GPID=$!
	IT_PIDS="$IT_PIDS $GPID"
	sleep 0.3
	is_running "$GPID" && break
	wait_exit "$GPID" 2 || :
	try=$((try + 1))
	[ "$try" -lt 5 ] || fail "gtlsserver does not start: $(cat "$T/gtlsserver.out")"
done
run_probe h3-probe --json -t 5s --alpn h3 --sni localhost "127.0.0.1:$PORT"
PRC=$RC
case $PRC in
12 | 13) ;;
*) fail "probe → gtlsserver: exit $RC, expected 12 or 13 (handshake done, no Hytale answer)" ;;
esac
expect_fgrep '"alpn":"h3"' "$T/h3-probe.out" "probe → gtlsserver: ALPN"
expect_grep '"handshake_ms":[0-9]' "$T/h3-probe.out" \
    "probe → gtlsserver: handshake completed"
is_running "$GPID" || fail "gtlsserver died"
kill -TERM "$GPID"
wait_exit "$GPID" 5 || fail "gtlsserver did not exit"
ok "probe --alpn h3 → gtlsserver: handshake completed (exit $PRC)"

it_done

# transport-lib.sh: helpers of the transport integration tests (7x-*.sh),
# sourced after test/integration/lib.sh and it_setup.
#
# A proxy under test is hyproxd with the transport plugin (and optionally
# the testroute test plugin) from a private plugin directory of symlinks,
# listening on a private UDP port: 20000 + $$ % 10000 plus an offset, moved
# up when the bind fails.  Peers (mock-backend, mock-client, quic-junk) are
# the test/peers programs; hyproxctl probe is the client under test.

TRANSPORT_SO="$top_builddir/plugins/transport/.libs/transport.so"
TESTROUTE_SO="$PLUGIN_DIR/testroute.so"
PEERS="$top_builddir/test/peers"
MOCK_BACKEND="$PEERS/mock-backend"
MOCK_CLIENT="$PEERS/mock-client"
QUIC_JUNK="$PEERS/quic-junk"
if [ -z "${HYPROXCTL:-}" ]; then
	HYPROXCTL="$top_builddir/hyproxctl"
	[ -x "$HYPROXCTL" ] || HYPROXCTL="$top_builddir/tools/hyproxctl"
fi
TP_PORT_BASE=$((20000 + $$ % 10000))
TP_PORT_NEXT=0

# Fail unless the transport plugin, hyproxctl, testroute and the peers exist.
need_transport()
{
	[ -f "$TRANSPORT_SO" ] || fail "transport plugin $TRANSPORT_SO was not built"
	[ -x "$HYPROXCTL" ] || fail "hyproxctl ($HYPROXCTL) was not built"
	[ -f "$TESTROUTE_SO" ] || fail "test plugin $TESTROUTE_SO was not built"
	for b in "$MOCK_BACKEND" "$MOCK_CLIENT" "$QUIC_JUNK"; do
		[ -x "$b" ] || fail "test peer $b was not built (make test-peers)"
	done
}

# A fresh private UDP port number (not yet bound): sets PORT.
next_port()
{
	PORT=$((TP_PORT_BASE + TP_PORT_NEXT))
	TP_PORT_NEXT=$((TP_PORT_NEXT + 1))
	[ "$PORT" -le 65000 ] || PORT=$((PORT - 40000))
}

# Write a proxy configuration in DIR: tp_conf DIR [ROUTE_MODE].  The
# transport file is a template (port @PORT@) that start_proxy fills in;
# append transport keys to DIR/transport.in, testroute keys to
# DIR/conf.d/20-testroute.yaml.
tp_conf()
{
	mkdir -p "$1/conf.d" "$1/plugins" || fail "cannot create $1"
	ln -sf "$TRANSPORT_SO" "$1/plugins/transport.so"
	ln -sf "$TESTROUTE_SO" "$1/plugins/testroute.so"
	cat >"$1/hyproxd.yaml" <<EOF
plugin_dir: $1/plugins
conf_dir: conf.d
EOF
	cat >"$1/transport.in" <<EOF
listeners:
  - address: 127.0.0.1
    port: @PORT@
certificate: auto
EOF
	if [ -n "${2:-}" ]; then
		cat >"$1/conf.d/20-testroute.yaml" <<EOF
mode: $2
EOF
	fi
}

# Start hyproxd on configuration DIR under NAME, on a private port that is
# moved up when it is taken: start_proxy NAME DIR.  Sets DPID and PORT.
start_proxy()
{
	sp_name=$1
	sp_dir=$2
	sp_try=0
	while :; do
		next_port
		sed "s/@PORT@/$PORT/" "$sp_dir/transport.in" \
		    >"$sp_dir/conf.d/10-transport.yaml" ||
		    fail "cannot write $sp_dir/conf.d/10-transport.yaml"
		spawn_daemon "$sp_name" -c "$sp_dir/hyproxd.yaml"
		if wait_for_log 'hyproxd .* started \(pid [0-9]+' \
		    "$T/$sp_name.log" 15; then
			break
		fi
		if is_running "$DPID"; then
			fail "$sp_name: hyproxd did not log 'started' within 15 s"
		fi
		wait_exit "$DPID" 2 || :
		if [ "$sp_try" -lt 5 ] &&
		    grep -Eqi 'in use|cannot start the QUIC listener' \
		    "$T/$sp_name.log"; then
			mv "$T/$sp_name.log" "$T/$sp_name.try$sp_try.txt"
			sp_try=$((sp_try + 1))
			continue
		fi
		fail "$sp_name: hyproxd exited at start-up"
	done
	expect_grep "\\[transport\\] listening on 127\\.0\\.0\\.1 port $PORT " \
	    "$T/$sp_name.log" "$sp_name: listening line"
}

# Start mock-backend on an ephemeral port: start_backend NAME ARGS...
# Sets BPID and BPORT; stdout goes to $T/NAME.out, stderr to $T/NAME.err.
start_backend()
{
	sb_name=$1
	shift
	rm -f "$T/$sb_name.port"
	"$MOCK_BACKEND" --listen 127.0.0.1:0 --port-file "$T/$sb_name.port" \
	    "$@" >"$T/$sb_name.out" 2>"$T/$sb_name.err" &
	BPID=$!
	IT_PIDS="$IT_PIDS $BPID"
	wait_for_log '^listening addr=' "$T/$sb_name.out" 10 ||
	    fail "$sb_name: mock-backend did not start"
	BPORT=$(cat "$T/$sb_name.port")
	[ -n "$BPORT" ] || fail "$sb_name: no port file"
}

# Stop a peer started in the background: stop_peer PID (SIGTERM, 5 s).
stop_peer()
{
	kill -TERM "$1" 2>/dev/null || :
	wait_exit "$1" 5 || fail "peer $1 did not exit on SIGTERM"
	san_check
	[ "$RC" -eq 0 ] || fail "peer $1 exited $RC after SIGTERM, expected 0"
}

# Run hyproxctl probe bounded: run_probe NAME ARGS...; sets RC and
# leaves stdout in $T/NAME.out, stderr in $T/NAME.err.
run_probe()
{
	rp_name=$1
	shift
	RC=0
	timeout 30 "$HYPROXCTL" probe "$@" >"$T/$rp_name.out" \
	    2>"$T/$rp_name.err" || RC=$?
	[ "$RC" -ne 124 ] || fail "$rp_name: hyproxctl probe $* hung"
	san_check
}

# Run mock-client bounded: run_client NAME ARGS...; sets RC.
run_client()
{
	rc_name=$1
	shift
	RC=0
	timeout 30 "$MOCK_CLIENT" "$@" >"$T/$rc_name.out" \
	    2>"$T/$rc_name.err" || RC=$?
	[ "$RC" -ne 124 ] || fail "$rc_name: mock-client $* hung"
	san_check
}

# Expect a fixed string in a file: expect_fgrep STRING FILE WHAT.
expect_fgrep()
{
	grep -Fq -- "$1" "$2" || fail "$3: '$1' not found in ${2#"$T"/}"
}

# Lowercase hex of a string.
hexstr()
{
	printf '%s' "$1" | od -An -tx1 -v | tr -d ' \n'
}

# u16 and u32 little-endian as hex.
le16()
{
	printf '%02x%02x' $(($1 & 255)) $(($1 >> 8 & 255))
}

le32()
{
	printf '%02x%02x%02x%02x' $(($1 & 255)) $(($1 >> 8 & 255)) \
	    $(($1 >> 16 & 255)) $(($1 >> 24 & 255))
}

# A whole frame as hex: frame_hex ID PAYLOAD_HEX.
frame_hex()
{
	printf '%s%s%s' "$(le32 $((${#2} / 2)))" "$(le32 "$1")" "$2"
}

# The Disconnect (old form, type 0) frame for a reason under 128 bytes.
disconnect_hex()
{
	frame_hex 1 "0100$(printf '%02x' "${#1}")$(hexstr "$1")"
}

# The ClientReferral frame (HYTALE-PROTOCOL.md §3.3) for HOST PORT
# [DATA_HEX]: host and data under 128 bytes; no data: the null field.
referral_hex()
{
	rh_host=$(printf '%02x' "${#1}")$(hexstr "$1")
	if [ -n "${3:-}" ]; then
		frame_hex 18 "03$(le32 0)$(le32 $((2 + ${#rh_host} / 2)))$(le16 "$2")$rh_host$(printf '%02x' $((${#3} / 2)))$3"
	else
		frame_hex 18 "01$(le32 0)ffffffff$(le16 "$2")$rh_host"
	fi
}

# Read one metric sample from a metrics file written by testroute:
# metric FILE 'NAME{LABELS}' -> value (0 when absent).
metric()
{
	v=$(grep -F -- "$2 " "$1" 2>/dev/null | tail -n 1 | awk '{print $2}')
	echo "${v:-0}"
}

# Wait until a metric is non-zero (endpoint counters are synced by the
# transport's 1 s tick): wait_metric FILE 'NAME{LABELS}' SECS.
wait_metric()
{
	wm_n=$(($3 * 20))
	while [ "$wm_n" -gt 0 ]; do
		[ "$(metric "$1" "$2")" != 0 ] && return 0
		sleep 0.05
		wm_n=$((wm_n - 1))
	done
	return 1
}

# Resident memory of a pid in kB (VmRSS).
rss_kb()
{
	sed -n 's/^VmRSS:[ 	]*\([0-9]*\) kB/\1/p' "/proc/$1/status" 2>/dev/null
}

# Whether pid runs with AddressSanitizer (its RSS is not comparable).
is_asan()
{
	grep -q 'libasan\|asan' "/proc/$1/maps" 2>/dev/null
}

# redirect-lib.sh: helpers of the redirect-mode tests (8x-*.sh), sourced
# after test/integration/lib.sh, it_setup and test/peers/transport-lib.sh.
#
# A proxy under test is hyproxd with the transport, router and
# referral-hmac plugins of the build tree (symlinked into a private plugin
# directory), listening on a private UDP port chosen by start_proxy.  Keys
# are 64 random bytes in files of mode 600.  Backends are mock-backend,
# which verifies tickets with libhyprox when given --ticket-key.

ROUTER_SO="$top_builddir/plugins/router/.libs/router.so"
REFERRAL_SO="$top_builddir/plugins/referral-hmac/.libs/referral-hmac.so"

# Fail unless the transport, router, referral-hmac, hyproxctl and peers exist.
need_redirect()
{
	need_transport
	for so in "$ROUTER_SO" "$REFERRAL_SO"; do
		[ -f "$so" ] || fail "plugin $so was not built"
	done
}

# A fresh 64-byte random key of mode 600: make_key FILE.
make_key()
{
	(umask 077 && head -c 64 /dev/urandom >"$1") ||
	    fail "cannot create the key $1"
	chmod 600 "$1"
}

# Unix seconds now.
now_s()
{
	date +%s
}

# RFC 3339 UTC of unix seconds.
rfc3339()
{
	date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ
}

# Write a redirect proxy configuration in DIR: rd_conf DIR [LOGLEVEL].
# Plugins: transport, router, referral-hmac; the transport file is the
# template DIR/transport.in (port @PORT@) that start_proxy fills in.
# Append router keys to DIR/conf.d/20-router.yaml and referral keys to
# DIR/conf.d/30-referral-hmac.yaml (neither is written here).
rd_conf()
{
	mkdir -p "$1/conf.d" "$1/plugins" || fail "cannot create $1"
	ln -sf "$TRANSPORT_SO" "$1/plugins/transport.so"
	ln -sf "$ROUTER_SO" "$1/plugins/router.so"
	ln -sf "$REFERRAL_SO" "$1/plugins/referral-hmac.so"
	cat >"$1/hyproxd.yaml" <<EOF
plugin_dir: $1/plugins
conf_dir: conf.d
log:
  level: ${2:-info}
EOF
	cat >"$1/transport.in" <<EOF
listeners:
  - address: 127.0.0.1
    port: @PORT@
certificate: auto
alpn: [hytale/2, hytale/1]
EOF
}

# Start mock-backend on ADDR (e.g. 127.0.0.1:0 or a port to reuse):
# rd_backend NAME ADDR ARGS...  Sets BPID and BPORT; output is appended to
# $T/NAME.out and $T/NAME.err so that a restarted backend keeps its log.
rd_backend()
{
	rb_name=$1
	rb_addr=$2
	shift 2
	rm -f "$T/$rb_name.port"
	rb_before=$(grep -c '^listening addr=' "$T/$rb_name.out" 2>/dev/null ||
	    :)
	"$MOCK_BACKEND" --listen "$rb_addr" --port-file "$T/$rb_name.port" \
	    "$@" >>"$T/$rb_name.out" 2>>"$T/$rb_name.err" &
	BPID=$!
	IT_PIDS="$IT_PIDS $BPID"
	wait_for_count '^listening addr=' $((${rb_before:-0} + 1)) \
	    "$T/$rb_name.out" 10 || fail "$rb_name: mock-backend did not start"
	BPORT=$(cat "$T/$rb_name.port")
	[ -n "$BPORT" ] || fail "$rb_name: no port file"
}

# The number of lines of a file (0 when it does not exist).
nlines()
{
	if [ -f "$1" ]; then
		wc -l <"$1" | tr -d ' '
	else
		echo 0
	fi
}

# Wait until the lines of FILE after line N match an extended regex:
# wait_after RE FILE N SECS.  Prints nothing; returns 1 on timeout.
wait_after()
{
	wa_n=$(($4 * 20))
	while [ "$wa_n" -gt 0 ]; do
		if tail -n +"$(($3 + 1))" "$2" 2>/dev/null |
		    grep -Eq -- "$1"; then
			return 0
		fi
		sleep 0.05
		wa_n=$((wa_n - 1))
	done
	return 1
}

# The lines of FILE after line N matching an extended regex: after_grep RE
# FILE N.
after_grep()
{
	tail -n +"$(($3 + 1))" "$2" 2>/dev/null | grep -E -- "$1" || :
}

# From a probe's JSON output: the referral port of hop 1 (empty if none).
probe_ref_port()
{
	sed -n 's/.*"referral":{"host":"[^"]*","port":\([0-9]*\),.*/\1/p' \
	    "$1" | head -n 1
}

# From a probe's JSON output: the referral data hex of hop 1 (empty if none).
probe_ref_data()
{
	sed -n 's/.*"referral":{[^}]*"data_hex":"\([0-9a-f]*\)".*/\1/p' \
	    "$1" | head -n 1
}

# From a probe's JSON output: the Disconnect reason of the last hop.
probe_reason()
{
	sed -n 's/.*"disconnect":{"type":[0-9]*,"reason":"\([^"]*\)"}.*/\1/p' \
	    "$1" | tail -n 1
}

# Flip the low bit of byte I of a hex string: flip_byte HEX I.
flip_byte()
{
	fb_b=$(printf '%s' "$1" | cut -c $(($2 * 2 + 1))-$(($2 * 2 + 2)))
	fb_pre=$(printf '%s' "$1" | cut -c 1-$(($2 * 2)))
	fb_post=$(printf '%s' "$1" | cut -c $(($2 * 2 + 3))-)
	printf '%s%02x%s\n' "$fb_pre" $((0x$fb_b ^ 1)) "$fb_post"
}

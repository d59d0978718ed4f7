#!/bin/sh
# 74-ticket-cli: hyproxctl ticket sign | verify | inspect from the shell.
#
# Covers:
#  - sign with an env: key and fixed --now/--nonce reproduces the first
#    vector of test/vectors/tickets.txt byte for byte
#  - sign → verify: "ok" and the fields, exit 0; --json "result":"ok"
#  - one tampered byte → exit 3 and HYP_ETICKET_MAC (text and --json)
#  - wrong backend (HYP_ETICKET_SCOPE), expired, unknown key id, a key
#    outside its --valid window, address binding (--addr/--peer, mapped)
#  - rotation: two --key, tickets of both verify
#  - sign --raw | verify - and sign --base64 output
#  - inspect: every field, the MAC marked unverified, --json; a truncated
#    ticket exits 3 with HYP_ETICKET_FORMAT
#  - a key shorter than 32 bytes, a missing variable, usage errors (exit 2)
set -eu
. "$top_srcdir/test/integration/lib.sh"
it_setup

CTL="$top_builddir/hyproxctl"
[ -x "$CTL" ] || fail "$CTL was not built"
VEC="$top_srcdir/test/vectors/tickets.txt"

# Run hyproxctl ticket ARGS; stdout in $T/NAME.out, status in RC.
ctl()
{
	c_name=$1
	shift
	RC=0
	timeout 20 "$CTL" ticket "$@" >"$T/$c_name.out" 2>"$T/$c_name.err" ||
	    RC=$?
	[ "$RC" -ne 124 ] || fail "$c_name: hyproxctl ticket $* timed out"
	san_check
}

# 32 bytes 0x20..0x3f: printable, so it fits in an environment variable.
TK_KEY=' !"#$%&'"'"'()*+,-./0123456789:;<=>?'
TK_KEY2='another key of more than thirty-two bytes'
TK_SHORT='only thirty-one bytes long.....'
export TK_KEY TK_KEY2 TK_SHORT
[ "${#TK_KEY}" -eq 32 ] || fail "TK_KEY is ${#TK_KEY} bytes"
[ "${#TK_SHORT}" -eq 31 ] || fail "TK_SHORT is ${#TK_SHORT} bytes"
NOW=1700000000
U=123e4567-e89b-12d3-a456-426614174000

# ---- the first vector, byte exact (key from a file: it has NUL bytes) ----
if command -v xxd >/dev/null 2>&1; then
	sed -n '/^vector backend-basic$/,/^end$/s/^key_hex=//p' "$VEC" |
	    xxd -r -p >"$T/k1.bin"
	chmod 600 "$T/k1.bin"
	want=$(sed -n '/^vector backend-basic$/,/^end$/s/^ticket_hex=//p' "$VEC")
	ctl vec sign --key-id k1 --key "file:$T/k1.bin" --target b1 --ttl 30s \
	    --now "$NOW" --nonce 000102030405060708090a0b0c0d0e0f --uuid "$U"
	[ "$RC" -eq 0 ] || fail "sign (vector): exit $RC"
	[ "$(cat "$T/vec.out")" = "$want" ] ||
	    fail "sign does not reproduce vector backend-basic"
	ok "sign reproduces vector backend-basic"
else
	echo "note: no xxd, vector reproduction not checked"
fi

# ---- sign → verify ok ----
ctl sign sign --key-id k1 --key env:TK_KEY --target b1 --uuid "$U" \
    --now "$NOW" --ttl 60 --ext 1:74726163652d31
[ "$RC" -eq 0 ] || fail "sign: exit $RC"
TK=$(cat "$T/sign.out")
expect_grep '^48595054010[0-3]026b31[0-9a-f]+$' "$T/sign.out" "sign"
ctl ok verify --key k1=env:TK_KEY --backend b1 --uuid "$U" --now 1700000010 "$TK"
[ "$RC" -eq 0 ] || fail "verify: exit $RC, expected 0"
expect_grep '^ok$' "$T/ok.out" "verify"
expect_grep '^  target +b1$' "$T/ok.out" "verify"
expect_grep '^  uuid +123e4567-e89b-12d3-a456-426614174000$' "$T/ok.out" "verify"
expect_grep '^  ext-tlv +type 1 \(trace-id\) length 7 74726163652d31$' "$T/ok.out" "verify"
ctl okj verify --json --key k1=env:TK_KEY --backend b1 --now 1700000010 "$TK"
[ "$RC" -eq 0 ] || fail "verify --json: exit $RC"
expect_grep '^\{"result":"ok",.*"key_id":"k1".*"scope":"backend".*\}$' "$T/okj.out" "verify --json"
ok "sign → verify ok"

# ---- tamper one byte (inside the uuid) → MAC, exit 3 ----
bad=$(printf '%s' "$TK" | sed 's/^\(.\{100\}\)\(.\)/\1f/')
[ "$bad" != "$TK" ] || bad=$(printf '%s' "$TK" | sed 's/^\(.\{100\}\)\(.\)/\10/')
ctl tamper verify --key k1=env:TK_KEY --backend b1 --now 1700000010 "$bad"
[ "$RC" -eq 3 ] || fail "tampered: exit $RC, expected 3"
expect_grep '^HYP_ETICKET_MAC Ticket signature mismatch' "$T/tamper.out" "tampered"
ctl tamperj verify --json --key k1=env:TK_KEY --backend b1 --now 1700000010 "$bad"
[ "$RC" -eq 3 ] || fail "tampered --json: exit $RC, expected 3"
expect_grep '"result":"rejected","code":"HYP_ETICKET_MAC","errno":-1105' "$T/tamperj.out" "tampered --json"
ok "tampered ticket rejected (exit 3, HYP_ETICKET_MAC)"

# ---- other rejections ----
check_reject()
{
	cr_code=$1
	shift
	ctl reject verify "$@"
	[ "$RC" -eq 3 ] || fail "$cr_code: exit $RC, expected 3"
	expect_grep "^$cr_code " "$T/reject.out" "$cr_code"
}
check_reject HYP_ETICKET_SCOPE --key k1=env:TK_KEY --backend b2 --now 1700000010 "$TK"
check_reject HYP_ETICKET_EXPIRED --key k1=env:TK_KEY --backend b1 --skew 5s --now 1700000066 "$TK"
check_reject HYP_ETICKET_NOT_YET --key k1=env:TK_KEY --backend b1 --skew 0 --now 1699999999 "$TK"
check_reject HYP_ETICKET_KEY_UNKNOWN --key k2=env:TK_KEY --backend b1 --now 1700000010 "$TK"
check_reject HYP_ETICKET_KEY_RETIRED --key k1=env:TK_KEY --valid k1=..1700000005 --backend b1 --now 1700000010 "$TK"
check_reject HYP_ETICKET_UUID --key k1=env:TK_KEY --backend b1 --uuid 00112233445566778899aabbccddeeff --now 1700000010 "$TK"
check_reject HYP_ETICKET_MAC --key k1=env:TK_KEY2 --backend b1 --now 1700000010 "$TK"
ctl addr sign --key-id k1 --key env:TK_KEY --scope pool --scope-id eu \
    --target b7 --addr 203.0.113.9 --now "$NOW"
[ "$RC" -eq 0 ] || fail "sign --addr: exit $RC"
TA=$(cat "$T/addr.out")
check_reject HYP_ETICKET_ADDRESS --key k1=env:TK_KEY --backend b1 --pool eu --peer 203.0.113.10 --now "$NOW" "$TA"
check_reject HYP_ETICKET_SCOPE --key k1=env:TK_KEY --backend b1 --pool us --now "$NOW" "$TA"
ctl mapped verify --key k1=env:TK_KEY --backend b1 --pool eu --peer ::ffff:203.0.113.9 --now "$NOW" "$TA"
[ "$RC" -eq 0 ] || fail "mapped peer: exit $RC, expected 0"
ok "rejections: scope, expired, not yet, unknown and retired key, uuid, wrong key, address"

# ---- rotation: two keys, both accepted ----
ctl new sign --key-id k2 --key env:TK_KEY2 --target b1 --now "$NOW"
T2=$(cat "$T/new.out")
for t in "$TK" "$T2"; do
	ctl rot verify --key k1=env:TK_KEY --key k2=env:TK_KEY2 \
	    --valid k1=1600000000..1800000000 --valid k2=1690000000.. \
	    --backend b1 --now 1700000010 "$t"
	[ "$RC" -eq 0 ] || fail "rotation: exit $RC for $(cat "$T/rot.out")"
done
ok "rotation overlap: both keys verify"

# ---- raw and base64 output, stdin ----
RC=0
"$CTL" ticket sign --key-id k1 --key env:TK_KEY --target b1 --raw >"$T/raw.bin" \
    2>"$T/raw.err" || RC=$?
[ "$RC" -eq 0 ] || fail "sign --raw: exit $RC"
[ "$(head -c 4 "$T/raw.bin")" = "HYPT" ] || fail "sign --raw: no magic"
RC=0
"$CTL" ticket verify --key k1=env:TK_KEY --backend b1 - <"$T/raw.bin" \
    >"$T/stdin.out" 2>"$T/stdin.err" || RC=$?
[ "$RC" -eq 0 ] || fail "verify - (raw): exit $RC"
RC=0
printf '%s\n' "$TK" | "$CTL" ticket verify --key k1=env:TK_KEY --backend b1 \
    --now 1700000010 - >"$T/stdin.out" 2>"$T/stdin.err" || RC=$?
[ "$RC" -eq 0 ] || fail "verify - (hex): exit $RC"
ctl b64 sign --key-id k1 --key env:TK_KEY --target b1 --base64
[ "$RC" -eq 0 ] || fail "sign --base64: exit $RC"
expect_grep '^SFlQVAEA[A-Za-z0-9+/]+=*$' "$T/b64.out" "sign --base64"
ok "--raw, --base64, stdin"

# ---- inspect ----
ctl insp inspect "$TK"
[ "$RC" -eq 0 ] || fail "inspect: exit $RC"
expect_grep '^unverified$' "$T/insp.out" "inspect"
expect_grep '^  issued-at +1700000000 \(2023-11-14T22:13:20Z\)$' "$T/insp.out" "inspect"
expect_grep '^  expires-at +1700000060 ' "$T/insp.out" "inspect"
expect_grep '^  scope +backend$' "$T/insp.out" "inspect"
expect_grep '^  mac +[0-9a-f]{64} \(unverified\)$' "$T/insp.out" "inspect"
ctl inspj inspect --json "$TA"
[ "$RC" -eq 0 ] || fail "inspect --json: exit $RC"
expect_grep '"scope":"pool","scope_id":"eu","target":"b7"' "$T/inspj.out" "inspect --json"
expect_grep '"address":"203.0.113.9"' "$T/inspj.out" "inspect --json"
expect_grep '"mac_verified":false' "$T/inspj.out" "inspect --json"
ctl trunc inspect "$(printf '%s' "$TK" | cut -c1-60)"
[ "$RC" -eq 3 ] || fail "inspect truncated: exit $RC, expected 3"
expect_grep '^HYP_ETICKET_FORMAT ' "$T/trunc.out" "inspect truncated"
ok "inspect"

# ---- errors: short key, missing variable, usage ----
ctl short sign --key-id k1 --key env:TK_SHORT --target b1
[ "$RC" -eq 1 ] || fail "short key: exit $RC, expected 1"
expect_grep 'HYP_ETICKET_KEY_SHORT' "$T/short.err" "short key"
ctl short2 verify --key k1=env:TK_SHORT --backend b1 "$TK"
[ "$RC" -eq 1 ] || fail "short key (verify): exit $RC, expected 1"
unset TK_UNSET_VARIABLE || :
ctl unset sign --key-id k1 --key env:TK_UNSET_VARIABLE --target b1
[ "$RC" -eq 1 ] || fail "unset variable: exit $RC, expected 1"
expect_grep 'TK_UNSET_VARIABLE' "$T/unset.err" "unset variable"
ctl inline sign --key-id k1 --key "$TK_KEY" --target b1
[ "$RC" -eq 1 ] || fail "inline key: exit $RC, expected 1"
for args in "sign --key env:TK_KEY --target b1" \
    "sign --key-id k1 --key env:TK_KEY --target b1 --scope pool" \
    "sign --key-id k1 --key env:TK_KEY --target b1 --ttl 0" \
    "sign --key-id k1 --key env:TK_KEY --target b1 --ttl 2d" \
    "sign --key-id k1 --key env:TK_KEY --target b1 --nonce 00" \
    "sign --key-id k1 --key env:TK_KEY --target b1 --ext 300:00" \
    "sign --key-id bad/id --key env:TK_KEY --target b1" \
    "verify --backend b1 $TK" \
    "verify --key k1=env:TK_KEY $TK" \
    "verify --key k1=env:TK_KEY --backend b1 nothex" \
    "verify --key k1=env:TK_KEY --valid k9=1..2 --backend b1 $TK" \
    "inspect" "frobnicate" ""; do
	# shellcheck disable=SC2086
	ctl usage $args
	[ "$RC" -eq 2 ] || fail "usage error '$args': exit $RC, expected 2"
done
ok "errors: short key and missing variable exit 1, usage errors exit 2"

it_done

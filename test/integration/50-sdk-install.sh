#!/bin/sh
# 50-sdk-install: the installed SDK builds a plugin out of tree, and the
# installed daemon runs it.
#
# Covers:
#  - make install DESTDIR=$T/dest: every public header under
#    $includedir/hyprox, libhyprox.so.0 (symlink, SONAME libhyprox.so.0,
#    only hyp_* symbols exported), hyprox-sdk.pc with its plugindir
#    variable, the man pages, hyproxd and hyproxd.yaml
#  - the installed hyproxd runs (-V) against the installed libhyprox
#  - sdk/examples/hello copied out of the tree and built with its own
#    Makefile through pkg-config (PKG_CONFIG_PATH into DESTDIR and
#    PKG_CONFIG_SYSROOT_DIR=$T/dest so -I points into DESTDIR), -Werror
#  - the installed hyproxd with plugin_dir = the hello build directory and
#    conf.d/50-hello.yaml from the example: --check, --dry-run, a real run
#    that logs hello's greeting, SIGTERM exit 0
set -eu
. "$top_srcdir/test/integration/lib.sh"
it_setup

EX="$top_srcdir/sdk/examples/hello"
[ -f "$EX/Makefile" ] && [ -f "$EX/hello.c" ] && [ -f "$EX/hello.yaml" ] ||
    fail "sdk/examples/hello (Makefile, hello.c, hello.yaml) is missing"
command -v pkg-config >/dev/null 2>&1 || skip "pkg-config is not installed"
MAKE=${MAKE:-make}

# The value of an installation directory variable of the build's Makefile,
# with ${prefix} and the like expanded.
mkvar()
{
	v=$(sed -n "s/^$1 = //p" "$top_builddir/Makefile" | head -n 1)
	eval "echo \"$v\""
}
prefix=$(mkvar prefix)
exec_prefix=$(mkvar exec_prefix)
libdir=$(mkvar libdir)
includedir=$(mkvar includedir)
datarootdir=$(mkvar datarootdir)
mandir=$(mkvar mandir)
sbindir=$(mkvar sbindir)
sysconfdir=$(mkvar sysconfdir)
plugindir=$(mkvar plugindir)
for v in prefix libdir includedir mandir sbindir sysconfdir plugindir; do
	eval "val=\$$v"
	case $val in
	/*) ;;
	*) fail "cannot read $v from $top_builddir/Makefile ('$val')" ;;
	esac
done

# ---- make install ----
D="$T/dest"
# Run make afresh: not as a part of the make running this test.
if ! env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u MAKEOVERRIDES \
    $MAKE -C "$top_builddir" install DESTDIR="$D" >"$T/install.out" 2>&1; then
	tail -n 30 "$T/install.out" >&2
	fail "make install DESTDIR=$D failed"
fi
ok "make install DESTDIR"

# Every public header in the source tree must be installed.
for h in $(cd "$top_srcdir/sdk/hyprox" && ls *.h); do
	[ -f "$D$includedir/hyprox/$h" ] || fail "not installed: $includedir/hyprox/$h"
done
ok "headers in $includedir/hyprox"

so0="$D$libdir/libhyprox.so.0"
[ -L "$so0" ] || fail "$libdir/libhyprox.so.0 is not a symlink"
[ -f "$so0" ] || fail "$libdir/libhyprox.so.0 is a dangling symlink"
[ -L "$D$libdir/libhyprox.so" ] || fail "$libdir/libhyprox.so (dev symlink) missing"
if command -v objdump >/dev/null 2>&1; then
	soname=$(objdump -p "$so0" | sed -n 's/^ *SONAME *//p')
elif command -v readelf >/dev/null 2>&1; then
	soname=$(readelf -d "$so0" | sed -n 's/.*(SONAME).*\[\(.*\)\].*/\1/p')
else
	skip "neither objdump nor readelf is installed"
fi
[ "$soname" = libhyprox.so.0 ] || fail "SONAME is '$soname', expected libhyprox.so.0"
if command -v nm >/dev/null 2>&1; then
	nm -D --defined-only "$so0" | awk '$2 ~ /^[TDBRVW]$/ { print $3 }' \
	    >"$T/exports"
	[ -s "$T/exports" ] || fail "libhyprox exports nothing"
	if grep -v '^hyp_' "$T/exports" >"$T/exports.bad"; then
		fail "libhyprox exports symbols without hyp_: $(tr '\n' ' ' <"$T/exports.bad")"
	fi
	for s in hyp_strerror hyp_secret_read; do
		grep -qx "$s" "$T/exports" || fail "libhyprox does not export $s"
	done
fi
ok "libhyprox.so.0 (SONAME $soname, hyp_* exports only)"

pc="$D$libdir/pkgconfig/hyprox-sdk.pc"
[ -f "$pc" ] || fail "not installed: $libdir/pkgconfig/hyprox-sdk.pc"
expect_grep "^plugindir=" "$pc" "hyprox-sdk.pc: plugindir variable"
PKG_CONFIG_PATH="$D$libdir/pkgconfig"
PKG_CONFIG_SYSROOT_DIR="$D"
export PKG_CONFIG_PATH PKG_CONFIG_SYSROOT_DIR
pkg-config --exists hyprox-sdk || fail "pkg-config does not find hyprox-sdk"
pd=$(pkg-config --variable=plugindir hyprox-sdk)
case $pd in
"$plugindir"|"$D$plugindir") ;;
*) fail "pkg-config --variable=plugindir gives '$pd', expected $plugindir" ;;
esac
cflags=$(pkg-config --cflags hyprox-sdk)
case " $cflags " in
*" -I$D$includedir "*) ;;
*) fail "pkg-config --cflags hyprox-sdk gives '$cflags', no -I$D$includedir" ;;
esac
ok "hyprox-sdk.pc (plugindir=$pd, cflags $cflags)"

for m in man8/hyproxd.8 man5/hyprox.conf.5 man3/hyprox-plugin.3; do
	[ -f "$D$mandir/$m" ] || fail "man page not installed: $mandir/$m"
done
ok "man pages"

[ -x "$D$sbindir/hyproxd" ] || fail "not installed: $sbindir/hyproxd"
[ -f "$D$sysconfdir/hyprox/hyproxd.yaml" ] ||
    fail "not installed: $sysconfdir/hyprox/hyproxd.yaml"
LD_LIBRARY_PATH="$D$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export LD_LIBRARY_PATH
HYPROXD="$D$sbindir/hyproxd"
run_hyproxd ver -V
expect_rc 0 "installed hyproxd -V"
expect_grep '^hyproxd .*\(plugin ABI [0-9]+\.[0-9]+\)$' "$T/ver.out" "installed hyproxd -V"
ok "the installed hyproxd runs"

# ---- hello, out of the tree ----
H="$T/hello"
mkdir -p "$H"
cp "$EX/Makefile" "$EX/hello.c" "$EX/hello.yaml" "$H/"
if ! env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u MAKEOVERRIDES \
    $MAKE -C "$H" CFLAGS="-O2 -g -Wall -Wextra -Werror" >"$T/hello-build.out" 2>&1; then
	cat "$T/hello-build.out" >&2
	fail "building sdk/examples/hello against the installed SDK failed"
fi
[ -f "$H/hello.so" ] || fail "hello: no hello.so"
expect_grep "$(re_quote "-I$D$includedir")" "$T/hello-build.out" \
    "hello: compiled with the installed headers"
if command -v nm >/dev/null 2>&1; then
	nm -D --defined-only "$H/hello.so" | grep -q ' hyp_plugin$' ||
	    fail "hello.so does not export hyp_plugin"
fi
ok "sdk/examples/hello builds out of tree"

C="$T/etc"
mkdir -p "$C/conf.d"
cat >"$C/hyproxd.yaml" <<EOF
plugin_dir: $H
conf_dir: conf.d
drain_timeout: 2s
EOF
cp "$EX/hello.yaml" "$C/conf.d/50-hello.yaml"
greeting=$(sed -n 's/^greeting: *"\(.*\)" *$/\1/p' "$EX/hello.yaml")
[ -n "$greeting" ] || greeting=hello

run_hyproxd hcheck -c "$C/hyproxd.yaml" --check
expect_rc 0 "hello: --check"
expect_grep '^configuration ok$' "$T/hcheck.out" "hello: --check"
run_hyproxd hdry -c "$C/hyproxd.yaml" --dry-run
expect_rc 0 "hello: --dry-run"
start_daemon hello "" -c "$C/hyproxd.yaml"
wait_for_log "\\[hello\\] $(re_quote "$greeting")\$" "$T/hello.log" 5 ||
    fail "hello: no greeting '$greeting' in the log"
expect_grep "plugin 'hello' 1\\.0 started" "$T/hello.log" "hello: started"
stop_daemon "$DPID" 5
expect_no_grep ' (err|warning) ' "$T/hello.log" "hello: warnings or errors"
ok "the installed hyproxd runs hello ('$greeting'), SIGTERM exits 0"

it_done

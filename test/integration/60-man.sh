#!/bin/sh
# 60-man: the manual pages are clean for mandoc's linter.
#
# Covers:
#  - mandoc -T lint -W warning on man/*.[0-9] and plugins/*/*.[0-9]:
#    exit 0 and no message at all
#  - every page given to make install (dist_man_MANS) exists
#  - skipped (77) when configure found no mandoc (MANDOC empty)
set -eu
. "$top_srcdir/test/integration/lib.sh"

[ -n "${MANDOC:-}" ] || skip "mandoc was not found by configure (MANDOC is empty)"
command -v "$MANDOC" >/dev/null 2>&1 || skip "MANDOC=$MANDOC is not runnable"
it_setup

pages=""
for f in "$top_srcdir"/man/*.[0-9] "$top_srcdir"/plugins/*/*.[0-9]; do
	[ -f "$f" ] && pages="$pages $f"
done
[ -n "$pages" ] || fail "no manual pages under man/"
for p in hyproxd.8 hyprox.conf.5 hyprox-plugin.3; do
	[ -f "$top_srcdir/man/$p" ] || fail "man/$p is missing"
done

n=0
for f in $pages; do
	rc=0
	"$MANDOC" -T lint -W warning "$f" >"$T/lint.out" 2>&1 || rc=$?
	if [ "$rc" -ne 0 ] || [ -s "$T/lint.out" ]; then
		cat "$T/lint.out" >&2
		fail "mandoc -T lint -W warning ${f#"$top_srcdir"/}: exit $rc"
	fi
	n=$((n + 1))
done
ok "$n pages lint clean"

it_done

#!/bin/sh
# 20-check: broken configurations are refused with a message naming the
# file, the line and the key.
#
# Covers (hyproxd --check, exit 1, one error line "FILE:LINE:COL: ..."):
#  - hyproxd.yaml: unknown top-level key, unknown nested key (log.colour),
#    bad enum (log.level: verbose), bad duration and duration out of range
#    (drain_timeout), type error (max_sessions: lots), YAML syntax error,
#    missing conf_dir
#  - conf.d: unknown key in 10-good.yaml, type error (tick_ms: abc), the
#    plugin's conf_check refusal (tick_ms: 5, message names tick_ms), two
#    broken plugin files both reported, duplicate plugin names
#    (10-good.yaml and 20-good.yaml), a plugin with no .so
#  - starting the daemon for real with a broken file exits 1, never starts
#  - the good configuration these are derived from passes --check
set -eu
. "$top_srcdir/test/integration/lib.sh"
it_setup
need_plugins good slowstop

# Line of the first match of RE in fixture F.
line_of()
{
	n=$(grep -En -- "$2" "$FIXTURES/$1" | head -n 1 | cut -d: -f1)
	[ -n "$n" ] || fail "fixture $1 has no line matching /$2/"
	echo "$n"
}

# Column (1-based) of the first non-blank on line N of fixture F.
col_of()
{
	awk -v n="$2" 'NR == n { match($0, /[^ ]/); print RSTART }' \
	    "$FIXTURES/$1"
}

# Make a configuration directory from a core fixture and good.yaml.
mkconf()
{
	core_conf "$T/$1" "$2"
	plugin_conf "$T/$1" good.yaml 10-good.yaml
}

# Run --check on directory NAME, expect exit 1 and nothing on stdout.
check_fails()
{
	run_hyproxd "$1" -c "$T/$1/hyproxd.yaml" --check
	expect_rc 1 "$2"
	expect_no_grep 'configuration ok' "$T/$1.out" "$2"
}

# Expect exactly one error line matching RE in NAME.err: one_error NAME RE WHAT.
one_error()
{
	n=$(grep -Ec -- "$2" "$T/$1.err" || :)
	[ "$n" -eq 1 ] || fail "$3: $n lines match /$2/, expected exactly 1"
}

# ---- the baseline ----
mkconf base hyproxd.yaml
run_hyproxd base -c "$T/base/hyproxd.yaml" --check
expect_rc 0 "baseline --check"
ok "the baseline configuration passes --check"

# ---- hyproxd.yaml ----
# Unknown top-level key: exact FILE:LINE:COL.
F=bad-unknown-top.yaml
mkconf top $F
check_fails top "unknown top-level key"
l=$(line_of $F '^listen_port:')
one_error top "^.* err +\\[core\\] $(re_quote "$T/top/hyproxd.yaml"):$l:1: .*'listen_port'" \
    "unknown top-level key: $F:$l:1 naming listen_port"
ok "unknown top-level key: hyproxd.yaml:$l:1"

# Unknown nested key.
F=bad-unknown-nested.yaml
mkconf nested $F
check_fails nested "unknown nested key"
l=$(line_of $F '^  colour:')
c=$(col_of $F "$l")
one_error nested "^.* err +\\[core\\] $(re_quote "$T/nested/hyproxd.yaml"):$l:$c: .*log\\.colour" \
    "unknown nested key: $F:$l:$c naming log.colour"
ok "unknown nested key: hyproxd.yaml:$l:$c log.colour"

# Value not in the enum: the line of the value and the key.
F=bad-enum.yaml
mkconf enum $F
check_fails enum "bad enum"
l=$(line_of $F '^  level: verbose')
one_error enum "$(re_quote "$T/enum/hyproxd.yaml"):$l:[0-9]+: log\\.level: .*'verbose'" \
    "bad enum: $F:$l naming log.level and the value"
ok "bad enum: hyproxd.yaml:$l log.level"

for F in bad-duration.yaml bad-duration-range.yaml; do
	d=${F%.yaml}
	mkconf "$d" "$F"
	check_fails "$d" "$F"
	l=$(line_of "$F" '^drain_timeout:')
	one_error "$d" "$(re_quote "$T/$d/hyproxd.yaml"):$l:[0-9]+: drain_timeout: " \
	    "$F: $l naming drain_timeout"
	ok "$F: hyproxd.yaml:$l drain_timeout"
done

F=bad-type.yaml
mkconf type $F
check_fails type "type error"
l=$(line_of $F '^max_sessions:')
one_error type "$(re_quote "$T/type/hyproxd.yaml"):$l:[0-9]+: max_sessions: .*'lots'" \
    "type error: $F:$l naming max_sessions"
ok "type error: hyproxd.yaml:$l max_sessions"

F=bad-syntax.yaml
mkconf syntax $F
check_fails syntax "YAML syntax error"
l=$(line_of $F '^ format:')
one_error syntax "$(re_quote "$T/syntax/hyproxd.yaml"):$l:[0-9]+: invalid YAML" \
    "YAML syntax error: $F:$l"
ok "YAML syntax error: hyproxd.yaml:$l"

F=bad-confdir.yaml
mkconf confdir $F
check_fails confdir "missing conf_dir"
expect_grep "$(re_quote "$T/confdir/no-such-conf.d")" "$T/confdir.err" \
    "missing conf_dir: the directory is named"
ok "missing conf_dir is named"

# A broken core file stops a real start too, before anything loads.
run_hyproxd top-run -f -c "$T/top/hyproxd.yaml"
expect_rc 1 "hyproxd -f with an unknown key"
expect_grep "hyproxd.yaml:$(line_of bad-unknown-top.yaml '^listen_port:'):1: " \
    "$T/top-run.err" "hyproxd -f with an unknown key: the error"
expect_no_grep 'started|loaded: ' "$T/top-run.err" \
    "hyproxd -f with an unknown key must not start"
ok "hyproxd -f with a broken hyproxd.yaml exits 1"

# ---- conf.d ----
# Unknown key in a plugin file: exact FILE:LINE:COL.
core_conf "$T/punk"
plugin_conf "$T/punk" good-unknown.yaml 10-good.yaml
check_fails punk "unknown key in conf.d/10-good.yaml"
l=$(line_of good-unknown.yaml '^colour:')
one_error punk "^.* err +\\[core\\] $(re_quote "$T/punk/conf.d/10-good.yaml"):$l:1: .*'colour'" \
    "unknown plugin key: 10-good.yaml:$l:1 naming colour"
expect_grep '1 configuration error$' "$T/punk.err" "unknown plugin key: count"
ok "unknown key in conf.d/10-good.yaml:$l:1"

core_conf "$T/ptype"
plugin_conf "$T/ptype" good-type.yaml 10-good.yaml
check_fails ptype "tick_ms: abc"
l=$(line_of good-type.yaml '^tick_ms:')
one_error ptype "$(re_quote "$T/ptype/conf.d/10-good.yaml"):$l:[0-9]+: tick_ms: .*'abc'" \
    "tick_ms: abc: 10-good.yaml:$l naming tick_ms"
ok "type error in conf.d/10-good.yaml:$l tick_ms"

core_conf "$T/pcheck"
plugin_conf "$T/pcheck" good-tick5.yaml 10-good.yaml
check_fails pcheck "tick_ms: 5 (conf_check)"
one_error pcheck "$(re_quote "$T/pcheck/conf.d/10-good.yaml"):.*tick_ms: 5 is below the minimum of 10" \
    "conf_check refusal: the plugin's message with the file"
ok "conf_check refusal names the file and tick_ms"

# Two broken files: both reported, counted.
core_conf "$T/two"
plugin_conf "$T/two" good-unknown.yaml 10-good.yaml
plugin_conf "$T/two" slowstop-type.yaml 20-slowstop.yaml
check_fails two "two broken plugin files"
one_error two "$(re_quote "$T/two/conf.d/10-good.yaml"):[0-9]+:[0-9]+: .*colour" \
    "two broken files: 10-good.yaml"
one_error two "$(re_quote "$T/two/conf.d/20-slowstop.yaml"):$(line_of slowstop-type.yaml '^drain_ms:'):[0-9]+: drain_ms: " \
    "two broken files: 20-slowstop.yaml"
expect_grep '2 configuration errors$' "$T/two.err" "two broken files: count"
ok "two broken plugin files are both reported"

core_conf "$T/dup"
plugin_conf "$T/dup" good.yaml 10-good.yaml
plugin_conf "$T/dup" good.yaml 20-good.yaml
check_fails dup "duplicate plugin names"
one_error dup "$(re_quote "$T/dup/conf.d/10-good.yaml").*$(re_quote "$T/dup/conf.d/20-good.yaml").*'good'" \
    "duplicate plugin: both files and the name"
ok "duplicate plugin names in conf.d"

core_conf "$T/noso"
plugin_conf "$T/noso" good.yaml 10-good.yaml
plugin_conf "$T/noso" empty.yaml 30-nosuchplugin.yaml
check_fails noso "plugin without a .so"
one_error noso "plugin 'nosuchplugin' \\($(re_quote "$T/noso/conf.d/30-nosuchplugin.yaml")\\) refused: .*nosuchplugin\\.so" \
    "plugin without a .so"
ok "a plugin without a .so is refused by --check"

it_done

#!/bin/bash
# layering.sh: src/ keeps its layering rule (check-includes.sh), and the
# check still catches a violation: planted in a copy of the tree, each must
# be reported with its file and line.
set -u
here=$(cd "$(dirname "$0")" && pwd)
src=${top_srcdir:-$here/../..}/src
check=$here/check-includes.sh
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "1..4"
t=0
ok() { t=$((t + 1)); echo "ok $t - $1"; }
not_ok() { t=$((t + 1)); echo "not ok $t - $1"; fail=1; }
fail=0

if out=$("$check" "$src" 2>&1); then
	ok "src/ follows the layering rule"
else
	echo "$out" | sed 's/^/# /'
	not_ok "src/ follows the layering rule"
fi

cp -r "$src" "$tmp/src"
# Line 2 of each file: an upward edge, a second event-loop file, a bare
# include of another room's header.
sed -i '2i #include "lb/lb.h"' "$tmp/src/net/csum.c"
sed -i '2i #include <ev.h>' "$tmp/src/ctl/ctl.c"
sed -i '2i #include "pkt.h"' "$tmp/src/io/io.c"
out=$("$check" "$tmp/src" 2>&1)
rc=$?
echo "$out" | sed 's/^/# /'
[ "$rc" -eq 1 ] && [ "$(echo "$out" | wc -l)" -eq 3 ] && ok "planted violations fail the check, one line each" ||
	not_ok "planted violations fail the check, one line each (exit $rc)"
grep -q "^$tmp/src/net/csum.c:2: net/ may not include \"lb/lb.h\"" <<<"$out" &&
	ok "an upward include is named with its file and line" || not_ok "an upward include is named with its file and line"
grep -q "^$tmp/src/ctl/ctl.c:2: only daemon/loop.c may include ev.h" <<<"$out" &&
	grep -q "^$tmp/src/io/io.c:2: \"pkt.h\" is not in io/" <<<"$out" &&
	ok "ev.h outside the loop file and a bare include of another room are named" ||
	not_ok "ev.h outside the loop file and a bare include of another room are named"
exit $fail

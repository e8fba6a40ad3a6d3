#!/bin/bash
# scripts/check.sh [CONFIGURE_ARGS...]: install dependencies, build with
# sanitizers, run `make check` (unit tests and network-namespace tests),
# then each fuzz target for MSLB_FUZZ_SECONDS (default 60; 0: none).
#
# Root only (the namespace tests create network namespaces). Builds in
# $BUILDDIR (default: _build/sanitizers). Under CI (CI set and not "false")
# MSLB_NO_SKIP=1 makes a skipped test a failure. On failure prints
# test-suite.log. The last line is the summary, from automake's:
#   N passed, N failed[, N skipped]
set -u

top=$(cd "$(dirname "$0")/.." && pwd)
export BUILDDIR=${BUILDDIR:-$top/_build/sanitizers}

if [ "$(id -u)" -ne 0 ]; then
	echo "check.sh: must run as root (deps, network namespaces)" >&2
	exit 1
fi

"$top/scripts/deps.sh" || { echo "check.sh: deps.sh failed" >&2; exit 1; }
"$top/scripts/build.sh" --enable-sanitizers "$@" || { echo "check.sh: build failed" >&2; exit 1; }

if [ -n "${CI:-}" ] && [ "${CI:-}" != false ]; then
	export MSLB_NO_SKIP=1
fi

cd "$BUILDDIR" || exit 1
rm -f test-suite.log
make check AM_COLOR_TESTS=no 2>&1 | tee "$BUILDDIR/check.out"
rc=${PIPESTATUS[0]}

# Each libFuzzer target for a while on its corpus (clang build of its own):
# MSLB_FUZZ_SECONDS each, default 60; 0 skips them.
fuzz_secs=${MSLB_FUZZ_SECONDS:-60}
fuzz_line="fuzz: skipped (MSLB_FUZZ_SECONDS=0)"
fuzz_failed=0
if [ "$fuzz_secs" != 0 ]; then
	if BUILDDIR="$top/_build/fuzz" "$top/scripts/fuzz.sh" "$fuzz_secs"; then
		fuzz_line="fuzz: every target ran ${fuzz_secs} s without a crash"
	else
		fuzz_line="fuzz: FAILED (a crash, or a target that did not build or run)"
		fuzz_failed=1
		rc=1
	fi
fi

if [ "$rc" -ne 0 ] && [ -f test-suite.log ]; then
	echo "==================== test-suite.log ===================="
	cat test-suite.log
	echo "========================================================"
fi

# automake writes "# PASS:  N" etc. in test-suite.log and in its summary.
summary=test-suite.log
[ -f "$summary" ] || summary=$BUILDDIR/check.out
count() { sed -n "s/^# $1: *\([0-9][0-9]*\).*/\1/p" "$summary" | tail -n 1; }
total=$(count TOTAL)
if [ -z "$total" ]; then
	echo "check.sh: no automake test summary (make check failed before running tests, exit $rc)" >&2
	exit 1
fi
pass=$(count PASS) xfail=$(count XFAIL) fail=$(count FAIL) xpass=$(count XPASS)
error=$(count ERROR) skip=$(count SKIP)
passed=$((${pass:-0} + ${xfail:-0}))
failed=$((${fail:-0} + ${xpass:-0} + ${error:-0} + fuzz_failed))
skipped=${skip:-0}
echo "$fuzz_line"
line="$passed passed, $failed failed"
[ "$skipped" -gt 0 ] && line="$line, $skipped skipped"
echo "$line"
[ "$rc" -eq 0 ] && [ "$failed" -eq 0 ]

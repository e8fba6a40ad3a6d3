#!/bin/bash
# scripts/fuzz.sh SECONDS [TARGET...]: build the libFuzzer targets and run
# each for SECONDS on a copy of its checked-in corpus.
# scripts/fuzz.sh --seeds: rewrite the seedgen corpora in tests/fuzz/corpus.
#
# Builds with `CC=clang scripts/build.sh --enable-fuzzing` in $BUILDDIR
# (default _build/fuzz). Targets (default all): fuzz_pkt fuzz_path
# fuzz_config fuzz_ctl fuzz_rdr fuzz_health. One at a time, one process each (the machine is
# shared). New inputs go to $BUILDDIR/fuzz-run/TARGET/corpus, never into
# the tree.
# Prints per target: executions, exec/s, cov, ft, crashes; a crashing
# input is kept in $BUILDDIR/fuzz-run/TARGET/ and its path printed. Exits
# non-zero on any crash (or a target that did not run). Root not needed.
set -u

top=$(cd "$(dirname "$0")/.." && pwd)
export BUILDDIR=${BUILDDIR:-$top/_build/fuzz}
all_targets="fuzz_pkt fuzz_path fuzz_config fuzz_ctl fuzz_rdr fuzz_health"

usage() {
	echo "usage: scripts/fuzz.sh SECONDS [TARGET...] | --seeds (targets: $all_targets)" >&2
	exit 2
}

[ $# -ge 1 ] || usage
build() {
	if [ -x "$BUILDDIR/tests/fuzz/fuzz_pkt" ] && [ -f "$BUILDDIR/config.status" ] &&
		grep -q -- '--enable-fuzzing' "$BUILDDIR/config.status"; then
		make -C "$BUILDDIR" -j"$(nproc)" >"$BUILDDIR/fuzz-build.log" 2>&1 ||
			{ cat "$BUILDDIR/fuzz-build.log"; echo "fuzz.sh: make failed" >&2; exit 1; }
	else
		mkdir -p "$BUILDDIR" || exit 1
		CC=clang "$top/scripts/build.sh" --enable-fuzzing >"$BUILDDIR/fuzz-build.log" 2>&1 ||
			{ cat "$BUILDDIR/fuzz-build.log"; echo "fuzz.sh: build failed" >&2; exit 1; }
	fi
}

if [ "$1" = --seeds ]; then
	build
	make -C "$BUILDDIR" tests/fuzz/seedgen >>"$BUILDDIR/fuzz-build.log" 2>&1 ||
		{ echo "fuzz.sh: seedgen failed to build" >&2; exit 1; }
	# seedgen writes these three; fuzz_ctl's, fuzz_rdr's and fuzz_health's few seeds are written by hand.
	# They are made aside and replace the tree's only when seedgen succeeds.
	new=$BUILDDIR/seeds.new
	rm -rf "$new" && mkdir -p "$new" || exit 1
	"$BUILDDIR/tests/fuzz/seedgen" "$new" "$top" || { echo "fuzz.sh: seedgen failed; corpus unchanged" >&2; exit 1; }
	for t in fuzz_pkt fuzz_path fuzz_config; do
		# Inputs kept as regression tests (regress-*) are not seedgen's: they stay.
		cp "$top/tests/fuzz/corpus/$t"/regress-* "$new/$t/" 2>/dev/null
		rm -rf "$top/tests/fuzz/corpus/$t" && mv "$new/$t" "$top/tests/fuzz/corpus/$t" || exit 1
	done
	du -sh "$top/tests/fuzz/corpus"/*
	exit 0
fi

secs=$1
shift
case $secs in '' | *[!0-9]*) usage ;; esac
targets=${*:-$all_targets}
for t in $targets; do
	case " $all_targets " in *" $t "*) ;; *) echo "fuzz.sh: no target $t" >&2; usage ;; esac
done

build
export LSAN_OPTIONS="suppressions=$top/tests/fuzz/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
export UBSAN_OPTIONS="print_stacktrace=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"

failed=0
for t in $targets; do
	run=$BUILDDIR/fuzz-run/$t
	rm -rf "$run"
	mkdir -p "$run/corpus" || exit 1
	cp "$top/tests/fuzz/corpus/$t/"* "$run/corpus/" 2>/dev/null
	echo "fuzz.sh: $t for ${secs}s (log $run/log)"
	(cd "$run" && "$BUILDDIR/tests/fuzz/$t" -max_total_time="$secs" -print_final_stats=1 \
		-timeout=10 -rss_limit_mb=2048 -artifact_prefix="$run/" corpus) >"$run/log" 2>&1
	rc=$?
	stat() { sed -n "s/^stat::$1: *\([0-9]*\).*/\1/p" "$run/log" | tail -n 1; }
	last=$(grep -E '^#[0-9]+' "$run/log" | tail -n 1)
	cov=$(echo "$last" | sed -n 's/.* cov: \([0-9]*\).*/\1/p')
	ft=$(echo "$last" | sed -n 's/.* ft: \([0-9]*\).*/\1/p')
	crashes=$(find "$run" -maxdepth 1 -type f \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' \
		-o -name 'oom-*' \) | sort)
	n=$(echo "$crashes" | grep -c .)
	echo "$t: executions $(stat number_of_executed_units), exec/s $(stat average_exec_per_sec)," \
		"cov ${cov:-?}, ft ${ft:-?}, crashes $n"
	if [ "$n" -gt 0 ] || [ "$rc" -ne 0 ]; then
		failed=1
		grep -E 'fuzz invariant broken|ERROR: |SUMMARY: ' "$run/log" | head -n 5
		for c in $crashes; do echo "$t: crashing input $c"; done
		[ "$n" -gt 0 ] || echo "$t: exited $rc, see $run/log"
	fi
done
exit $failed

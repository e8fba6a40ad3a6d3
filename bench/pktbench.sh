#!/bin/bash
# bench/pktbench.sh: the pure packet path without I/O. Prints packets/s per
# core from bench/pktbench, and instructions per translation from callgrind
# (two runs of different lengths, so start-up cost cancels out): the rate
# depends on the machine and its load, the instruction count does not.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
b=${BUILDDIR:-$top/_build}
make -s -C "$b" bench/pktbench >/dev/null || { echo "pktbench.sh: build failed" >&2; exit 1; }
for args in "4 tcp" "6 tcp" "4 udp" "4 mptcp" "4 encap split" "6 encap split"; do
	# shellcheck disable=SC2086
	"$b/bench/pktbench" 20 $args || exit 1
done
if command -v valgrind >/dev/null; then
	ir() { # ir MILLIONS ARGS...: total instructions of one run
		local out; out=$(mktemp)
		# shellcheck disable=SC2086
		valgrind --tool=callgrind --callgrind-out-file="$out" "$b/bench/pktbench" "$@" >/dev/null 2>&1 || { rm -f "$out"; return 1; }
		sed -n 's/^summary: //p' "$out"; rm -f "$out"
	}
	for args in "4 tcp" "6 tcp" "4 udp" "4 mptcp" "4 encap" "6 encap"; do
		# shellcheck disable=SC2086
		a=$(ir 0.1 $args) b2=$(ir 0.3 $args) || { echo "callgrind failed" >&2; exit 1; }
		# 0.2 million more round trips, two translations each.
		echo "IPv${args% *} ${args#* }: $(( (b2 - a) / 400000 )) instructions per rewrite (callgrind)"
	done
else
	echo "(valgrind not installed: no instruction counts)"
fi

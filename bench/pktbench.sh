#!/bin/bash
# bench/pktbench.sh: the pure packet path without I/O. Prints packets/s per
# core from bench/pktbench, and instructions per translation from callgrind
# (two runs of different lengths, so start-up cost cancels out): the rate
# depends on the machine and its load, the instruction count does not.
# Then the same against size: per packet with 2 and with 10,000 services
# and back addresses, and the time to load, lb_create and reload (without
# netlink) 100,000 table entries and 10,000 services (bench/bigconf.sh).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
b=${BUILDDIR:-$top/_build}
make -s -C "$b" bench/pktbench >/dev/null || { echo "pktbench.sh: build failed" >&2; exit 1; }
for args in "4 tcp" "6 tcp" "4 udp" "4 mptcp" "4 p2" "6 p2" "4 p2back" "6 p2back" "4 persist" "6 persist" \
	"4 encap split" "6 encap split"; do
	# shellcheck disable=SC2086
	"$b/bench/pktbench" 20 $args || exit 1
done
"$b/bench/pktbench" scale 4 2 10000 || exit 1
tmp=$(mktemp -d)
"$top/bench/bigconf.sh" 100000 >"$tmp/table.conf"
"$top/bench/bigconf.sh" 0 10000 10000 >"$tmp/services.conf"
"$b/bench/pktbench" load "$tmp/table.conf" "$tmp/services.conf" || { rm -rf "$tmp"; exit 1; }
rm -rf "$tmp"
if command -v valgrind >/dev/null; then
	ir() { # ir ARGS...: total instructions of one run of pktbench ARGS
		local out; out=$(mktemp)
		# shellcheck disable=SC2086
		valgrind --tool=callgrind --callgrind-out-file="$out" "$b/bench/pktbench" "$@" >/dev/null 2>&1 || { rm -f "$out"; return 1; }
		sed -n 's/^summary: //p' "$out"; rm -f "$out"
	}
	for args in "4 tcp" "6 tcp" "4 udp" "4 mptcp" "4 p2" "4 persist" "4 encap" "6 encap"; do
		# shellcheck disable=SC2086
		a=$(ir 0.1 $args) b2=$(ir 0.3 $args) || { echo "callgrind failed" >&2; exit 1; }
		# 0.2 million more round trips, two translations each.
		echo "IPv${args% *} ${args#* }: $(( (b2 - a) / 400000 )) instructions per rewrite (callgrind)"
	done
	a=$(ir 0.1 4 p2back) b2=$(ir 0.3 4 p2back) || { echo "callgrind failed" >&2; exit 1; }
	echo "IPv4 p2back: $(( (b2 - a) / 200000 )) instructions per server segment (callgrind)"
	for n in 2 10000; do
		a=$(ir scale 0.05 "$n") b2=$(ir scale 0.15 "$n") || { echo "callgrind failed" >&2; exit 1; }
		echo "scale $n services and $n back addresses: $(( (b2 - a) / 100000 )) instructions per packet (callgrind)"
	done
else
	echo "(valgrind not installed: no instruction counts)"
fi

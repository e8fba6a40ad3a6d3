#!/bin/bash
# check-includes.sh [SRCDIR]: the layering rule of src/, read from the
# #include lines. Each folder of SRCDIR (default: the tree's src) is a room;
# a bare "x.h" must be a header of the same room, "room/x.h" one of a room
# this room may include (ALLOWED below), and only daemon/loop.c may include
# ev.h: every event-loop call lives there. Prints FILE:LINE: problem for
# each violation and exits 1 if there was one, 0 otherwise.
set -u
src=${1:-$(cd "$(dirname "$0")/../../src" && pwd)}

# What each room may include besides itself. Keep README.md's tree map in step.
declare -A ALLOWED=(
	[base]=""
	[net]="base"
	[config]="base"
	[redirect]="config base"
	[health]="net config base"
	[lb]="redirect net config base"
	[host]="config base"
	[io]="net host config base"
	[ctl]="lb redirect health io net config base"
	[daemon]="ctl lb redirect health io host net config base"
	[.]="daemon"	# main.c
)

bad=0
complain() { echo "$1:$2: $3"; bad=1; }

cd "$src" || { echo "check-includes.sh: no such directory: $src" >&2; exit 2; }
while IFS= read -r f; do
	f=${f#./}
	room=$(dirname "$f")
	if [ -z "${ALLOWED[$room]+set}" ]; then
		complain "$src/$f" 1 "$room/ is not a known room (rooms: ${!ALLOWED[*]}); add it to check-includes.sh with what it may include"
		continue
	fi
	n=0
	while IFS= read -r line; do
		n=$((n + 1))
		case $line in
		'#include <ev.h>'* | '#include "ev.h"'*)
			[ "$f" = daemon/loop.c ] ||
				complain "$src/$f" "$n" "only daemon/loop.c may include ev.h (the one event-loop file)"
			continue ;;
		'#include "'*) ;;
		*) continue ;;
		esac
		inc=${line#'#include "'}
		inc=${inc%%'"'*}
		case $inc in
		*/*)
			to=${inc%%/*}
			if [ ! -f "$inc" ]; then
				complain "$src/$f" "$n" "\"$inc\" is not a header of src/"
			elif [ "$to" = "$room" ]; then
				complain "$src/$f" "$n" "\"$inc\" is in this room: include it as \"${inc#*/}\""
			elif ! [[ " ${ALLOWED[$room]} " == *" $to "* ]]; then
				complain "$src/$f" "$n" "$room/ may not include \"$inc\" (allowed: ${ALLOWED[$room]:-libc only}${ALLOWED[$room]:+ and its own room})"
			fi ;;
		*)
			[ -f "$room/$inc" ] ||
				complain "$src/$f" "$n" "\"$inc\" is not in $room/: name its room, as \"room/$inc\""
			;;
		esac
	done < "$f"
done < <(find . -name '*.[ch]' | sort)
exit $bad

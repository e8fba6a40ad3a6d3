#!/bin/bash
# scripts/build.sh [CONFIGURE_ARGS...]: autoreconf, configure, make.
#
# Builds out of tree, in $BUILDDIR (default: _build in the source tree, which
# git ignores); BUILDDIR=. builds in the source tree. Arguments go to
# configure, e.g. scripts/build.sh --enable-sanitizers.
# The daemon ends up in $BUILDDIR/src/mslbd.
set -u

top=$(cd "$(dirname "$0")/.." && pwd)
builddir=${BUILDDIR:-$top/_build}

cd "$top" || exit 1
echo "build.sh: autoreconf -fi in $top"
autoreconf -fi || { echo "build.sh: autoreconf failed" >&2; exit 1; }

mkdir -p "$builddir" || exit 1
builddir=$(cd "$builddir" && pwd)
if [ "$builddir" != "$top" ] && [ -f "$top/config.status" ]; then
	echo "build.sh: $top is configured in tree; an out-of-tree build in $builddir" >&2
	echo "build.sh: needs 'make distclean' there first (or run with BUILDDIR=.)" >&2
	exit 1
fi

cd "$builddir" || exit 1
echo "build.sh: configure $* (in $builddir)"
"$top/configure" "$@" || { echo "build.sh: configure failed, see $builddir/config.log" >&2; exit 1; }
make -j"$(nproc)" || { echo "build.sh: make failed" >&2; exit 1; }
echo "build.sh: built $builddir/src/mslbd"
